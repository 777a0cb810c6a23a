package org.leukolab.data;

import java.util.List;
import java.util.Map;

/**
 * What leukolab knows about a dataset: its official source and citation, and what a complete copy
 * looks like. Read from {@code data-scripts/datasets.json}, the file the fetch script also uses.
 *
 * @param imageRoot  folder (relative to the dataset folder) holding the split or class folders
 * @param layout     {@code split/class}, {@code class} or {@code npz}
 * @param sample     id of a smaller sample of this dataset that offline mirrors carry, or null
 * @param sampleOf   for a sample: the id of the full dataset, else null
 */
public record DatasetSpec(String id, String title, List<String> usedBy, String homepage, String citation,
                          String license, String imageRoot, String layout, List<String> splits,
                          List<String> classes, Map<String, Integer> expectedImages, String sample,
                          String sampleOf) {
    public boolean isSample() {
        return sampleOf != null;
    }
}

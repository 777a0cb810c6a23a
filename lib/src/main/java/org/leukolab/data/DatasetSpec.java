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
 * @param standin    id of a stand-in that offline mirrors carry instead of this dataset (same kind of data,
 *                   not the same images), or null
 * @param standinOf  for a stand-in: the id (or description) of what it stands in for, else null
 * @param file       for single-file datasets ({@code npz}): the file's name in the dataset folder, else null
 */
public record DatasetSpec(String id, String title, List<String> usedBy, String homepage, String citation,
                          String license, String imageRoot, String layout, List<String> splits,
                          List<String> classes, Map<String, Integer> expectedImages, String sample,
                          String sampleOf, String standin, String standinOf, String file) {
    public boolean isSample() {
        return sampleOf != null;
    }

    public boolean isStandin() {
        return standinOf != null;
    }

    /** The id of what offline mirrors carry in place of this dataset: its sample or its stand-in (or null). */
    public String substitute() {
        return sample != null ? sample : standin;
    }
}

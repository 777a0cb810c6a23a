package org.leukolab.data;

import java.nio.file.Path;
import java.util.List;

/**
 * An installed dataset: its description and the folder it is in.
 *
 * @param substituteFor when this is a sample used because the full dataset is absent, the id of the
 *                      full dataset; otherwise null
 */
public record Dataset(DatasetSpec spec, Path dir, String substituteFor) {
    public String id() {
        return spec.id();
    }

    /** Folder holding the split or class folders. */
    public Path imageRoot() {
        return dir.resolve(spec.imageRoot() == null ? "." : spec.imageRoot()).normalize();
    }

    public boolean isSample() {
        return spec.isSample();
    }

    /** Scans the images (see {@link ImageIndex#scan}), checking the splits a complete copy has. */
    public ImageIndex index() {
        List<String> splits = spec.splits() == null ? List.of() : spec.splits();
        return ImageIndex.scan(imageRoot(), spec.id(), splits);
    }

    /** A sentence for notebooks: which copy this is. */
    public String describe() {
        String s = spec.id() + ": " + spec.title() + " (" + dir + ")";
        if (substituteFor != null) {
            s += ". NOTE: this is only a SAMPLE; the full '" + substituteFor + "' dataset is not installed here "
                    + "(fetch it with: " + DatasetCatalog.FETCH_COMMAND + " " + substituteFor
                    + "), so numbers computed on it are not comparable with the report's";
        }
        return s;
    }
}

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

    /** True for a stand-in: data of the same kind built another way, not the dataset the report used. */
    public boolean isStandin() {
        return spec.isStandin();
    }

    /**
     * What the data is, in one word for tables and result files: {@code full}, {@code sample} or
     * {@code stand-in}.
     */
    public String kind() {
        return isSample() ? "sample" : isStandin() ? "stand-in" : "full";
    }

    /**
     * Indexes the images: a folder dataset is scanned (see {@link ImageIndex#scan}) and checked for the splits
     * a complete copy has; an npz dataset is read with its official splits ({@link NpzImages}).
     */
    public ImageIndex index() {
        if ("npz".equals(spec.layout())) {
            if (spec.file() == null) {
                throw new IllegalStateException(spec.id() + ": datasets.json names no npz file for this dataset");
            }
            return NpzImages.index(dir.resolve(spec.file()), spec.id(), spec.classes());
        }
        List<String> splits = spec.splits() == null ? List.of() : spec.splits();
        return ImageIndex.scan(imageRoot(), spec.id(), splits);
    }

    /** A sentence for notebooks: which copy this is. */
    public String describe() {
        String s = spec.id() + ": " + spec.title() + " (" + dir + ")";
        if (substituteFor != null && isStandin()) {
            s += ". NOTE: this is a STAND-IN; '" + substituteFor + "' is not installed here (fetch it with: "
                    + DatasetCatalog.FETCH_COMMAND + " " + substituteFor + "), so numbers computed on it are comparable "
                    + "in kind with the report's, not digit for digit";
        } else if (isStandin()) {
            s += ". NOTE: this is a STAND-IN for " + spec.standinOf() + ": numbers computed on it are comparable in kind "
                    + "with the report's, not digit for digit";
        } else if (substituteFor != null) {
            s += ". NOTE: this is only a SAMPLE; the full '" + substituteFor + "' dataset is not installed here "
                    + "(fetch it with: " + DatasetCatalog.FETCH_COMMAND + " " + substituteFor
                    + "), so numbers computed on it are not comparable with the report's";
        }
        return s;
    }
}

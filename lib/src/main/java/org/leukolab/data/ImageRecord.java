package org.leukolab.data;

import java.nio.file.Path;

/**
 * One image of an index: where it is, its class and split, which dataset it came from, and what its
 * header says (width, height, channels; -1 where the header does not tell without decoding).
 *
 * @param split the split folder it was found in ({@code TRAIN}, {@code Test}, ...), or {@code all}
 *              for datasets that ship without splits
 */
public record ImageRecord(Path path, String label, String split, String source,
                          ImageFileCheck.Format format, int width, int height, int channels, long bytes) {
    /** The split name given to images of datasets that have no split folders. */
    public static final String NO_SPLIT = "all";

    public String fileName() {
        return path.getFileName().toString();
    }

    /** The same image under another split name (used when a split is derived from another). */
    public ImageRecord withSplit(String newSplit) {
        return new ImageRecord(path, label, newSplit, source, format, width, height, channels, bytes);
    }
}

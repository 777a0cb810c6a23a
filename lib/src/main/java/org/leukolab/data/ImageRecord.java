package org.leukolab.data;

import java.nio.file.Path;

/**
 * One image of an index: where it is, its class and split, which dataset it came from, and what its
 * header says (width, height, channels; -1 where the header does not tell without decoding).
 *
 * @param path   the image file; for an image held in an array ({@code array != null}), a name that identifies
 *               it, {@code <array file>!/<split>/<row>} (e.g. {@code .../bloodmnist.npz!/train/000042})
 * @param split  the split folder it was found in ({@code TRAIN}, {@code Test}, ...), the array's split
 *               ({@code train}, {@code val}, {@code test}), or {@code all} for datasets without splits
 * @param source the dataset it came from (kept through label merges: a merged index knows each image's origin)
 * @param array  where the pixels are when they are not in a file, else null
 */
public record ImageRecord(Path path, String label, String split, String source,
                          ImageFileCheck.Format format, int width, int height, int channels, long bytes,
                          ArrayImages.Row array) {
    /** The split name given to images of datasets that have no split folders. */
    public static final String NO_SPLIT = "all";

    /** An image file. */
    public ImageRecord(Path path, String label, String split, String source, ImageFileCheck.Format format,
                       int width, int height, int channels, long bytes) {
        this(path, label, split, source, format, width, height, channels, bytes, null);
    }

    /** True for an image held in an array rather than a file of its own. */
    public boolean inArray() {
        return array != null;
    }

    /** The file on disk the pixels come from: the image file, or the array's file (npz). */
    public Path backingFile() {
        return array == null ? path : array.images().file();
    }

    /** The same image under another class name (label merges). */
    public ImageRecord withLabel(String newLabel) {
        return new ImageRecord(path, newLabel, split, source, format, width, height, channels, bytes, array);
    }

    public String fileName() {
        return path.getFileName().toString();
    }

    /** The same image under another split name (used when a split is derived from another). */
    public ImageRecord withSplit(String newSplit) {
        return new ImageRecord(path, label, newSplit, source, format, width, height, channels, bytes, array);
    }
}

package org.leukolab.data;

import java.nio.file.Path;

/**
 * One thing found wrong (or changed) in a dataset's files, with what was done about it. Loaders never
 * drop a file silently: every skipped or converted file becomes one of these, shown in the summary.
 *
 * @param file   the file or folder concerned
 * @param kind   what is wrong
 * @param detail the specifics, in words
 * @param action what the loader did: {@code skipped}, {@code converted}, {@code ignored} or {@code loaded, flagged}
 */
public record DataIssue(Path file, Kind kind, String detail, String action) {
    public enum Kind {
        /** Has an image extension but is some other kind of file. */
        NOT_AN_IMAGE,
        /** An image file cut short. */
        TRUNCATED,
        /** Zero bytes. */
        EMPTY_FILE,
        /** The operating system refused to read it. */
        UNREADABLE,
        /** A file without an image extension inside a class folder (e.g. {@code Thumbs.db}). */
        NOT_IMAGE_FILE,
        /** A class folder with no images in it. */
        EMPTY_CLASS_FOLDER,
        /** Passed the checks but the decoder could not decode it. */
        DECODE_FAILED,
        /** Decoded, then converted to 8-bit RGB (grayscale, alpha, 16-bit, palette). */
        CONVERTED,
        /** Decoded with a warning from the decoder (e.g. libjpeg's "premature end of data segment"): kept, flagged. */
        DECODE_WARNING,
        /** A split (e.g. an npz file's {@code val_images}) that holds no images. */
        EMPTY_SPLIT,
        /** Two class folders whose names differ only in upper and lower case (e.g. {@code Good/} and {@code good/}). */
        CLASS_NAMES_DIFFER_IN_CASE,
        /** A folder an operating system or archiver added (e.g. macOS's {@code __MACOSX}): not part of the data. */
        OS_METADATA
    }

    public static DataIssue skipped(Path file, Kind kind, String detail) {
        return new DataIssue(file, kind, detail, "skipped");
    }

    @Override
    public String toString() {
        return action + ": " + file + ": " + detail;
    }
}

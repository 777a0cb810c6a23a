package org.leukolab.data;

/**
 * A dataset that cannot be used as asked, with a message that names the file or folder and says what
 * to do. Subclasses say which kind of problem it is.
 */
public class DatasetException extends RuntimeException {
    public DatasetException(String message) {
        super(message);
    }

    /** The dataset is not installed (or not where it was looked for). */
    public static final class Missing extends DatasetException {
        public Missing(String message) {
            super(message);
        }
    }

    /** The folder structure is not one leukolab understands, or an expected part is absent. */
    public static final class Layout extends DatasetException {
        public Layout(String message) {
            super(message);
        }
    }

    /** A split was asked for that the dataset does not have. */
    public static final class NoSuchSplit extends DatasetException {
        public NoSuchSplit(String message) {
            super(message);
        }
    }
}

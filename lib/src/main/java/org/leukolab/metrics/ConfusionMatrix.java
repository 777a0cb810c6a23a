package org.leukolab.metrics;

import java.util.List;
import java.util.Map;
import org.leukolab.notebook.Rich;
import org.leukolab.notebook.Tables;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Counts of (actual class, predicted class) pairs. Rows are actual classes, columns predicted.
 *
 * <p>A prediction of {@value #NO_CLASS} means the model named no class at all (report 002's one-hot
 * Random Forest does this when no output fires); such images are counted in a separate "(no class)"
 * column: wrong for accuracy and recall, and not a prediction of any class for precision.
 */
public final class ConfusionMatrix implements Rich {
    /** The predicted label of an image for which the model named no class. */
    public static final int NO_CLASS = -1;

    private final List<String> classes;
    private final long[][] counts;
    private final long[] noClass;

    private ConfusionMatrix(List<String> classes, long[][] counts, long[] noClass) {
        this.classes = List.copyOf(classes);
        this.counts = counts;
        this.noClass = noClass;
    }

    /** Builds the matrix from label indices into {@code classes}. */
    public static ConfusionMatrix of(int[] actual, int[] predicted, List<String> classes) {
        if (actual.length != predicted.length) {
            throw new IllegalArgumentException(actual.length + " actual labels but " + predicted.length + " predictions");
        }
        int k = classes.size();
        long[][] c = new long[k][k];
        long[] none = new long[k];
        for (int i = 0; i < actual.length; i++) {
            check(actual[i], k, "actual", i);
            if (predicted[i] == NO_CLASS) {
                none[actual[i]]++;
                continue;
            }
            check(predicted[i], k, "predicted", i);
            c[actual[i]][predicted[i]]++;
        }
        return new ConfusionMatrix(classes, c, none);
    }

    /** A matrix from stored counts ({@code [actual][predicted]}, and per actual class the images given no class). */
    public static ConfusionMatrix fromCounts(List<String> classes, long[][] counts, long[] noClass) {
        int k = classes.size();
        if (counts.length != k || (noClass != null && noClass.length != k)) {
            throw new IllegalArgumentException("counts do not match " + k + " classes");
        }
        long[][] c = new long[k][];
        for (int i = 0; i < k; i++) {
            if (counts[i].length != k) {
                throw new IllegalArgumentException("row " + i + " has " + counts[i].length + " columns, expected " + k);
            }
            c[i] = counts[i].clone();
        }
        return new ConfusionMatrix(classes, c, noClass == null ? new long[k] : noClass.clone());
    }

    private static void check(int label, int k, String what, int i) {
        if (label < 0 || label >= k) {
            throw new IllegalArgumentException(what + " label " + label + " at position " + i
                    + " is outside the " + k + " classes");
        }
    }

    public List<String> classes() {
        return classes;
    }

    /** Images of class {@code actual} predicted as {@code predicted}. */
    public long count(int actual, int predicted) {
        return counts[actual][predicted];
    }

    public long total() {
        long t = 0;
        for (long[] row : counts) {
            for (long v : row) {
                t += v;
            }
        }
        for (long v : noClass) {
            t += v;
        }
        return t;
    }

    /** Images of class {@code actual} for which no class was predicted. */
    public long noClass(int actual) {
        return noClass[actual];
    }

    public long noClassTotal() {
        long t = 0;
        for (long v : noClass) {
            t += v;
        }
        return t;
    }

    public long correct() {
        long t = 0;
        for (int i = 0; i < counts.length; i++) {
            t += counts[i][i];
        }
        return t;
    }

    /** Row sum: how many images truly belong to the class (including those given no class). */
    public long actualCount(int c) {
        long t = noClass[c];
        for (long v : counts[c]) {
            t += v;
        }
        return t;
    }

    /** Column sum: how many images were predicted as the class. */
    public long predictedCount(int c) {
        long t = 0;
        for (long[] row : counts) {
            t += row[c];
        }
        return t;
    }

    /** Share of all images predicted correctly (0 for an empty matrix). */
    public double accuracy() {
        long n = total();
        return n == 0 ? 0 : (double) correct() / n;
    }

    /** Of the images predicted as {@code c}, the share that are {@code c}; 0 if none was (scikit-learn's default). */
    public double precision(int c) {
        long p = predictedCount(c);
        return p == 0 ? 0 : (double) count(c, c) / p;
    }

    /** Of the images of class {@code c}, the share predicted as {@code c}; 0 if there are none. */
    public double recall(int c) {
        long a = actualCount(c);
        return a == 0 ? 0 : (double) count(c, c) / a;
    }

    /** Harmonic mean of precision and recall; 0 when both are 0. */
    public double f1(int c) {
        double p = precision(c);
        double r = recall(c);
        return p + r == 0 ? 0 : 2 * p * r / (p + r);
    }

    /**
     * The unweighted mean of a per-class value over the classes that occur, as labels or as predictions
     * (scikit-learn's default {@code labels}): a class absent from both does not count as a zero, so the macro
     * average of a subset of images (one source, say) is over that subset's classes.
     */
    public double macro(java.util.function.IntToDoubleFunction perClass) {
        double s = 0;
        int k = 0;
        for (int c = 0; c < classes.size(); c++) {
            if (actualCount(c) > 0 || predictedCount(c) > 0) {
                s += perClass.applyAsDouble(c);
                k++;
            }
        }
        return k == 0 ? 0 : s / k;
    }

    /** The mean of a per-class value weighted by each class's number of images. */
    public double weighted(java.util.function.IntToDoubleFunction perClass) {
        long n = total();
        double s = 0;
        for (int c = 0; c < classes.size(); c++) {
            s += perClass.applyAsDouble(c) * actualCount(c);
        }
        return n == 0 ? 0 : s / n;
    }

    public double macroF1() {
        return macro(this::f1);
    }

    public double weightedF1() {
        return weighted(this::f1);
    }

    /** A copy of the counts, {@code [actual][predicted]}. */
    public long[][] counts() {
        long[][] copy = new long[counts.length][];
        for (int i = 0; i < counts.length; i++) {
            copy[i] = counts[i].clone();
        }
        return copy;
    }

    /** Rows: actual class; one column per predicted class. */
    public Table table() {
        Table t = Table.create("confusion matrix (rows: actual, columns: predicted)");
        t.addColumns(StringColumn.create("actual", classes));
        for (int p = 0; p < classes.size(); p++) {
            int[] col = new int[classes.size()];
            for (int a = 0; a < classes.size(); a++) {
                col[a] = Math.toIntExact(counts[a][p]);
            }
            t.addColumns(IntColumn.create(classes.get(p), col));
        }
        if (noClassTotal() > 0) {
            int[] col = new int[classes.size()];
            for (int a = 0; a < classes.size(); a++) {
                col[a] = Math.toIntExact(noClass[a]);
            }
            t.addColumns(IntColumn.create("(no class)", col));
        }
        return t;
    }

    @Override
    public String toString() {
        return table().print();
    }

    @Override
    public Map<String, Object> mimeBundle() {
        return Tables.bundle(table());
    }
}

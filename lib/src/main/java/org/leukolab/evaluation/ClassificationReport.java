package org.leukolab.evaluation;

import org.leukolab.metrics.ConfusionMatrix;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.leukolab.notebook.Rich;
import org.leukolab.notebook.Tables;
import org.nd4j.linalg.api.ndarray.INDArray;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Accuracy; per-class precision, recall, F1 and support; macro and weighted averages — the usual
 * classification report, computed from a {@link ConfusionMatrix}.
 *
 * <p>Where a ratio has a zero denominator (a class never predicted has no precision; a class absent
 * from the labels has no recall) it is reported as 0, as scikit-learn does by default, and
 * {@link #undefined()} lists those cases so they are not mistaken for measured zeros.
 */
public final class ClassificationReport implements Rich {
    private final ConfusionMatrix cm;
    private final String title;

    private ClassificationReport(ConfusionMatrix cm, String title) {
        this.cm = cm;
        this.title = title;
    }

    public static ClassificationReport of(int[] actual, int[] predicted, List<String> classes) {
        return new ClassificationReport(ConfusionMatrix.of(actual, predicted, classes), "classification report");
    }

    public static ClassificationReport of(ConfusionMatrix cm) {
        return new ClassificationReport(cm, "classification report");
    }

    /** From class probabilities (or scores) {@code [n, classes]}: the prediction is the arg-max. */
    public static ClassificationReport fromScores(INDArray scores, int[] actual, List<String> classes) {
        return of(actual, argMax(scores), classes);
    }

    /** Row-wise arg-max of a {@code [n, k]} matrix. */
    public static int[] argMax(INDArray scores) {
        return scores.argMax(1).toIntVector();
    }

    /** The same numbers under a title (shown in tables and text). */
    public ClassificationReport titled(String newTitle) {
        return new ClassificationReport(cm, newTitle);
    }

    public String title() {
        return title;
    }

    public ConfusionMatrix confusion() {
        return cm;
    }

    public List<String> classes() {
        return cm.classes();
    }

    public double accuracy() {
        return cm.accuracy();
    }

    public double precision(int c) {
        return cm.precision(c);
    }

    public double recall(int c) {
        return cm.recall(c);
    }

    public double f1(int c) {
        return cm.f1(c);
    }

    public long support(int c) {
        return cm.actualCount(c);
    }

    public double macroPrecision() {
        return cm.macro(cm::precision);
    }

    public double macroRecall() {
        return cm.macro(cm::recall);
    }

    public double macroF1() {
        return cm.macroF1();
    }

    public double weightedPrecision() {
        return cm.weighted(cm::precision);
    }

    public double weightedRecall() {
        return cm.weighted(cm::recall);
    }

    public double weightedF1() {
        return cm.weightedF1();
    }

    /** Per-class ratios that were reported as 0 because their denominator was 0. */
    public List<String> undefined() {
        List<String> out = new ArrayList<>();
        for (int c = 0; c < classes().size(); c++) {
            if (cm.predictedCount(c) == 0) {
                out.add("precision of " + classes().get(c) + " (never predicted)");
            }
            if (cm.actualCount(c) == 0) {
                out.add("recall of " + classes().get(c) + " (no such images)");
            }
        }
        return out;
    }

    /**
     * Rows: one per class, then {@code accuracy}, {@code macro avg}, {@code weighted avg};
     * columns: precision, recall, f1, support (accuracy's value is in the f1 column, as scikit-learn
     * prints it; its precision and recall cells are missing values).
     */
    public Table table() {
        List<String> rows = new ArrayList<>(classes());
        int k = classes().size();
        DoubleColumn p = DoubleColumn.create("precision");
        DoubleColumn r = DoubleColumn.create("recall");
        DoubleColumn f = DoubleColumn.create("f1");
        IntColumn s = IntColumn.create("support");
        for (int c = 0; c < k; c++) {
            p.append(precision(c));
            r.append(recall(c));
            f.append(f1(c));
            s.append(Math.toIntExact(support(c)));
        }
        int n = Math.toIntExact(cm.total());
        rows.add("accuracy");
        p.appendMissing();
        r.appendMissing();
        f.append(accuracy());
        s.append(n);
        rows.add("macro avg");
        p.append(macroPrecision());
        r.append(macroRecall());
        f.append(macroF1());
        s.append(n);
        rows.add("weighted avg");
        p.append(weightedPrecision());
        r.append(weightedRecall());
        f.append(weightedF1());
        s.append(n);
        return Tables.rounded(Table.create(title, StringColumn.create("class", rows), p, r, f, s), 4);
    }

    /**
     * The layout scikit-learn prints for multi-label (one-hot) predictions, as report 002 printed its
     * Random Forest: per-class rows, then micro, macro, weighted and samples averages, with
     * {@code zero_division=1} (a ratio with nothing to divide by counts as 1, as the report chose).
     * Each image has exactly one true class; images given no class predict no label.
     */
    public Table multilabelTable() {
        int k = classes().size();
        long n = cm.total();
        List<String> rows = new ArrayList<>(classes());
        DoubleColumn p = DoubleColumn.create("precision");
        DoubleColumn r = DoubleColumn.create("recall");
        DoubleColumn f = DoubleColumn.create("f1");
        IntColumn s = IntColumn.create("support");
        long tp = 0;
        long predicted = 0;
        double[] wp = new double[3];
        double[] mp = new double[3];
        for (int c = 0; c < k; c++) {
            long pc = cm.predictedCount(c);
            long ac = cm.actualCount(c);
            double prec = pc == 0 ? 1.0 : (double) cm.count(c, c) / pc;
            double rec = ac == 0 ? 1.0 : (double) cm.count(c, c) / ac;
            double f1 = prec + rec == 0 ? 0 : 2 * prec * rec / (prec + rec);
            p.append(prec);
            r.append(rec);
            f.append(f1);
            s.append(Math.toIntExact(ac));
            tp += cm.count(c, c);
            predicted += pc;
            mp[0] += prec / k;
            mp[1] += rec / k;
            mp[2] += f1 / k;
            wp[0] += prec * ac / n;
            wp[1] += rec * ac / n;
            wp[2] += f1 * ac / n;
        }
        double microP = predicted == 0 ? 1.0 : (double) tp / predicted;
        double microR = n == 0 ? 0 : (double) tp / n;
        rows.add("micro avg");
        p.append(microP);
        r.append(microR);
        f.append(microP + microR == 0 ? 0 : 2 * microP * microR / (microP + microR));
        s.append(Math.toIntExact(n));
        rows.add("macro avg");
        p.append(mp[0]);
        r.append(mp[1]);
        f.append(mp[2]);
        s.append(Math.toIntExact(n));
        rows.add("weighted avg");
        p.append(wp[0]);
        r.append(wp[1]);
        f.append(wp[2]);
        s.append(Math.toIntExact(n));
        // per image: no label predicted -> precision 1 (zero_division), recall 0, F1 0;
        // one label predicted -> all three are 1 if right, 0 if wrong
        long none = cm.noClassTotal();
        rows.add("samples avg");
        p.append(n == 0 ? 0 : (double) (tp + none) / n);
        r.append(n == 0 ? 0 : (double) tp / n);
        f.append(n == 0 ? 0 : (double) tp / n);
        s.append(Math.toIntExact(n));
        return Tables.rounded(Table.create(title + " (multi-label layout, zero_division=1)", StringColumn.create("class", rows),
                p, r, f, s), 4);
    }

    /** Text in the layout of scikit-learn's {@code classification_report}, to 4 decimals. */
    @Override
    public String toString() {
        int w = Math.max(12, classes().stream().mapToInt(String::length).max().orElse(0));
        StringBuilder sb = new StringBuilder();
        String head = "%" + w + "s %10s %10s %10s %10s%n";
        String row = "%" + w + "s %10.4f %10.4f %10.4f %10d%n";
        sb.append(String.format(Locale.ROOT, head, "", "precision", "recall", "f1-score", "support")).append('\n');
        for (int c = 0; c < classes().size(); c++) {
            sb.append(String.format(Locale.ROOT, row, classes().get(c), precision(c), recall(c), f1(c), support(c)));
        }
        sb.append('\n');
        sb.append(String.format(Locale.ROOT, "%" + w + "s %10s %10s %10.4f %10d%n", "accuracy", "", "", accuracy(), cm.total()));
        sb.append(String.format(Locale.ROOT, row, "macro avg", macroPrecision(), macroRecall(), macroF1(), cm.total()));
        sb.append(String.format(Locale.ROOT, row, "weighted avg", weightedPrecision(), weightedRecall(), weightedF1(), cm.total()));
        List<String> undef = undefined();
        if (!undef.isEmpty()) {
            sb.append("\nreported as 0 (undefined): ").append(String.join("; ", undef)).append('\n');
        }
        if (cm.noClassTotal() > 0) {
            sb.append(String.format(Locale.ROOT, "%nno class predicted for %d of %d images (counted as wrong)%n",
                    cm.noClassTotal(), cm.total()));
        }
        return sb.toString();
    }

    @Override
    public Map<String, Object> mimeBundle() {
        return Map.of("text/plain", title + "\n" + this, "text/html", Tables.html(table(), 0));
    }
}

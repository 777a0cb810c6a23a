package org.leukolab.evaluation;

import java.io.BufferedWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Predicate;
import org.leukolab.data.ImageIndex;
import org.leukolab.data.ImageRecord;
import org.leukolab.metrics.Scores;
import org.leukolab.notebook.Rich;
import org.leukolab.notebook.Tables;
import org.leukolab.system.AtomicFiles;
import org.nd4j.linalg.api.ndarray.INDArray;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * A model's class probabilities for every image of a set, kept with the images: the basis of every number
 * the notebooks report. From it come the classification report (arg-max), the AUC (from the probabilities),
 * breakdowns by source dataset, the misclassified images, and a CSV file with one row per image.
 *
 * <pre>{@code
 * Predictions p = Predictions.of("CNN, test", test.index(), Trainer.predict(net, testBatches, 64));
 * p.report();                 // accuracy, per-class precision/recall/F1
 * p.scores().auc();           // macro one-vs-rest AUC
 * p.bySource();               // the same numbers per source dataset of a merged set
 * p.toCsv(path);              // path, source, split, true class, predicted class, one probability per class
 * }</pre>
 */
public final class Predictions implements Rich {
    private final String title;
    private final List<ImageRecord> records;
    private final List<String> classes;
    private final double[][] probabilities;
    private final int[] actual;

    private Predictions(String title, List<ImageRecord> records, List<String> classes, double[][] probabilities) {
        if (records.size() != probabilities.length) {
            throw new IllegalArgumentException(records.size() + " images but " + probabilities.length + " rows of probabilities");
        }
        for (double[] row : probabilities) {
            if (row.length != classes.size()) {
                throw new IllegalArgumentException("probabilities have " + row.length + " columns but there are "
                        + classes.size() + " classes " + classes);
            }
        }
        this.title = title;
        this.records = List.copyOf(records);
        this.classes = List.copyOf(classes);
        this.probabilities = probabilities;
        this.actual = new int[records.size()];
        for (int i = 0; i < actual.length; i++) {
            int c = classes.indexOf(records.get(i).label());
            if (c < 0) {
                throw new IllegalArgumentException(records.get(i).path() + " has class '" + records.get(i).label()
                        + "', not one of " + classes);
            }
            actual[i] = c;
        }
    }

    /** Probabilities {@code [n, classes]} (one row per image of {@code index}, in order) under a title. */
    public static Predictions of(String title, ImageIndex index, INDArray probabilities) {
        return new Predictions(title, index.records(), index.classes(), probabilities.toDoubleMatrix());
    }

    /** Probabilities of the given records (one row each, in order) over {@code classes}. */
    public static Predictions of(String title, List<ImageRecord> records, List<String> classes, double[][] probabilities) {
        return new Predictions(title, records, classes, probabilities);
    }

    public static Predictions of(String title, ImageIndex index, double[][] probabilities) {
        return new Predictions(title, index.records(), index.classes(), probabilities);
    }

    public String title() {
        return title;
    }

    public Predictions titled(String newTitle) {
        return new Predictions(newTitle, records, classes, probabilities);
    }

    public List<ImageRecord> records() {
        return records;
    }

    public List<String> classes() {
        return classes;
    }

    public int size() {
        return records.size();
    }

    /** The probability rows (shared: do not modify). */
    public double[][] probabilities() {
        return probabilities;
    }

    /** True class index of every image. */
    public int[] actual() {
        return actual.clone();
    }

    /** Most probable class of every image ({@code ConfusionMatrix.NO_CLASS} for a row of zeros: no class named). */
    public int[] predicted() {
        int[] p = new int[probabilities.length];
        for (int i = 0; i < p.length; i++) {
            p[i] = Scores.predictedClass(probabilities[i]);
        }
        return p;
    }

    /** Accuracy, per-class precision, recall, F1 (arg-max predictions), under this title. */
    public ClassificationReport report() {
        return ClassificationReport.of(actual, predicted(), classes).titled(title);
    }

    /** Every training metric (loss, accuracy, F1, weighted F1, macro AUC) of these predictions. */
    public Scores scores() {
        return Scores.of(probabilities, actual, classes);
    }

    /** The images for which {@code keep} holds, with their probabilities. */
    public Predictions subset(String newTitle, Predicate<ImageRecord> keep) {
        List<ImageRecord> r = new ArrayList<>();
        List<double[]> p = new ArrayList<>();
        for (int i = 0; i < records.size(); i++) {
            if (keep.test(records.get(i))) {
                r.add(records.get(i));
                p.add(probabilities[i]);
            }
        }
        return new Predictions(newTitle, r, classes, p.toArray(double[][]::new));
    }

    /** One row per source dataset ({@link ImageRecord#source()}) and one for all: images, accuracy, macro F1, AUC. */
    public Table bySource() {
        List<String> sources = records.stream().map(ImageRecord::source).distinct().sorted().toList();
        StringColumn src = StringColumn.create("source");
        IntColumn n = IntColumn.create("images");
        DoubleColumn acc = DoubleColumn.create("accuracy");
        DoubleColumn f1 = DoubleColumn.create("macro F1");
        DoubleColumn auc = DoubleColumn.create("macro AUC");
        List<String> rows = new ArrayList<>(sources);
        rows.add("all");
        for (String s : rows) {
            Predictions part = s.equals("all") ? this : subset(s, r -> r.source().equals(s));
            Scores sc = part.scores();
            src.append(s);
            n.append(part.size());
            acc.append(sc.accuracy());
            f1.append(sc.f1());
            auc.append(sc.auc());
        }
        return Tables.rounded(Table.create(title + ": by source dataset", src, n, acc, f1, auc), 4);
    }

    /**
     * For each class in order, the positions of up to {@code perClass} of its images classified correctly, most
     * confident first (the clearest examples of what the model learned for that class).
     */
    public int[] mostConfidentCorrect(int perClass) {
        int[] pred = predicted();
        List<Integer> out = new ArrayList<>();
        for (int c = 0; c < classes.size(); c++) {
            List<Integer> right = new ArrayList<>();
            for (int i = 0; i < pred.length; i++) {
                if (actual[i] == c && pred[i] == c) {
                    right.add(i);
                }
            }
            right.sort((a, b) -> Double.compare(probabilities[b][pred[b]], probabilities[a][pred[a]]));
            out.addAll(right.subList(0, Math.min(perClass, right.size())));
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** Positions of the misclassified images, most confident mistakes first. */
    public int[] errors() {
        int[] pred = predicted();
        List<Integer> wrong = new ArrayList<>();
        for (int i = 0; i < pred.length; i++) {
            if (pred[i] != actual[i]) {
                wrong.add(i);
            }
        }
        wrong.sort((a, b) -> Double.compare(probabilities[b][pred[b]], probabilities[a][pred[a]]));
        return wrong.stream().mapToInt(Integer::intValue).toArray();
    }

    /**
     * One row per image: path, source, split, true class, predicted class, then the probability of every
     * class ({@code p_<class>}).
     */
    public Table table() {
        int[] pred = predicted();
        Table t = Table.create(title,
                StringColumn.create("path", records.stream().map(r -> r.path().toString()).toList()),
                StringColumn.create("source", records.stream().map(ImageRecord::source).toList()),
                StringColumn.create("split", records.stream().map(ImageRecord::split).toList()),
                StringColumn.create("true", records.stream().map(ImageRecord::label).toList()),
                StringColumn.create("predicted", java.util.Arrays.stream(pred).mapToObj(classes::get).toList()));
        for (int c = 0; c < classes.size(); c++) {
            double[] col = new double[probabilities.length];
            for (int i = 0; i < col.length; i++) {
                col[i] = probabilities[i][c];
            }
            t.addColumns(DoubleColumn.create("p_" + classes.get(c), col));
        }
        return t;
    }

    /** Writes {@link #table()} as CSV (UTF-8, comma-separated, a header row), atomically; returns the file. */
    public Path toCsv(Path file) {
        int[] pred = predicted();
        return AtomicFiles.write(file, out -> {
            BufferedWriter w = new BufferedWriter(new java.io.OutputStreamWriter(out, StandardCharsets.UTF_8));
            List<String> head = new ArrayList<>(List.of("path", "source", "split", "true", "predicted"));
            classes.forEach(c -> head.add("p_" + c));
            w.write(String.join(",", head.stream().map(Predictions::csv).toList()));
            w.write('\n');
            for (int i = 0; i < records.size(); i++) {
                ImageRecord r = records.get(i);
                StringBuilder sb = new StringBuilder();
                sb.append(csv(r.path().toString())).append(',').append(csv(r.source())).append(',').append(csv(r.split()))
                        .append(',').append(csv(r.label())).append(',').append(csv(classes.get(pred[i])));
                for (double p : probabilities[i]) {
                    sb.append(',').append(String.format(Locale.ROOT, "%.6g", p));
                }
                w.write(sb.append('\n').toString());
            }
            w.flush();
        });
    }

    private static String csv(String s) {
        return s.contains(",") || s.contains("\"") || s.contains("\n") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
    }

    @Override
    public String toString() {
        Scores s = scores();
        return String.format(Locale.ROOT, "%s: %d images, accuracy %.4f, macro F1 %.4f, macro AUC %.4f", title, size(),
                s.accuracy(), s.f1(), s.auc());
    }

    @Override
    public Map<String, Object> mimeBundle() {
        return Map.of("text/plain", toString(), "text/html", "<p>" + Tables.escape(toString()) + "</p>" + Tables.html(report().table(), 0));
    }
}

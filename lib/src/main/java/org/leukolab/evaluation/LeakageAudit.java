package org.leukolab.evaluation;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.leukolab.data.ImageIndex;
import org.leukolab.data.ImageRecord;
import org.leukolab.data.LoadedImages;
import org.leukolab.notebook.Tables;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Reading a near-duplicate analysis ({@link NearDuplicates}) as a leakage audit: how many images of one
 * set have a near-copy in another, how often the nearest image shares the class (the evidence that a
 * similarity threshold separates copies of one cell from different cells), example pairs, and the scores
 * of a model on the images with and without a near-copy in its training set.
 */
public final class LeakageAudit {
    private LeakageAudit() {}

    /**
     * Images of set A by the similarity of their nearest image in set B, in bands; for each band the
     * number of images and how often the nearest image has the same class (25% is chance for 4 classes).
     */
    public static Table bands(String title, NearDuplicates.Nearest nearest, int[] labelsA, int[] labelsB, double... edges) {
        StringColumn band = StringColumn.create("similarity of the nearest image");
        IntColumn count = IntColumn.create("images");
        DoubleColumn share = DoubleColumn.create("share of images");
        DoubleColumn agree = DoubleColumn.create("nearest has the same class");
        double[] sim = nearest.similarity();
        for (int b = 0; b <= edges.length; b++) {
            double lo = b == 0 ? Double.NEGATIVE_INFINITY : edges[b - 1];
            double hi = b == edges.length ? Double.POSITIVE_INFINITY : edges[b];
            int n = 0;
            int same = 0;
            for (int i = 0; i < sim.length; i++) {
                if (sim[i] >= lo && sim[i] < hi) {
                    n++;
                    same += labelsA[i] == labelsB[nearest.index()[i]] ? 1 : 0;
                }
            }
            band.append(b == 0 ? String.format(Locale.ROOT, "below %.2f", hi)
                    : b == edges.length ? String.format(Locale.ROOT, "%.2f or more", lo)
                    : String.format(Locale.ROOT, "%.2f to %.2f", lo, hi));
            count.append(n);
            share.append(sim.length == 0 ? 0 : (double) n / sim.length);
            agree.append(n == 0 ? Double.NaN : (double) same / n);
        }
        return Tables.rounded(Table.create(title, band, count, share, agree), 3);
    }

    /**
     * How many images of {@code validation} come from an original that also has an image in {@code train}
     * (itself or an augmented copy), with {@code origin} naming each image's original; one row per class and
     * a total. Zero everywhere is what a sound split gives.
     */
    public static Table sharedOrigins(String title, ImageIndex train, ImageIndex validation,
                                      java.util.function.Function<ImageRecord, String> origin) {
        Set<String> inTrain = new java.util.HashSet<>();
        train.records().forEach(r -> inTrain.add(r.label() + "/" + origin.apply(r)));
        Map<String, int[]> byClass = new java.util.TreeMap<>();
        for (ImageRecord r : validation.records()) {
            int[] c = byClass.computeIfAbsent(r.label(), k -> new int[2]);
            c[0]++;
            if (inTrain.contains(r.label() + "/" + origin.apply(r))) {
                c[1]++;
            }
        }
        StringColumn cls = StringColumn.create("class");
        IntColumn total = IntColumn.create("validation images");
        IntColumn shared = IntColumn.create("original also in training");
        DoubleColumn share = DoubleColumn.create("share");
        int[] sum = new int[2];
        byClass.forEach((k, v) -> {
            cls.append(k);
            total.append(v[0]);
            shared.append(v[1]);
            share.append(v[0] == 0 ? Double.NaN : Math.round(1000.0 * v[1] / v[0]) / 1000.0);
            sum[0] += v[0];
            sum[1] += v[1];
        });
        cls.append("all");
        total.append(sum[0]);
        shared.append(sum[1]);
        share.append(sum[0] == 0 ? Double.NaN : Math.round(1000.0 * sum[1] / sum[0]) / 1000.0);
        return Table.create(title, cls, total, shared, share);
    }

    /** The files of set A (as {@code split/label/file}) whose nearest image in B is at least {@code threshold} similar. */
    public static Set<String> filesWithNearCopy(LoadedImages a, NearDuplicates.Nearest nearest, double threshold) {
        Set<String> out = new java.util.HashSet<>();
        for (int i = 0; i < a.size(); i++) {
            if (nearest.similarity()[i] >= threshold) {
                var r = a.index().get(i);
                out.add(r.split() + "/" + r.label() + "/" + r.fileName());
            }
        }
        return out;
    }

    /**
     * A model's saved predictions scored separately on the images with a near-copy in training and on the
     * rest; one row each (accuracy, macro F1, images).
     */
    public static Table rescore(String model, Map<String, int[]> predictions, List<String> classes, Set<String> withNearCopy) {
        StringColumn subset = StringColumn.create("images");
        IntColumn n = IntColumn.create("count");
        DoubleColumn acc = DoubleColumn.create("accuracy");
        DoubleColumn f1 = DoubleColumn.create("F1 (macro)");
        for (boolean leaked : new boolean[] {true, false}) {
            List<int[]> rows = predictions.entrySet().stream().filter(e -> withNearCopy.contains(e.getKey()) == leaked)
                    .map(Map.Entry::getValue).toList();
            subset.append(leaked ? "with a near-copy in train" : "without");
            n.append(rows.size());
            if (rows.isEmpty()) {
                acc.appendMissing();
                f1.appendMissing();
                continue;
            }
            ClassificationReport r = ClassificationReport.of(rows.stream().mapToInt(x -> x[0]).toArray(),
                    rows.stream().mapToInt(x -> x[1]).toArray(), classes);
            acc.append(r.accuracy());
            f1.append(r.macroF1());
        }
        Table t = Table.create(model, StringColumn.create("model", List.of(model, model)), subset, n, acc, f1);
        return Tables.rounded(t, 3);
    }
}

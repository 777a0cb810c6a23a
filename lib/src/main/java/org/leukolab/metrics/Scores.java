package org.leukolab.metrics;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Every {@link Metric} of one set of predictions: class probabilities {@code [n][k]} against the true
 * labels. The loss is the mean cross-entropy of the true class, with probabilities clipped at
 * {@value #EPSILON} as Keras clips them.
 *
 * @param loss        mean cross-entropy (NaN when not computed from these probabilities)
 * @param confusion   arg-max predictions against the labels
 */
public record Scores(double loss, double accuracy, double f1, double weightedF1, double auc, ConfusionMatrix confusion) {
    /** Keras' clipping of probabilities inside the cross-entropy. */
    public static final double EPSILON = 1e-7;

    /** Scores of probabilities {@code [n][k]} for examples with labels {@code labels} (indices into {@code classes}). */
    public static Scores of(double[][] probabilities, int[] labels, List<String> classes) {
        if (probabilities.length != labels.length) {
            throw new IllegalArgumentException(probabilities.length + " predictions but " + labels.length + " labels");
        }
        int[] predicted = new int[labels.length];
        double ce = 0;
        for (int i = 0; i < labels.length; i++) {
            predicted[i] = predictedClass(probabilities[i]);
            ce -= Math.log(Math.min(1 - EPSILON, Math.max(EPSILON, probabilities[i][labels[i]])));
        }
        ConfusionMatrix cm = ConfusionMatrix.of(labels, predicted, classes);
        return new Scores(labels.length == 0 ? Double.NaN : ce / labels.length, cm.accuracy(), cm.macroF1(),
                cm.weightedF1(), RocAuc.macroOneVsRest(probabilities, labels), cm);
    }

    /** The value of one metric. */
    public double get(Metric m) {
        return switch (m) {
            case LOSS -> loss;
            case ACCURACY -> accuracy;
            case F1 -> f1;
            case WEIGHTED_F1 -> weightedF1;
            case AUC -> auc;
        };
    }

    /** The metrics under their history names, with {@code prefix} ({@code ""} or {@code "val_"}). */
    public Map<String, Double> named(String prefix) {
        Map<String, Double> m = new LinkedHashMap<>();
        for (Metric x : Metric.values()) {
            m.put(prefix + x.key(), get(x));
        }
        return m;
    }

    /**
     * The class a probability row predicts: its {@link #argMax}, or {@link ConfusionMatrix#NO_CLASS} for a row of zeros
     * (a model that named no class, as report 002's forest does when no class has more than half of the trees' votes;
     * such an image counts as wrong).
     */
    public static int predictedClass(double[] row) {
        for (double v : row) {
            if (v != 0) {
                return argMax(row);
            }
        }
        return ConfusionMatrix.NO_CLASS;
    }

    /** Index of the largest value (the first one on ties, as numpy's argmax). */
    public static int argMax(double[] row) {
        int best = 0;
        for (int c = 1; c < row.length; c++) {
            if (row[c] > row[best]) {
                best = c;
            }
        }
        return best;
    }
}

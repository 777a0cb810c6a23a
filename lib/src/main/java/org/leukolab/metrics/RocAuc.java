package org.leukolab.metrics;

import java.util.Arrays;

/**
 * Area under the ROC curve from scores, computed exactly as the probability that a random positive scores
 * above a random negative, ties counting one half (the Mann-Whitney U statistic with average ranks; the
 * same number as scikit-learn's {@code roc_auc_score}).
 */
public final class RocAuc {
    private RocAuc() {}

    /**
     * One class against the rest: AUC of {@code scores} for the examples whose label is {@code positive};
     * NaN if the labels hold no positive or no negative example (the AUC is undefined then).
     */
    public static double binary(double[] scores, int[] labels, int positive) {
        int n = scores.length;
        if (labels.length != n) {
            throw new IllegalArgumentException(n + " scores but " + labels.length + " labels");
        }
        Integer[] order = new Integer[n];
        for (int i = 0; i < n; i++) {
            order[i] = i;
        }
        Arrays.sort(order, (a, b) -> Double.compare(scores[a], scores[b]));
        double rankSumPositives = 0;
        long positives = 0;
        int i = 0;
        while (i < n) {
            int j = i;
            while (j + 1 < n && scores[order[j + 1]] == scores[order[i]]) {
                j++;
            }
            double averageRank = (i + j) / 2.0 + 1; // ranks are 1-based; tied scores share the mean rank
            for (int t = i; t <= j; t++) {
                if (labels[order[t]] == positive) {
                    rankSumPositives += averageRank;
                    positives++;
                }
            }
            i = j + 1;
        }
        long negatives = n - positives;
        if (positives == 0 || negatives == 0) {
            return Double.NaN;
        }
        double u = rankSumPositives - positives * (positives + 1) / 2.0;
        return u / ((double) positives * negatives);
    }

    /**
     * Macro one-vs-rest AUC from class probabilities {@code [n][k]}: the mean of each class's AUC against the
     * rest, over the classes that have both positive and negative examples (scikit-learn's
     * {@code roc_auc_score(y, p, multi_class="ovr", average="macro")}, which refuses to answer when a class
     * is absent; here such classes are left out, and NaN comes back only if no class can be scored).
     */
    public static double macroOneVsRest(double[][] probabilities, int[] labels) {
        if (probabilities.length == 0) {
            return Double.NaN;
        }
        int k = probabilities[0].length;
        double sum = 0;
        int scored = 0;
        double[] column = new double[probabilities.length];
        for (int c = 0; c < k; c++) {
            for (int i = 0; i < probabilities.length; i++) {
                column[i] = probabilities[i][c];
            }
            double auc = binary(column, labels, c);
            if (!Double.isNaN(auc)) {
                sum += auc;
                scored++;
            }
        }
        return scored == 0 ? Double.NaN : sum / scored;
    }
}

package org.leukolab.evaluation;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.SplittableRandom;
import org.leukolab.metrics.Metric;
import org.leukolab.metrics.Scores;

/**
 * How much a metric would move if the test images had been another draw from the same population: the images are
 * resampled with replacement (seeded) and the metric recomputed on each resample; the 2.5th and 97.5th
 * percentiles give a 95% interval. It says nothing about training noise (another seed can move a model by more).
 */
public final class Bootstrap {
    public static final int DEFAULT_RESAMPLES = 2_000;
    public static final long DEFAULT_SEED = 20_261_202L;

    private Bootstrap() {}

    /** A value and its 95% percentile interval. */
    public record Interval(String metric, double value, double low, double high, int resamples) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%.4f [%.4f, %.4f]", value, low, high);
        }
    }

    /** The 95% interval of {@code metric} over {@code resamples} resamples of the images. */
    public static Interval interval(Predictions p, Metric metric, int resamples, long seed) {
        double[][] probs = p.probabilities();
        int[] actual = p.actual();
        int[] predicted = p.predicted();
        int n = actual.length;
        double value = Scores.of(probs, actual, p.classes()).get(metric);
        if (n == 0) {
            return new Interval(metric.key(), Double.NaN, Double.NaN, Double.NaN, 0);
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        double[] stats = new double[resamples];
        double[][] rp = new double[n][];
        int[] ra = new int[n];
        int[] rpred = new int[n];
        for (int b = 0; b < resamples; b++) {
            for (int i = 0; i < n; i++) {
                int j = rnd.nextInt(n);
                rp[i] = probs[j];
                ra[i] = actual[j];
                rpred[i] = predicted[j];
            }
            stats[b] = switch (metric) {
                // the arg-max metrics need only the confusion matrix (fast); the others need the probabilities
                case ACCURACY -> org.leukolab.metrics.ConfusionMatrix.of(ra, rpred, p.classes()).accuracy();
                case F1 -> org.leukolab.metrics.ConfusionMatrix.of(ra, rpred, p.classes()).macroF1();
                case WEIGHTED_F1 -> org.leukolab.metrics.ConfusionMatrix.of(ra, rpred, p.classes()).weightedF1();
                default -> Scores.of(rp, ra, p.classes()).get(metric);
            };
        }
        double[] ok = Arrays.stream(stats).filter(v -> !Double.isNaN(v)).sorted().toArray();
        if (ok.length == 0) {
            return new Interval(metric.key(), value, Double.NaN, Double.NaN, resamples);
        }
        return new Interval(metric.key(), value, percentile(ok, 0.025), percentile(ok, 0.975), resamples);
    }

    public static Interval interval(Predictions p, Metric metric) {
        return interval(p, metric, DEFAULT_RESAMPLES, DEFAULT_SEED);
    }

    /**
     * The same from predicted classes alone (for results saved without probabilities), for the metrics of the
     * confusion matrix: accuracy, macro F1, weighted F1. A predicted class of -1 (no class, as report 002's one-hot
     * forest abstains) counts as wrong. The same resamples as {@link #interval(Predictions, Metric, int, long)}.
     */
    public static Interval interval(int[] actual, int[] predicted, List<String> classes, Metric metric, int resamples, long seed) {
        if (metric != Metric.ACCURACY && metric != Metric.F1 && metric != Metric.WEIGHTED_F1) {
            throw new IllegalArgumentException(metric + " needs probabilities; from classes alone: accuracy, f1, weighted_f1");
        }
        int n = actual.length;
        double value = confusionMetric(org.leukolab.metrics.ConfusionMatrix.of(actual, predicted, classes), metric);
        if (n == 0) {
            return new Interval(metric.key(), Double.NaN, Double.NaN, Double.NaN, 0);
        }
        SplittableRandom rnd = new SplittableRandom(seed);
        double[] stats = new double[resamples];
        int[] ra = new int[n];
        int[] rpred = new int[n];
        for (int b = 0; b < resamples; b++) {
            for (int i = 0; i < n; i++) {
                int j = rnd.nextInt(n);
                ra[i] = actual[j];
                rpred[i] = predicted[j];
            }
            stats[b] = confusionMetric(org.leukolab.metrics.ConfusionMatrix.of(ra, rpred, classes), metric);
        }
        double[] ok = Arrays.stream(stats).filter(v -> !Double.isNaN(v)).sorted().toArray();
        return new Interval(metric.key(), value, percentile(ok, 0.025), percentile(ok, 0.975), resamples);
    }

    private static double confusionMetric(org.leukolab.metrics.ConfusionMatrix cm, Metric metric) {
        return switch (metric) {
            case ACCURACY -> cm.accuracy();
            case F1 -> cm.macroF1();
            default -> cm.weightedF1();
        };
    }

    /** Linear interpolation between order statistics (numpy's default percentile). */
    static double percentile(double[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = Math.min(sorted.length - 1, lo + 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}

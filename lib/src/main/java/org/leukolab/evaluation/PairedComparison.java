package org.leukolab.evaluation;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.SplittableRandom;
import org.leukolab.notebook.Rich;
import org.leukolab.notebook.Tables;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Two models scored on the same test images: is the accuracy gap real or luck of the test sample?
 *
 * <ul>
 *   <li><b>Bootstrap</b>: the test images are resampled with replacement (seeded) many times and the
 *       accuracy difference recomputed on each resample; the 2.5th and 97.5th percentiles give a 95%
 *       interval for the difference. An interval that does not contain 0 says the gap is unlikely to be
 *       an accident of which images happened to be in the test set.</li>
 *   <li><b>McNemar's exact test</b>: only the images on which the models disagree about being right
 *       count: {@code b} where only A is right, {@code c} where only B is right. If the models were equally
 *       good, each disagreement would go either way with probability 1/2; the two-sided p-value is
 *       {@code min(1, 2 P(X <= min(b, c)))} for {@code X ~ Binomial(b + c, 1/2)}.</li>
 * </ul>
 *
 * Both answer a question about <em>this</em> test set's population of images; neither says anything about
 * another dataset or about training noise (a second training run with another seed can move a model by more
 * than the interval's width).
 */
public final class PairedComparison implements Rich {
    public static final int DEFAULT_RESAMPLES = 10_000;

    private final String nameA;
    private final String nameB;
    private final int n;
    private final double accuracyA;
    private final double accuracyB;
    private final int onlyA;
    private final int onlyB;
    private final int both;
    private final int neither;
    private final double ciLow;
    private final double ciHigh;
    private final int resamples;
    private final long seed;
    private final double pValue;

    private PairedComparison(String nameA, String nameB, boolean[] rightA, boolean[] rightB, int resamples, long seed) {
        this.nameA = nameA;
        this.nameB = nameB;
        this.n = rightA.length;
        this.resamples = resamples;
        this.seed = seed;
        int a = 0;
        int b = 0;
        int ab = 0;
        int none = 0;
        for (int i = 0; i < n; i++) {
            if (rightA[i] && rightB[i]) {
                ab++;
            } else if (rightA[i]) {
                a++;
            } else if (rightB[i]) {
                b++;
            } else {
                none++;
            }
        }
        this.onlyA = a;
        this.onlyB = b;
        this.both = ab;
        this.neither = none;
        this.accuracyA = (double) (ab + a) / n;
        this.accuracyB = (double) (ab + b) / n;
        // bootstrap of the difference: only the per-image difference (+1, 0, -1) matters
        int[] d = new int[n];
        for (int i = 0; i < n; i++) {
            d[i] = (rightA[i] ? 1 : 0) - (rightB[i] ? 1 : 0);
        }
        double[] diffs = new double[resamples];
        SplittableRandom rnd = new SplittableRandom(seed);
        for (int r = 0; r < resamples; r++) {
            long s = 0;
            for (int i = 0; i < n; i++) {
                s += d[rnd.nextInt(n)];
            }
            diffs[r] = (double) s / n;
        }
        Arrays.sort(diffs);
        this.ciLow = percentile(diffs, 0.025);
        this.ciHigh = percentile(diffs, 0.975);
        this.pValue = mcNemarExact(onlyA, onlyB);
    }

    /** Compares two models' predictions of the same images ({@code -1} = no class, always wrong). */
    /** Two models' predictions on the same images (same records, same order), named by their titles. */
    public static PairedComparison of(Predictions a, Predictions b) {
        if (!a.records().equals(b.records())) {
            throw new IllegalArgumentException(a.title() + " and " + b.title() + " were not made on the same images in the same order");
        }
        return of(a.title(), a.predicted(), b.title(), b.predicted(), a.actual());
    }

    public static PairedComparison of(String nameA, int[] predictedA, String nameB, int[] predictedB, int[] actual) {
        return of(nameA, predictedA, nameB, predictedB, actual, DEFAULT_RESAMPLES, 42);
    }

    public static PairedComparison of(String nameA, int[] predictedA, String nameB, int[] predictedB, int[] actual,
                                      int resamples, long seed) {
        if (predictedA.length != actual.length || predictedB.length != actual.length) {
            throw new IllegalArgumentException("the two models must be scored on the same images: " + predictedA.length
                    + ", " + predictedB.length + " predictions for " + actual.length + " images");
        }
        if (actual.length == 0 || resamples < 100) {
            throw new IllegalArgumentException("need images and at least 100 resamples");
        }
        boolean[] ra = new boolean[actual.length];
        boolean[] rb = new boolean[actual.length];
        for (int i = 0; i < actual.length; i++) {
            ra[i] = predictedA[i] == actual[i];
            rb[i] = predictedB[i] == actual[i];
        }
        return new PairedComparison(nameA, nameB, ra, rb, resamples, seed);
    }

    /**
     * Compares two saved evaluations ({@link ResultStore#savePredictions}) on the images they share, matched
     * by file; it is an error if they share none or disagree about an image's true class.
     */
    public static PairedComparison of(String nameA, Map<String, int[]> a, String nameB, Map<String, int[]> b) {
        int[][] cols = aligned(a, b);
        return of(nameA, cols[0], nameB, cols[1], cols[2]);
    }

    static int[][] aligned(Map<String, int[]> a, Map<String, int[]> b) {
        Map<String, int[]> common = new LinkedHashMap<>();
        a.forEach((f, v) -> {
            int[] w = b.get(f);
            if (w != null) {
                if (w[0] != v[0]) {
                    throw new IllegalArgumentException(f + " has true class " + v[0] + " in one evaluation and " + w[0]
                            + " in the other: not the same labelling");
                }
                common.put(f, new int[] {v[1], w[1], v[0]});
            }
        });
        if (common.isEmpty()) {
            throw new IllegalArgumentException("the two evaluations share no image");
        }
        int[][] out = new int[3][common.size()];
        int i = 0;
        for (int[] v : common.values()) {
            out[0][i] = v[0];
            out[1][i] = v[1];
            out[2][i] = v[2];
            i++;
        }
        return out;
    }

    static double percentile(double[] sorted, double q) {
        double pos = q * (sorted.length - 1);
        int lo = (int) Math.floor(pos);
        int hi = (int) Math.ceil(pos);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }

    /** Two-sided exact McNemar p-value for {@code b} and {@code c} discordant pairs. */
    static double mcNemarExact(int b, int c) {
        int m = b + c;
        if (m == 0) {
            return 1.0;
        }
        int k = Math.min(b, c);
        // P(X <= k) for X ~ Bin(m, 1/2), in logs for large m
        double logHalf = m * Math.log(0.5);
        double sum = 0;
        double logC = 0; // log C(m, 0)
        for (int i = 0; i <= k; i++) {
            if (i > 0) {
                logC += Math.log(m - i + 1) - Math.log(i);
            }
            sum += Math.exp(logC + logHalf);
        }
        return Math.min(1.0, 2 * sum);
    }

    /** The first model's name. */
    public String nameA() {
        return nameA;
    }

    /** The second model's name. */
    public String nameB() {
        return nameB;
    }

    public double accuracyA() {
        return accuracyA;
    }

    public double accuracyB() {
        return accuracyB;
    }

    /** Accuracy of A minus accuracy of B. */
    public double difference() {
        return accuracyA - accuracyB;
    }

    public double ciLow() {
        return ciLow;
    }

    public double ciHigh() {
        return ciHigh;
    }

    public double pValue() {
        return pValue;
    }

    /** Images only A got right. */
    public int onlyA() {
        return onlyA;
    }

    /** Images only B got right. */
    public int onlyB() {
        return onlyB;
    }

    public int size() {
        return n;
    }

    /** A plain-language verdict at the 5% level. */
    public String verdict() {
        boolean ciExcludesZero = ciLow > 0 || ciHigh < 0;
        if (ciExcludesZero && pValue < 0.05) {
            return String.format(Locale.ROOT, "%s is %s on these %d images (the gap is unlikely to be chance)",
                    difference() > 0 ? nameA : nameB, "more accurate", n);
        }
        if (!ciExcludesZero && pValue >= 0.05) {
            return String.format(Locale.ROOT, "no clear difference on these %d images: the gap could be chance", n);
        }
        return "borderline: the bootstrap interval and McNemar's test disagree at the 5% level; treat the gap as uncertain";
    }

    /** One row per quantity. */
    public Table table() {
        StringColumn q = StringColumn.create("quantity");
        StringColumn v = StringColumn.create("value");
        add(q, v, "images", Integer.toString(n));
        add(q, v, "accuracy " + nameA, fmt(accuracyA));
        add(q, v, "accuracy " + nameB, fmt(accuracyB));
        add(q, v, "difference (A - B)", fmt(difference()));
        add(q, v, String.format(Locale.ROOT, "95%% bootstrap interval (%,d resamples, seed %d)", resamples, seed),
                "[" + fmt(ciLow) + ", " + fmt(ciHigh) + "]");
        add(q, v, "both right / only A / only B / both wrong", both + " / " + onlyA + " / " + onlyB + " / " + neither);
        add(q, v, "McNemar exact p-value", String.format(Locale.ROOT, "%.3g", pValue));
        add(q, v, "verdict", verdict());
        return Table.create(String.format(Locale.ROOT, "paired comparison: A = %s, B = %s", nameA, nameB), q, v);
    }

    private static void add(StringColumn q, StringColumn v, String a, String b) {
        q.append(a);
        v.append(b);
    }

    private static String fmt(double x) {
        return String.format(Locale.ROOT, "%.4f", x);
    }

    @Override
    public String toString() {
        return table().printAll();
    }

    @Override
    public Map<String, Object> mimeBundle() {
        return Tables.bundle(table());
    }
}

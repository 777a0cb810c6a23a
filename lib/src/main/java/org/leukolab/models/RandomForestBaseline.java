package org.leukolab.models;

import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.util.List;
import java.util.stream.LongStream;
import org.leukolab.data.LoadedImages;
import org.leukolab.metrics.ConfusionMatrix;
import org.leukolab.notebook.Progress;
import smile.base.cart.SplitRule;
import smile.classification.RandomForest;
import smile.data.DataFrame;
import smile.data.formula.Formula;
import smile.data.vector.BaseVector;
import smile.data.vector.IntVector;
import smile.data.vector.ShortVector;

/**
 * Report 002's Random Forest: trees grown on the raw pixels (each image flattened to height x width x 3
 * values, 0..255), as scikit-learn's {@code RandomForestClassifier(n_estimators=100)} grows them: full
 * depth, leaves of one image, {@code sqrt(features)} candidate features per split, bootstrap samples.
 * Built with Smile; pixels are held as 16-bit columns to keep 49,152 features x 8,000 images in memory.
 *
 * <p>Two ways to predict, because the report's code did something its text does not say: it fitted the
 * forest on one-hot label vectors, which makes scikit-learn grow a multi-output forest and predict each
 * class separately; an image is assigned a class only if more than half of the trees vote for it (for
 * one-hot labels the multi-output trees make the same splits as ordinary ones, and with leaves of one
 * image the averaged leaf probabilities are the vote shares). Otherwise no class is predicted and the
 * image counts as wrong: hence the report's high precision and low recall. {@link #predictAsPublished}
 * reproduces that rule; {@link #predict} is the ordinary forest (majority vote).
 */
public final class RandomForestBaseline {
    private final RandomForest forest;
    private final List<String> classes;
    private final int height;
    private final int width;
    private final double fitSeconds;
    private final long peakHeapBytes;

    private RandomForestBaseline(RandomForest forest, List<String> classes, int h, int w, double fitSeconds,
                                 long peakHeapBytes) {
        this.forest = forest;
        this.classes = classes;
        this.height = h;
        this.width = w;
        this.fitSeconds = fitSeconds;
        this.peakHeapBytes = peakHeapBytes;
    }

    /** Grows {@code trees} trees (in rounds, with a progress bar), reproducible from {@code seed}. */
    public static RandomForestBaseline fit(LoadedImages train, int trees, long seed) {
        requireHeap(train, Runtime.getRuntime().maxMemory());
        resetPeaks();
        long t0 = System.nanoTime();
        DataFrame df = frame(train, true);
        int p = train.height() * train.width() * 3;
        int mtry = (int) Math.floor(Math.sqrt(p));
        int n = train.size();
        int round = Math.max(1, trees / 10);
        RandomForest forest = null;
        try (Progress bar = Progress.start("Random Forest (" + n + " images, " + p + " pixels)", trees, "trees")) {
            for (int done = 0; done < trees; done += round) {
                int k = Math.min(round, trees - done);
                long first = seed * 1000 + done;
                RandomForest part = RandomForest.fit(Formula.lhs("y"), df, k, mtry, SplitRule.GINI, Integer.MAX_VALUE,
                        n, 1, 1.0, null, LongStream.range(first, first + k));
                forest = forest == null ? part : forest.merge(part);
                bar.step(k);
            }
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        return new RandomForestBaseline(forest, train.classes(), train.height(), train.width(), seconds, peakHeap());
    }

    /**
     * The Java heap a fit needs, scaled from a measurement: report 002's full protocol (7,965 images of 49,152 pixels,
     * 100 trees) completed with a 14 GB heap (its pools peaked at 17.6 GB, an upper bound) and not with the default.
     */
    public static long requiredHeapBytes(int images, int pixelsPerImage) {
        return (long) (14e9 * ((double) images * pixelsPerImage) / (7_965.0 * 49_152));
    }

    /** Stops before a fit that would run out of memory hours later, naming the setting that fixes it. */
    static void requireHeap(LoadedImages train, long maxHeap) {
        long need = requiredHeapBytes(train.size(), train.height() * train.width() * 3);
        if (need > maxHeap) {
            throw new IllegalStateException(String.format(java.util.Locale.ROOT,
                    "fitting the forest on %,d images of %,d pixels needs about %.0f GB of Java heap; this JVM has %.1f GB. "
                            + "Start it with more, e.g. LEUKOLAB_HEAP=%dg LEUKOLAB_OFFHEAP=4g ./leukolab run --profile full "
                            + "notebooks/11-report-002-random-forest.ipynb (the same variables work for ./leukolab lab)",
                    train.size(), train.height() * train.width() * 3, need / 1e9, maxHeap / 1e9, (long) Math.ceil(need / 1e9)));
        }
    }

    /** Majority vote of the trees: the ordinary single-label forest. */
    public int[] predict(LoadedImages images) {
        check(images);
        DataFrame df = frame(images, false);
        int[] out = new int[images.size()];
        for (int i = 0; i < out.length; i++) {
            out[i] = forest.predict(df.get(i));
        }
        return out;
    }

    /**
     * The share of trees voting for each class, per image (rows sum to 1): the forest's class probabilities, for
     * scores that need a ranking (AUC) as well as the majority vote.
     */
    public double[][] voteShares(LoadedImages images) {
        check(images);
        DataFrame df = frame(images, false);
        double[][] out = new double[images.size()][classes.size()];
        for (int i = 0; i < out.length; i++) {
            forest.vote(df.get(i), out[i]);
        }
        return out;
    }

    /**
     * {@link #voteShares} under the report's rule ({@link #predictAsPublished}): the rows of images that no class has
     * more than half of the trees' votes for are zeros, which the evaluation reads as "no class" (counted wrong).
     */
    public double[][] voteSharesAsPublished(LoadedImages images) {
        double[][] shares = voteShares(images);
        for (double[] row : shares) {
            if (row[org.leukolab.metrics.Scores.argMax(row)] <= 0.5) {
                java.util.Arrays.fill(row, 0);
            }
        }
        return shares;
    }

    /**
     * The report's rule: a class only when more than half of the trees vote for it, else
     * {@link ConfusionMatrix#NO_CLASS}.
     */
    public int[] predictAsPublished(LoadedImages images) {
        check(images);
        DataFrame df = frame(images, false);
        int[] out = new int[images.size()];
        double[] share = new double[classes.size()];
        for (int i = 0; i < out.length; i++) {
            int c = forest.vote(df.get(i), share);
            out[i] = share[c] > 0.5 ? c : ConfusionMatrix.NO_CLASS;
        }
        return out;
    }

    public double fitSeconds() {
        return fitSeconds;
    }

    /** Peak Java heap in use during the fit (all heap pools), in bytes. */
    public long peakHeapBytes() {
        return peakHeapBytes;
    }

    public int trees() {
        return forest.size();
    }

    public List<String> classes() {
        return classes;
    }

    private void check(LoadedImages images) {
        if (images.height() != height || images.width() != width) {
            throw new IllegalArgumentException("the forest was fitted on " + height + "x" + width + " images, got "
                    + images.height() + "x" + images.width());
        }
        if (!images.classes().equals(classes)) {
            throw new IllegalArgumentException("class lists differ: " + classes + " vs " + images.classes());
        }
    }

    /** One 16-bit column per pixel value (HWC order, as numpy's reshape(n, -1) flattens), plus the label. */
    static DataFrame frame(LoadedImages images, boolean withLabels) {
        int n = images.size();
        int p = images.height() * images.width() * 3;
        short[][] cols = new short[p][n];
        for (int i = 0; i < n; i++) {
            byte[] px = images.pixels(i);
            for (int j = 0; j < p; j++) {
                cols[j][i] = (short) (px[j] & 0xFF);
            }
        }
        BaseVector<?, ?, ?>[] vectors = new BaseVector<?, ?, ?>[p + (withLabels ? 1 : 0)];
        for (int j = 0; j < p; j++) {
            vectors[j] = ShortVector.of("p" + j, cols[j]);
            cols[j] = null;
        }
        if (withLabels) {
            vectors[p] = IntVector.of("y", images.labels());
        }
        return DataFrame.of(vectors);
    }

    private static void resetPeaks() {
        System.gc();
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                pool.resetPeakUsage();
            }
        }
    }

    private static long peakHeap() {
        long sum = 0;
        for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
            if (pool.getType() == MemoryType.HEAP) {
                sum += pool.getPeakUsage().getUsed();
            }
        }
        return sum;
    }
}

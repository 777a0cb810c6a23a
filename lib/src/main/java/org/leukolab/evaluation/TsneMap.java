package org.leukolab.evaluation;

import java.util.Arrays;
import org.nd4j.linalg.api.ndarray.INDArray;
import smile.manifold.TSNE;
import smile.projection.PCA;

/**
 * A two-dimensional t-SNE map of embeddings, with Smile's implementation: the embeddings are first reduced to
 * {@code pcaDimensions} principal components (van der Maaten's advice, and what makes the exact t-SNE affordable),
 * then embedded with the given perplexity and iterations. Smile's t-SNE keeps the full n x n affinity matrix, so maps
 * are made of a few thousand images (the rows given), not of tens of thousands. Smile exaggerates the affinities for
 * the first 250 iterations; fewer than about 500 iterations leave the map unsettled.
 *
 * @param rows        which images (rows of the embeddings) the map shows
 * @param coordinates {@code [rows.length][2]}
 */
public record TsneMap(int[] rows, double[][] coordinates, int pcaDimensions, double perplexity, int iterations, double seconds) {
    public static TsneMap of(INDArray embeddings, int[] rows, int pcaDimensions, double perplexity, int iterations, long seed) {
        long t0 = System.nanoTime();
        INDArray e = embeddings.rank() == 4 ? embeddings.reshape(embeddings.size(0), -1) : embeddings;
        double[][] x = new double[rows.length][];
        for (int i = 0; i < rows.length; i++) {
            x[i] = e.getRow(rows[i]).toDoubleVector();
        }
        int k = Math.min(pcaDimensions, Math.min(x.length - 1, x[0].length));
        PCA pca = PCA.fit(x).setProjection(k);
        double[][] reduced = pca.project(x);
        smile.math.MathEx.setSeed(seed);
        TSNE tsne = new TSNE(reduced, 2, perplexity, 200, iterations);
        return new TsneMap(rows.clone(), tsne.coordinates, k, perplexity, iterations, (System.nanoTime() - t0) / 1e9);
    }

    /** {@code count} rows: every row of {@code always} and, to fill up, others chosen evenly at random (seeded). */
    public static int[] sample(int n, int[] always, int count, long seed) {
        java.util.LinkedHashSet<Integer> chosen = new java.util.LinkedHashSet<>();
        Arrays.stream(always).forEach(chosen::add);
        java.util.List<Integer> rest = new java.util.ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (!chosen.contains(i)) {
                rest.add(i);
            }
        }
        java.util.Collections.shuffle(rest, new java.util.Random(seed));
        for (int i = 0; chosen.size() < count && i < rest.size(); i++) {
            chosen.add(rest.get(i));
        }
        return chosen.stream().mapToInt(Integer::intValue).sorted().toArray();
    }
}

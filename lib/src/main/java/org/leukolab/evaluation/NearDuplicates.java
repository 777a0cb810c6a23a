package org.leukolab.evaluation;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Near-duplicate images found by embedding distance: each image is a unit vector (for example a
 * backbone's pooled features), two images are near-copies when the cosine similarity of their vectors is
 * at least a threshold. Used to audit leakage: augmented copies of one cell on both sides of a split.
 *
 * <p>Similarities are computed block by block, so 10,000 x 10,000 images need no 400 MB matrix.
 */
public final class NearDuplicates {
    private static final int BLOCK = 1024;
    private final INDArray unit; // [n, d], rows L2-normalised

    private NearDuplicates(INDArray unit) {
        this.unit = unit;
    }

    /** From embeddings {@code [n, d]} (or feature maps {@code [n, c, h, w]}, averaged over h and w). */
    public static NearDuplicates of(INDArray embeddings) {
        INDArray e = embeddings.rank() == 4 ? embeddings.mean(2, 3) : embeddings;
        e = e.castTo(DataType.FLOAT).dup();
        INDArray norms = e.norm2(1).reshape(-1, 1);
        norms.addi(1e-12);
        return new NearDuplicates(e.diviColumnVector(norms));
    }

    public int size() {
        return (int) unit.size(0);
    }

    /** A near-copy pair: image {@code a} of one set, {@code b} of the other, and their cosine similarity. */
    public record Pair(int a, int b, double similarity) {}

    /** For each image here: the index of and similarity to its most similar image in {@code other}. */
    public Nearest nearestIn(NearDuplicates other) {
        return nearest(other, false);
    }

    /** For each image: its most similar other image in the same set. */
    public Nearest nearestWithin() {
        return nearest(this, true);
    }

    /** Per-image nearest neighbours. */
    public record Nearest(int[] index, double[] similarity) {
        /** How many images have a neighbour at least this similar. */
        public long countAtLeast(double threshold) {
            return Arrays.stream(similarity).filter(s -> s >= threshold).count();
        }
    }

    private Nearest nearest(NearDuplicates other, boolean excludeSelf) {
        int n = size();
        int[] idx = new int[n];
        double[] sim = new double[n];
        for (int s = 0; s < n; s += BLOCK) {
            int e = Math.min(n, s + BLOCK);
            INDArray block = unit.get(NDArrayIndex.interval(s, e), NDArrayIndex.all()).mmul(other.unit.transpose());
            if (excludeSelf) {
                for (int i = s; i < e; i++) {
                    block.putScalar(i - s, i, -2.0);
                }
            }
            INDArray arg = block.argMax(1);
            INDArray max = block.max(1);
            for (int i = s; i < e; i++) {
                idx[i] = arg.getInt(i - s);
                sim[i] = max.getDouble(i - s);
            }
        }
        return new Nearest(idx, sim);
    }

    /**
     * Each image's {@code k} most similar other images in this set, most similar first: {@code index[i]} and
     * {@code similarity[i]} hold {@code min(k, n - 1)} entries.
     */
    public record Neighbours(int[][] index, float[][] similarity) {}

    /** The {@code k} nearest neighbours (by cosine similarity) of every image within this set. */
    public Neighbours kNearestWithin(int k) {
        int n = size();
        int kk = Math.min(k, n - 1);
        int[][] idx = new int[n][kk];
        float[][] sim = new float[n][kk];
        for (int s = 0; s < n; s += BLOCK) {
            int e = Math.min(n, s + BLOCK);
            float[][] block = unit.get(NDArrayIndex.interval(s, e), NDArrayIndex.all()).mmul(unit.transpose()).toFloatMatrix();
            for (int i = 0; i < block.length; i++) {
                float[] best = sim[s + i];
                int[] at = idx[s + i];
                Arrays.fill(best, Float.NEGATIVE_INFINITY);
                for (int j = 0; j < n; j++) {
                    float v = block[i][j];
                    if (j == s + i || kk == 0 || v <= best[kk - 1]) {
                        continue;
                    }
                    int p = kk - 1;
                    while (p > 0 && best[p - 1] < v) {
                        best[p] = best[p - 1];
                        at[p] = at[p - 1];
                        p--;
                    }
                    best[p] = v;
                    at[p] = j;
                }
            }
        }
        return new Neighbours(idx, sim);
    }

    /** All pairs (this image, other image) with similarity at least {@code threshold}. */
    public List<Pair> pairsWith(NearDuplicates other, double threshold) {
        List<Pair> out = new ArrayList<>();
        boolean same = other == this;
        int n = size();
        for (int s = 0; s < n; s += BLOCK) {
            int e = Math.min(n, s + BLOCK);
            float[][] block = unit.get(NDArrayIndex.interval(s, e), NDArrayIndex.all()).mmul(other.unit.transpose()).toFloatMatrix();
            for (int i = 0; i < block.length; i++) {
                for (int j = same ? s + i + 1 : 0; j < block[i].length; j++) {
                    if (block[i][j] >= threshold) {
                        out.add(new Pair(s + i, j, block[i][j]));
                    }
                }
            }
        }
        return out;
    }

    /**
     * Groups of near-copies within this set: images joined, directly or through others, by pairs of at
     * least {@code threshold}. Returns a group number per image (0, 1, ...; an image without near-copies is
     * a group of its own).
     */
    public int[] groups(double threshold) {
        int n = size();
        int[] parent = new int[n];
        for (int i = 0; i < n; i++) {
            parent[i] = i;
        }
        for (Pair p : pairsWith(this, threshold)) {
            int a = find(parent, p.a());
            int b = find(parent, p.b());
            if (a != b) {
                parent[Math.max(a, b)] = Math.min(a, b);
            }
        }
        int[] group = new int[n];
        int[] number = new int[n];
        Arrays.fill(number, -1);
        int next = 0;
        for (int i = 0; i < n; i++) {
            int r = find(parent, i);
            if (number[r] < 0) {
                number[r] = next++;
            }
            group[i] = number[r];
        }
        return group;
    }

    /** The root of {@code i} in a union-find forest, halving the path on the way. */
    static int find(int[] parent, int i) {
        while (parent[i] != i) {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        return i;
    }

    /** Rows {@code [n, d]} of unit vectors, for callers that want their own analysis. */
    public INDArray vectors() {
        return unit;
    }
}

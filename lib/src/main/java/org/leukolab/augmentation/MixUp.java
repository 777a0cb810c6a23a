package org.leukolab.augmentation;

import java.util.Random;
import org.apache.commons.math3.distribution.BetaDistribution;
import org.apache.commons.math3.random.RandomGenerator;
import org.apache.commons.math3.random.RandomGeneratorFactory;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * MixUp (Zhang et al., 2018): every example is blended with another example of the same batch, chosen by a
 * random permutation, with a weight {@code lambda ~ Beta(alpha, alpha)} drawn for each example; the labels
 * are blended with the same weight: {@code x = lambda x_i + (1 - lambda) x_j}, {@code y = lambda y_i + (1 - lambda) y_j}.
 * As KerasCV's {@code MixUp}: one weight per example, partners from a permutation of the batch.
 */
public final class MixUp implements BatchTransform {
    private final double alpha;

    private MixUp(double alpha) {
        if (!(alpha > 0)) {
            throw new IllegalArgumentException("alpha must be positive, got " + alpha);
        }
        this.alpha = alpha;
    }

    /** MixUp with {@code Beta(alpha, alpha)} weights (KerasCV's default alpha is 0.2). */
    public static MixUp withAlpha(double alpha) {
        return new MixUp(alpha);
    }

    @Override
    public DataSet apply(INDArray features, INDArray labels, Random random) {
        int n = (int) features.size(0);
        int[] partner = permutation(n, random);
        double[] lambda = betaSamples(n, alpha, random);
        INDArray x = features.dup();
        INDArray y = labels.dup();
        for (int i = 0; i < n; i++) {
            INDArray xi = x.get(NDArrayIndex.point(i));
            xi.muli(lambda[i]).addi(features.get(NDArrayIndex.point(partner[i])).mul(1 - lambda[i]));
            INDArray yi = y.get(NDArrayIndex.point(i));
            yi.muli(lambda[i]).addi(labels.get(NDArrayIndex.point(partner[i])).mul(1 - lambda[i]));
        }
        return new DataSet(x, y);
    }

    /** {@code n} draws from {@code Beta(alpha, alpha)} with the given generator. */
    static double[] betaSamples(int n, double alpha, Random random) {
        RandomGenerator g = RandomGeneratorFactory.createRandomGenerator(random);
        BetaDistribution beta = new BetaDistribution(g, alpha, alpha);
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = beta.sample();
        }
        return out;
    }

    /** A random permutation of 0..n-1 (Fisher-Yates with the given generator). */
    static int[] permutation(int n, Random random) {
        int[] p = new int[n];
        for (int i = 0; i < n; i++) {
            p[i] = i;
        }
        for (int i = n - 1; i > 0; i--) {
            int j = random.nextInt(i + 1);
            int t = p[i];
            p[i] = p[j];
            p[j] = t;
        }
        return p;
    }

    @Override
    public String id() {
        return "MixUp(alpha=" + alpha + ")";
    }

    @Override
    public String toString() {
        return id();
    }
}

package org.leukolab.system;

import java.util.Random;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Random arrays that repeat exactly for a seed. In ND4J 1.0.0-M2.1, {@code Nd4j.getRandom().setSeed(s)} followed by
 * {@code Nd4j.rand(...)} gives different values on every call (its random ops do not take the seed; upstream
 * deeplearning4j#7474), so anything that must repeat draws its numbers here, from {@link java.util.Random}.
 */
public final class SeededArrays {
    private SeededArrays() {}

    /** Values uniform in [0, 1) of the given type and shape (row-major), the same for the same seed. */
    public static INDArray uniform(DataType type, long seed, long... shape) {
        long n = 1;
        for (long d : shape) {
            n *= d;
        }
        if (n > Integer.MAX_VALUE) {
            throw new IllegalArgumentException("too many values for one array: " + n);
        }
        Random r = new Random(seed);
        double[] v = new double[(int) n];
        for (int i = 0; i < v.length; i++) {
            v[i] = r.nextDouble();
        }
        return Nd4j.create(v, shape, 'c').castTo(type);
    }
}

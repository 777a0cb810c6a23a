package org.leukolab.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.AdamUpdater;
import org.nd4j.linalg.learning.config.Adam;

class DenormalSafeAdamTest {
    private static final int N = 100_003; // above the parallel threshold, not a multiple of the chunk

    /** ND4J's Adam and ours on the same state, fed the same gradients. */
    private static final class Pair {
        final AdamUpdater nd4j;
        final DenormalSafeAdam ours;

        Pair(Adam config, int n) {
            INDArray a = Nd4j.zeros(DataType.FLOAT, 1, 2L * n);
            INDArray b = Nd4j.zeros(DataType.FLOAT, 1, 2L * n);
            nd4j = new AdamUpdater(config);
            nd4j.setStateViewArray(a, new long[] {n}, 'c', true);
            ours = new DenormalSafeAdam(config);
            ours.setStateViewArray(b, new long[] {n}, 'c', true);
        }

        /** One step; answers {ND4J's update, ours}. */
        float[][] step(float[] gradient, int iteration) {
            INDArray g1 = Nd4j.createFromArray(gradient);
            INDArray g2 = Nd4j.createFromArray(gradient);
            nd4j.applyUpdater(g1, iteration, 0);
            ours.applyUpdater(g2, iteration, 0);
            return new float[][] {g1.toFloatVector(), g2.toFloatVector()};
        }
    }

    private static float[] gradient(Random r, int n, double scale) {
        float[] g = new float[n];
        for (int i = 0; i < n; i++) {
            g[i] = (float) (r.nextGaussian() * scale);
        }
        return g;
    }

    @Test
    void sameBitsAsNd4jsOperationOnOrdinaryGradients() {
        for (Adam config : new Adam[] {new Adam(1e-4), new Adam(1e-3, 0.9, 0.999, 1e-7)}) {
            Pair p = new Pair(config, N);
            Random r = new Random(5);
            for (int it = 0; it < 40; it++) {
                assertTrue(p.ours.handles(Nd4j.zeros(DataType.FLOAT, N)));
                float[][] u = p.step(gradient(r, N, it % 7 == 0 ? 10 : 1e-3), it * 37); // large and late iterations too
                assertArrayEquals(u[0], u[1], 0f, "update, iteration " + it + ", " + config);
            }
            assertArrayEquals(p.nd4j.getM().toFloatVector(), p.ours.getM().toFloatVector(), 0f, "first moments");
            assertArrayEquals(p.nd4j.getV().toFloatVector(), p.ours.getV().toFloatVector(), 0f, "second moments");
        }
    }

    @Test
    void subnormalSecondMomentsAreZeroAndTheUpdatesTheSame() {
        Pair p = new Pair(new Adam(1e-4), N);
        Random r = new Random(9);
        int subnormalInNd4j = 0;
        for (int it = 0; it < 30; it++) {
            float[] g = new float[N];
            for (int i = 0; i < N; i++) { // as in a network with vanishing gradients: 1e-33 to 1e-3
                g[i] = (float) (r.nextGaussian() * Math.pow(10, -3 - 30 * ((i * 7919L) % N) / (double) N));
            }
            float[][] u = p.step(g, it);
            assertArrayEquals(u[0], u[1], 0f, "update, iteration " + it);
        }
        assertArrayEquals(p.nd4j.getM().toFloatVector(), p.ours.getM().toFloatVector(), 0f, "first moments");
        float[] v1 = p.nd4j.getV().toFloatVector();
        float[] v2 = p.ours.getV().toFloatVector();
        for (int i = 0; i < N; i++) {
            boolean subnormal = v1[i] != 0 && v1[i] < Float.MIN_NORMAL;
            subnormalInNd4j += subnormal ? 1 : 0;
            assertFalse(v2[i] != 0 && v2[i] < Float.MIN_NORMAL, "ours holds no subnormal moment, element " + i);
            if (v1[i] >= 1e-25f) { // larger moments never carried a subnormal part that reached their last bit
                assertEquals(v1[i], v2[i], 0f, "second moment, element " + i);
            } else { // each step drops less than Float.MIN_NORMAL; a last bit rounded the other way stays
                assertEquals(v1[i], v2[i], Math.max(30 * Float.MIN_NORMAL, 2 * Math.ulp(v1[i])), "small second moment, element " + i);
            }
        }
        assertTrue(subnormalInNd4j > N / 10, "the case is exercised: " + subnormalInNd4j + " subnormal moments in ND4J's state");
    }

    @Test
    void leavesWhatItDoesNotHandleToNd4j() {
        DenormalSafeAdam tinyEpsilon = new DenormalSafeAdam(new Adam(1e-3, 0.9, 0.999, 1e-14));
        tinyEpsilon.setStateViewArray(Nd4j.zeros(DataType.FLOAT, 1, 20), new long[] {10}, 'c', true);
        assertFalse(tinyEpsilon.handles(Nd4j.zeros(DataType.FLOAT, 10)), "epsilon below the smallest handled");
        DenormalSafeAdam doubles = new DenormalSafeAdam(new Adam(1e-3));
        doubles.setStateViewArray(Nd4j.zeros(DataType.DOUBLE, 1, 20), new long[] {10}, 'c', true);
        assertFalse(doubles.handles(Nd4j.zeros(DataType.DOUBLE, 10)), "double arrays");
        INDArray g = Nd4j.createFromArray(new double[] {0.1, -0.2, 0.3, 1, 2, 3, 4, 5, 6, 7});
        INDArray same = g.dup();
        AdamUpdater nd4j = new AdamUpdater(new Adam(1e-3));
        nd4j.setStateViewArray(Nd4j.zeros(DataType.DOUBLE, 1, 20), new long[] {10}, 'c', true);
        doubles.applyUpdater(g, 0, 0);
        nd4j.applyUpdater(same, 0, 0);
        assertEquals(same, g, "handed to ND4J's operation");
    }
}

package org.leukolab.evaluation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.leukolab.metrics.Metric;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class BootstrapAndTsneTest {
    @Test
    void bootstrapIntervalsSurroundTheValueAndAreReproducible() {
        var b = ExperimentTest.blobs(200, 4, "test");
        var index = b.index().orElseThrow();
        Random r = new Random(1);
        double[][] p = new double[200][3];
        int[] y = index.labels();
        for (int i = 0; i < 200; i++) {
            int guess = r.nextDouble() < 0.8 ? y[i] : (y[i] + 1) % 3;
            p[i][guess] = 0.7;
            p[i][(guess + 1) % 3] = 0.2;
            p[i][(guess + 2) % 3] = 0.1;
        }
        Predictions pr = Predictions.of("t", index, p);
        var acc = Bootstrap.interval(pr, Metric.ACCURACY, 500, 7);
        assertEquals(pr.report().accuracy(), acc.value(), 1e-12);
        assertTrue(acc.low() < acc.value() && acc.value() < acc.high(), acc.toString());
        assertTrue(acc.high() - acc.low() < 0.2, "about +-1.96 sqrt(0.8 0.2 / 200) = +-0.055: " + acc);
        assertEquals(acc, Bootstrap.interval(pr, Metric.ACCURACY, 500, 7), "same seed, same interval");
        var f1 = Bootstrap.interval(pr, Metric.F1, 300, 7);
        assertTrue(f1.low() <= f1.value() && f1.value() <= f1.high(), f1.toString());
        // from predicted classes alone (results saved without probabilities): the same resamples, the same interval
        assertEquals(f1, Bootstrap.interval(y, pr.predicted(), pr.classes(), Metric.F1, 300, 7));
        assertEquals(acc, Bootstrap.interval(y, pr.predicted(), pr.classes(), Metric.ACCURACY, 500, 7));
        // an abstention (-1) counts as wrong
        int[] abstaining = pr.predicted().clone();
        abstaining[0] = -1;
        var withNone = Bootstrap.interval(y, abstaining, pr.classes(), Metric.ACCURACY, 500, 7);
        assertEquals(org.leukolab.metrics.ConfusionMatrix.of(y, abstaining, pr.classes()).accuracy(), withNone.value(), 1e-12);
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> Bootstrap.interval(y, pr.predicted(), pr.classes(), Metric.AUC, 10, 1));
    }

    @Test
    void tsneSeparatesTwoClustersAndIsSeeded() {
        Random r = new Random(2);
        INDArray x = Nd4j.create(DataType.FLOAT, 60, 10);
        for (int i = 0; i < 60; i++) {
            for (int j = 0; j < 10; j++) {
                x.putScalar(i, j, (i < 30 ? 0 : 5) + r.nextGaussian());
            }
        }
        int[] rows = java.util.stream.IntStream.range(0, 60).toArray();
        TsneMap a = TsneMap.of(x, rows, 5, 10, 500, 11);
        TsneMap b = TsneMap.of(x, rows, 5, 10, 500, 11);
        assertArrayEquals(a.coordinates()[7], b.coordinates()[7], 1e-12);
        // the map keeps neighbourhoods: each point's nearest neighbour on the map is from its own cluster
        int sameCluster = 0;
        double[][] c = a.coordinates();
        for (int i = 0; i < 60; i++) {
            int best = -1;
            double bd = Double.MAX_VALUE;
            for (int j = 0; j < 60; j++) {
                double dd = Math.hypot(c[i][0] - c[j][0], c[i][1] - c[j][1]);
                if (j != i && dd < bd) {
                    bd = dd;
                    best = j;
                }
            }
            sameCluster += (i < 30) == (best < 30) ? 1 : 0;
        }
        assertTrue(sameCluster >= 58, "points whose nearest map neighbour is in their cluster: " + sameCluster + " of 60");
        int[] s = TsneMap.sample(100, new int[] {5, 99}, 10, 1);
        assertEquals(10, s.length);
        assertTrue(java.util.Arrays.stream(s).anyMatch(v -> v == 99));
    }


}

package org.leukolab.models;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.leukolab.data.LoadedImages;
import org.leukolab.data.TestLoaded;
import org.leukolab.metrics.ConfusionMatrix;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

class RandomForestBaselineTest {
    /** Three classes of 8x8 images: each class brighter in its own colour channel, plus noise. */
    static LoadedImages images(int n, long seed) {
        Random r = new Random(seed);
        INDArray x = Nd4j.create(DataType.FLOAT, n, 3, 8, 8);
        INDArray y = Nd4j.zeros(DataType.FLOAT, n, 3);
        for (int i = 0; i < n; i++) {
            int c = i % 3;
            y.putScalar(i, c, 1);
            for (int ch = 0; ch < 3; ch++) {
                for (int p = 0; p < 64; p++) {
                    x.putScalar(new long[] {i, ch, p / 8, p % 8}, Math.min(255, (ch == c ? 120 : 60) + r.nextGaussian() * 40 + 60));
                }
            }
        }
        return TestLoaded.of(new DataSet(x, y), 8);
    }

    @Test
    void aFitThatWouldRunOutOfHeapStopsFirstNamingTheSetting() {
        LoadedImages train = images(150, 1);
        long need = RandomForestBaseline.requiredHeapBytes(train.size(), train.height() * train.width() * 3);
        RandomForestBaseline.requireHeap(train, need); // enough: no error
        IllegalStateException e = org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> RandomForestBaseline.requireHeap(train, need - 1));
        assertTrue(e.getMessage().contains("LEUKOLAB_HEAP="), e.getMessage());
        // the full protocol: 7,965 images of 128x128x3 need the 14 GB it was measured with
        assertEquals(14e9, RandomForestBaseline.requiredHeapBytes(7_965, 49_152), 1e6);
    }

    @Test
    void learnsAndIsReproducible() {
        LoadedImages train = images(150, 1);
        LoadedImages test = images(60, 2);
        RandomForestBaseline a = RandomForestBaseline.fit(train, 20, 42);
        RandomForestBaseline b = RandomForestBaseline.fit(train, 20, 42);
        int[] pa = a.predict(test);
        assertArrayEquals(pa, b.predict(test), "same seed, same forest");
        int correct = 0;
        for (int i = 0; i < pa.length; i++) {
            correct += pa[i] == test.labels()[i] ? 1 : 0;
        }
        assertTrue(correct >= 50, "easy task: " + correct + "/60");
        assertEquals(20, a.trees());
        assertTrue(a.fitSeconds() > 0 && a.peakHeapBytes() > 0);
    }

    @Test
    void publishedRuleAbstainsWhenNoClassHasAMajority() {
        LoadedImages train = images(90, 3);
        RandomForestBaseline rf = RandomForestBaseline.fit(train, 15, 7);
        LoadedImages hard = images(60, 4);
        int[] majority = rf.predict(hard);
        int[] published = rf.predictAsPublished(hard);
        for (int i = 0; i < published.length; i++) {
            // the published rule either agrees with the majority vote or names no class
            assertTrue(published[i] == majority[i] || published[i] == ConfusionMatrix.NO_CLASS);
        }
    }

    @Test
    void voteSharesGiveTheSameClassesAsBothRulesAndZeroRowsMeanNoClass() {
        LoadedImages train = images(90, 3);
        RandomForestBaseline rf = RandomForestBaseline.fit(train, 15, 7);
        LoadedImages hard = images(60, 4);
        var majority = org.leukolab.evaluation.Predictions.of("majority", hard.index(), rf.voteShares(hard));
        var published = org.leukolab.evaluation.Predictions.of("as published", hard.index(), rf.voteSharesAsPublished(hard));
        assertArrayEquals(rf.predictAsPublished(hard), published.predicted());
        int[] vote = rf.predict(hard);
        int[] fromShares = majority.predicted();
        int agree = 0;
        for (int i = 0; i < vote.length; i++) {
            agree += vote[i] == fromShares[i] ? 1 : 0; // Smile's vote and the shares' arg-max differ only on exact ties
        }
        assertTrue(agree >= vote.length - 2, agree + " of " + vote.length);
        int abstained = (int) java.util.Arrays.stream(published.predicted()).filter(c -> c == ConfusionMatrix.NO_CLASS).count();
        assertTrue(abstained > 0, "this hard set has images without a majority class");
        var report = org.leukolab.evaluation.ClassificationReport.of(hard.labels(), rf.predictAsPublished(hard), hard.classes());
        assertEquals(report.accuracy(), published.scores().accuracy(), 1e-12, "no class counts as wrong in the scores too");
    }
}

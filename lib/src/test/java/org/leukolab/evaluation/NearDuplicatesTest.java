package org.leukolab.evaluation;

import org.leukolab.system.SeededArrays;
import org.leukolab.metrics.ConfusionMatrix;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class NearDuplicatesTest {
    @TempDir
    java.nio.file.Path dir;

    /** 3000 random directions in 64 dimensions (nearly orthogonal), plus planted near-copies. */
    static INDArray vectors(int n, long seed) {
        Random r = new Random(seed);
        INDArray x = Nd4j.create(DataType.FLOAT, n, 64);
        for (int i = 0; i < n; i++) {
            for (int d = 0; d < 64; d++) {
                x.putScalar(i, d, r.nextGaussian());
            }
        }
        return x;
    }

    static INDArray nearCopy(INDArray v, long seed) {
        INDArray noise = SeededArrays.uniform(DataType.FLOAT, seed, v.shape()).subi(0.5).muli(0.1 * v.norm2Number().doubleValue() / 4);
        return v.add(noise);
    }

    @Test
    void findsPlantedNearCopiesAndOnlyThem() {
        INDArray a = vectors(3000, 1);
        INDArray b = vectors(500, 2);
        // rows 0..9 of b are near-copies of rows 100..109 of a
        for (int i = 0; i < 10; i++) {
            b.putRow(i, nearCopy(a.getRow(100 + i), i));
        }
        NearDuplicates da = NearDuplicates.of(a);
        NearDuplicates db = NearDuplicates.of(b);
        NearDuplicates.Nearest nb = db.nearestIn(da);
        for (int i = 0; i < 10; i++) {
            assertEquals(100 + i, nb.index()[i]);
            assertTrue(nb.similarity()[i] > 0.95, "near-copy similarity " + nb.similarity()[i]);
        }
        assertEquals(10, nb.countAtLeast(0.95), "random 64-d directions are far from each other");
        List<NearDuplicates.Pair> pairs = db.pairsWith(da, 0.95);
        assertEquals(10, pairs.size());
        assertEquals(new NearDuplicates.Pair(3, 103, pairs.get(3).similarity()), pairs.get(3));
    }

    @Test
    void groupsJoinChainsOfNearCopies() {
        INDArray a = vectors(50, 3);
        a.putRow(1, nearCopy(a.getRow(0), 1));
        a.putRow(2, nearCopy(a.getRow(1), 2)); // 0-1-2 chained
        a.putRow(9, nearCopy(a.getRow(7), 3));
        int[] g = NearDuplicates.of(a).groups(0.95);
        assertEquals(g[0], g[1]);
        assertEquals(g[1], g[2]);
        assertEquals(g[7], g[9]);
        assertNotEquals(g[0], g[7]);
        assertEquals(50 - 3, java.util.Arrays.stream(g).distinct().count());
        NearDuplicates.Nearest within = NearDuplicates.of(a).nearestWithin();
        assertTrue(within.similarity()[0] < 1.0001 && within.index()[0] != 0, "an image is not its own neighbour");
    }

    @Test
    void featureMapsAreAveragedToVectors() {
        INDArray maps = SeededArrays.uniform(DataType.FLOAT, 5, 4, 8, 3, 3);
        NearDuplicates d = NearDuplicates.of(maps);
        assertArrayEquals(new long[] {4, 8}, d.vectors().shape());
        assertEquals(1.0, d.vectors().getRow(2).norm2Number().doubleValue(), 1e-5);
    }

    @Test
    void resultsSurviveASaveAndLoad() {
        ClassificationReport r = ClassificationReport.of(new int[] {0, 1, 2, 2}, new int[] {0, ConfusionMatrix.NO_CLASS, 2, 1},
                List.of("a", "b", "c")).titled("test model");
        ResultStore store = ResultStore.at(dir);
        store.save("m", r, Map.of("fit_seconds", 1.5));
        ClassificationReport back = store.load("m").orElseThrow();
        assertEquals(r.title(), back.title());
        assertEquals(r.accuracy(), back.accuracy(), 1e-12);
        assertEquals(1, back.confusion().noClassTotal());
        assertEquals("1.5", store.details("m").get("fit_seconds"));
        assertTrue(store.details("m").containsKey("machine"));
    }

    @Test
    void publishedVsReproducedTable() {
        ClassificationReport r = ClassificationReport.of(new int[] {0, 1, 2, 3}, new int[] {0, 1, 2, 3},
                List.of("EOSINOPHIL", "LYMPHOCYTE", "MONOCYTE", "NEUTROPHIL")).titled("perfect");
        var t = Published.compare(Published.report002("Random Forest"), r);
        assertEquals("accuracy", t.stringColumn("metric").get(0));
        assertEquals(0.79, t.doubleColumn("published").get(0), 1e-12);
        assertEquals(0.21, t.doubleColumn("difference").get(0), 1e-9);
        assertEquals(8, t.rowCount());
    }
}

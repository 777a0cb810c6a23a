package org.leukolab.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.leukolab.data.ArrayImages;
import org.leukolab.data.ImageIndex;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class OutliersTest {
    /**
     * 3 classes of 100 "cells" (embeddings near a shared direction, a little noise per class), plus planted outliers:
     * one picture copied into every class (identical embeddings, three labels) and 40 pictures of something else filed
     * under class 2 (a tight cluster far from the cells, 40% of that class, as the stand-in's cat in monocyte).
     */
    @Test
    void findsBothKindsOfPlantedPicturesAndNoCell() {
        Random r = new Random(3);
        int cells = 300;
        int n = cells + 3 + 40;
        int d = 32;
        INDArray e = Nd4j.create(DataType.FLOAT, n, d);
        int[] labels = new int[n];
        for (int i = 0; i < cells; i++) {
            labels[i] = i % 3;
            for (int j = 0; j < d; j++) {
                e.putScalar(i, j, 1.0 + (j == labels[i] ? 0.5 : 0) + 0.15 * r.nextGaussian());
            }
        }
        for (int k = 0; k < 3; k++) { // the same picture under three labels
            labels[cells + k] = k;
            for (int j = 0; j < d; j++) {
                e.putScalar(cells + k, j, j % 2 == 0 ? 1.0 : -1.0);
            }
        }
        for (int k = 0; k < 40; k++) { // something else, all filed as class 2
            labels[cells + 3 + k] = 2;
            for (int j = 0; j < d; j++) {
                e.putScalar(cells + 3 + k, j, (j < d / 2 ? -1.0 : 1.0) + 0.1 * r.nextGaussian());
            }
        }
        Path f = Path.of("/tmp/outliers-test.npz");
        ImageIndex index = ImageIndex.fromArrays("t", f, Map.of("all", new ArrayImages(f, "x", Nd4j.zeros(DataType.UBYTE, n, 1, 1, 3))),
                Map.of("all", labels), List.of("a", "b", "c"));
        // fromArrays orders records by label, then row: put the embeddings in that order
        int[] order = index.records().stream().mapToInt(rec -> Integer.parseInt(rec.fileName())).toArray();
        Outliers.Result res = Outliers.detect(e.getRows(order), index);
        Set<String> planted = new HashSet<>();
        for (var rec : index.records()) {
            if (Integer.parseInt(rec.fileName()) >= cells) {
                planted.add(rec.label() + "/" + rec.fileName());
            }
        }
        var score = res.score(planted);
        assertEquals(1.0, score.doubleColumn("value").get(6), "recall: " + score.print());
        assertEquals(0.0, score.doubleColumn("value").get(7), "no cell flagged: " + score.print());
        assertEquals(1, res.conflictingGroups());
        assertEquals(n - 43, res.kept().size());
        assertEquals(43, res.removed().size());
        int[] flagged = res.flaggedPositions();
        assertTrue(res.robustZ()[flagged[0]] >= res.robustZ()[flagged[flagged.length - 1]], "farthest first");
        assertEquals(43, res.counts().intColumn("flagged").get(3), "the 'all' row");
    }
}

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
    /** Embeddings in index order, an index of in-memory images with those labels, and the planted rows (row >= first). */
    private record Planted(ImageIndex index, INDArray embeddings, Set<String> planted) {
        static Planted of(INDArray e, int[] labels, List<String> names, int first) {
            int n = labels.length;
            Path f = Path.of("/tmp/outliers-test.npz");
            ImageIndex index = ImageIndex.fromArrays("t", f, Map.of("all", new ArrayImages(f, "x", Nd4j.zeros(DataType.UBYTE, n, 1, 1, 3))),
                    Map.of("all", labels), names);
            // fromArrays orders records by label, then row: put the embeddings in that order
            int[] order = index.records().stream().mapToInt(rec -> Integer.parseInt(rec.fileName())).toArray();
            Set<String> planted = new HashSet<>();
            for (var rec : index.records()) {
                if (Integer.parseInt(rec.fileName()) >= first) {
                    planted.add(rec.label() + "/" + rec.fileName());
                }
            }
            return new Planted(index, e.getRows(order), planted);
        }

        boolean isPlanted(int i) {
            return planted.contains(index.get(i).label() + "/" + index.get(i).fileName());
        }
    }
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
        Planted p = Planted.of(e, labels, List.of("a", "b", "c"), cells);
        ImageIndex index = p.index();
        Outliers.Result res = Outliers.detect(p.embeddings(), index);
        Set<String> planted = p.planted();
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

    /**
     * Rule 3 on embeddings that form a cross-label cluster: 8 classes of 150 "cells" (a direction per class, with noise),
     * plus 40 similar non-cell pictures near the middle of the cells (so not far from the rest) and not copies of each
     * other (so not rule 1), filed 5 under each class. Rules 1 and 2 miss them; rule 3 finds every one and no cell.
     */
    @Test
    void aClusterWhoseMembersCarryEveryLabelIsFlaggedByTheThirdRule() {
        Random r = new Random(11);
        int k = 8;
        int perClass = 150;
        int cells = k * perClass;
        int group = 40;
        int n = cells + group;
        int d = 48;
        double[][] centre = new double[k][d];
        for (int c = 0; c < k; c++) {
            for (int j = 0; j < d; j++) {
                centre[c][j] = 1.0 + (j % k == c ? 1.2 : 0);
            }
        }
        INDArray e = Nd4j.create(DataType.FLOAT, n, d);
        int[] labels = new int[n];
        for (int i = 0; i < cells; i++) {
            labels[i] = i % k;
            for (int j = 0; j < d; j++) {
                e.putScalar(i, j, centre[labels[i]][j] + 0.35 * r.nextGaussian());
            }
        }
        double[] middle = new double[d];
        for (int j = 0; j < d; j++) {
            middle[j] = 1.15 + (j % 3 == 0 ? 0.25 : -0.1); // between the classes, a direction of its own
        }
        for (int g = 0; g < group; g++) {
            labels[cells + g] = g % k;
            for (int j = 0; j < d; j++) {
                e.putScalar(cells + g, j, middle[j] + 0.2 * r.nextGaussian());
            }
        }
        List<String> names = List.of("a", "b", "c", "d", "e", "f", "g", "h");
        Planted p = Planted.of(e, labels, names, cells);
        Outliers.Result res = Outliers.detect(p.embeddings(), p.index());
        int byRule3 = 0;
        int otherRules = 0;
        int cellsByRule3 = 0;
        for (int i = 0; i < n; i++) {
            boolean isPlanted = p.isPlanted(i);
            if (isPlanted && res.flaggedBy(i, Outliers.Rule.CLUSTER_OF_MANY_LABELS)) {
                byRule3++;
            }
            if (!isPlanted && res.flaggedBy(i, Outliers.Rule.CLUSTER_OF_MANY_LABELS)) {
                cellsByRule3++;
            }
            if (isPlanted && (res.flaggedBy(i, Outliers.Rule.FAR_FROM_THE_REST) || res.flaggedBy(i, Outliers.Rule.SAME_PICTURE_SEVERAL_LABELS))) {
                otherRules++;
            }
        }
        assertEquals(0, otherRules, "the group is neither far from the rest nor copies: " + res);
        assertEquals(group, byRule3, res.toString());
        assertEquals(0, cellsByRule3, "no cell flagged by rule 3: " + res);
        assertEquals(1.0, res.score(p.planted()).doubleColumn("value").get(6), "recall");
        assertEquals(1, res.manyLabelClusters(), res.toString());
        assertEquals(group, res.counts().intColumn("cluster of many labels").get(k), "the 'all' row");

        // the same pictures filed under one class are a class of their own to this rule, not a cluster of many labels
        int[] one = labels.clone();
        for (int g = 0; g < group; g++) {
            one[cells + g] = 3;
        }
        Planted q = Planted.of(e, one, names, cells);
        assertEquals(0, Outliers.detect(q.embeddings(), q.index()).count(Outliers.Rule.CLUSTER_OF_MANY_LABELS));
    }
}

package org.leukolab.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

class MergeAndSplitTest {
    /** An index of {@code counts[c]} tiny images of each class, held in an array (no files needed). */
    static ImageIndex synthetic(String source, List<String> classes, int... counts) {
        int n = java.util.Arrays.stream(counts).sum();
        int[] y = new int[n];
        int i = 0;
        for (int c = 0; c < counts.length; c++) {
            for (int k = 0; k < counts[c]; k++) {
                y[i++] = c;
            }
        }
        Path f = Path.of("/tmp/" + source + ".npz");
        return ImageIndex.fromArrays(source, f, Map.of("all", new ArrayImages(f, "x", Nd4j.zeros(DataType.UBYTE, n, 1, 1, 3))),
                Map.of("all", y), classes);
    }

    static final List<String> EIGHT = List.of("basophil", "eosinophil", "erythroblast", "ig", "lymphocyte", "monocyte",
            "neutrophil", "platelet");
    static final List<String> FIVE = List.of("Basophil", "Eosinophil", "Lymphocyte", "Monocyte", "Neutrophil");

    @Test
    void mergesByNameIgnoringCaseAndKeepsTheSource() {
        ImageIndex blood = synthetic("bloodmnist", EIGHT, 3, 3, 3, 3, 3, 3, 3, 3);
        ImageIndex wbc = synthetic("raabin-wbc", FIVE, 1, 2, 3, 4, 5);
        ImageIndex merged = ImageIndex.merge("merged", EIGHT, Map.of(), blood, wbc);
        assertEquals(EIGHT, merged.classes());
        assertEquals(24 + 15, merged.size());
        assertEquals(List.of("bloodmnist", "raabin-wbc"), merged.sources());
        var counts = merged.sourceCounts();
        assertEquals(5, counts.intColumn("raabin-wbc").get(EIGHT.indexOf("neutrophil")));
        assertEquals(0, counts.intColumn("raabin-wbc").get(EIGHT.indexOf("platelet")));
        assertEquals(3 + 3, counts.intColumn("total").get(EIGHT.indexOf("lymphocyte")));
    }

    @Test
    void anExplicitMappingRenamesAndAnUnmappedClassIsAnErrorNamingIt() {
        ImageIndex wbc = synthetic("wbc", List.of("Baso", "Eosinophil", "Lymphocyte", "Monocyte", "Neutrophil"), 1, 1, 1, 1, 1);
        ImageIndex merged = ImageIndex.merge("m", EIGHT, Map.of("BASO", "basophil"), wbc);
        assertEquals(1, merged.sourceCounts().intColumn("wbc").get(0));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> ImageIndex.merge("m", EIGHT, Map.of("Eosinophil", "eosinophil"), wbc));
        assertTrue(e.getMessage().contains("'Baso'") && e.getMessage().contains("wbc") && e.getMessage().contains("{Eosinophil=eosinophil}"),
                e.getMessage());
        IllegalArgumentException bad = assertThrows(IllegalArgumentException.class,
                () -> ImageIndex.merge("m", EIGHT, Map.of("Baso", "blast"), wbc));
        assertTrue(bad.getMessage().contains("'blast'"), bad.getMessage());
    }

    @Test
    void threeWaySplitHasTheReportsCounts() {
        // 33,725 images in 8 classes, as report 001's merged set
        ImageIndex all = synthetic("merged", EIGHT, 1519, 4183, 1551, 2895, 4675, 2215, 12220, 2348 + 2119);
        assertEquals(33_725, all.size());
        ImageIndex.ThreeWaySplit s = all.stratifiedSplit(0.70, 0.15, 0.15, 42);
        assertEquals(23_607, s.train().size());
        assertEquals(5_059, s.validation().size());
        assertEquals(5_059, s.test().size());
        Set<Path> seen = new HashSet<>();
        for (ImageIndex part : List.of(s.train(), s.validation(), s.test())) {
            part.records().forEach(r -> assertTrue(seen.add(r.path()), "an image in two parts: " + r.path()));
        }
        assertEquals(33_725, seen.size());
        // stratified: each class's share of the test part within one image of its share of the whole
        var whole = all.classCounts();
        var test = s.test().classCounts();
        for (int c = 0; c < 8; c++) {
            double expected = whole.intColumn(1).get(c) * 5059.0 / 33725;
            assertEquals(expected, test.intColumn(1).get(c), 1.0, EIGHT.get(c));
        }
        assertEquals(s.test().records(), all.stratifiedSplit(0.70, 0.15, 0.15, 42).test().records(), "same seed, same split");
        assertTrue(!s.test().records().equals(all.stratifiedSplit(0.70, 0.15, 0.15, 7).test().records()));
        assertThrows(IllegalArgumentException.class, () -> all.stratifiedSplit(0.7, 0.2, 0.2, 1));
    }

    @Test
    void balancedTestSplitTakesTheSameCountFromEveryClass() {
        ImageIndex all = synthetic("x", EIGHT, 30, 80, 40, 60, 25, 35, 90, 50);
        ImageIndex.Holdout h = all.balancedTestSplit(20, 3);
        var t = h.test().classCounts();
        for (int c = 0; c < 8; c++) {
            assertEquals(20, t.intColumn(1).get(c));
        }
        assertEquals(all.size() - 160, h.rest().size());
        assertEquals(60, h.rest().classCounts().intColumn(1).get(1), "the rest keeps its imbalance");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> all.balancedTestSplit(25, 3));
        assertTrue(e.getMessage().contains("'lymphocyte'") && e.getMessage().contains("25 images"), e.getMessage());
    }
}

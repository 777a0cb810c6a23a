package org.leukolab.reports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.leukolab.data.ArrayImages;
import org.leukolab.data.ImageIndex;
import org.leukolab.system.Profile;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;

class Report001And003Test {
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

    @Test
    void report003SplitHasABalancedTestSetAndAnImbalancedRest() {
        ImageIndex cleaned = synthetic("pbc96", EIGHT, 820, 2000, 1000, 1900, 800, 900, 2200, 1500);
        ImageIndex.ThreeWaySplit s = Report003.split(cleaned, Profile.FULL);
        var test = s.test().classCounts();
        for (int c = 0; c < 8; c++) {
            assertEquals(Report003.TEST_PER_CLASS, test.intColumn(1).get(c));
        }
        assertEquals(cleaned.size() - 8 * Report003.TEST_PER_CLASS, s.train().size() + s.validation().size());
        assertEquals(0.2, (double) s.validation().size() / (s.train().size() + s.validation().size()), 0.01);
        assertTrue(s.train().classCounts().intColumn(1).get(6) > 2 * s.train().classCounts().intColumn(1).get(0),
                "training keeps the imbalance");
    }

    @Test
    void report001MergesBySourceAndKeepsTheSharedClasses() {
        ImageIndex blood = synthetic("bloodmnist-standin", EIGHT, 5, 5, 5, 5, 5, 5, 5, 5);
        ImageIndex wbc = synthetic("raabin-wbc-sample", List.of("Basophil", "Eosinophil", "Lymphocyte", "Monocyte", "Neutrophil"), 2, 2, 2, 2, 2);
        ImageIndex merged = ImageIndex.merge("m", EIGHT, Report001.wbcMapping(), blood, wbc);
        assertEquals(50, merged.size());
        ImageIndex bySource = Report001.bySource(merged, merged.sources());
        assertEquals(List.of("bloodmnist-standin", "raabin-wbc-sample"), bySource.classes());
        assertEquals(10, bySource.classCounts().intColumn(1).get(1));
        ImageIndex shared = Report001.sharedOnly(merged, "raabin-wbc-sample");
        assertEquals(Report001.sharedClasses(), shared.classes());
        assertEquals(10, shared.size());
        assertEquals(25 + 10, Report001.sharedOnly(merged, null).size());
    }
}

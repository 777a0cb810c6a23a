package org.leukolab.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;
import tech.tablesaw.api.Table;

class LeakageAuditTest {
    @Test
    void bandsCountImagesAndLabelAgreement() {
        // A has 5 images; their nearest in B and similarities:
        NearDuplicates.Nearest n = new NearDuplicates.Nearest(new int[] {0, 1, 2, 0, 1}, new double[] {0.99, 0.96, 0.50, 0.97, 0.80});
        int[] labelsA = {0, 1, 0, 1, 1};
        int[] labelsB = {0, 1, 1};
        Table t = LeakageAudit.bands("t", n, labelsA, labelsB, 0.9, 0.95);
        assertEquals(List.of("below 0.90", "0.90 to 0.95", "0.95 or more"), t.stringColumn(0).asList());
        assertEquals(List.of(2, 0, 3), t.intColumn("images").asList());
        // below 0.9: image 2 (label 0, nearest 2 has label 1: no), image 4 (1 vs 1: yes) -> 0.5
        assertEquals(0.5, t.doubleColumn("nearest has the same class").get(0), 1e-12);
        // 0.95+: images 0 (0 vs 0 yes), 1 (1 vs 1 yes), 3 (1 vs 0 no) -> 2/3
        assertEquals(2.0 / 3, t.doubleColumn("nearest has the same class").get(2), 1e-12);
        assertEquals(0.6, t.doubleColumn("share of images").get(2), 1e-12);
    }

    @Test
    void rescoresSubsetsSeparately() {
        Map<String, int[]> p = new LinkedHashMap<>();
        p.put("a", new int[] {0, 0});
        p.put("b", new int[] {1, 1});
        p.put("c", new int[] {1, 0});
        p.put("d", new int[] {0, 1});
        Table t = LeakageAudit.rescore("m", p, List.of("x", "y"), Set.of("a", "b"));
        assertEquals(1.0, t.doubleColumn("accuracy").get(0), 1e-12);  // a, b right
        assertEquals(0.0, t.doubleColumn("accuracy").get(1), 1e-12);  // c, d wrong
        assertEquals(List.of(2, 2), t.intColumn("count").asList());
    }
}

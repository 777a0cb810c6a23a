package org.leukolab.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PairedComparisonTest {
    @Test
    void mcNemarExactMatchesScipyBinomtest() {
        // scipy.stats.binomtest(min(b, c), b + c, 0.5).pvalue
        assertEquals(0.09228515625, PairedComparison.mcNemarExact(10, 3), 1e-12);
        assertEquals(0.09228515625, PairedComparison.mcNemarExact(3, 10), 1e-12);
        assertEquals(0.08168153394154003, PairedComparison.mcNemarExact(40, 25), 1e-12);
        assertEquals(0.036578745549102676, PairedComparison.mcNemarExact(300, 250), 1e-10);
        assertEquals(0.0625, PairedComparison.mcNemarExact(0, 5), 1e-12);
        assertEquals(1.0, PairedComparison.mcNemarExact(0, 0));
        assertEquals(1.0, PairedComparison.mcNemarExact(7, 7));
    }

    /** n images; A right on the first rightA, B right on images [offsetB, offsetB + rightB). */
    static PairedComparison scenario(int n, int rightA, int offsetB, int rightB) {
        int[] actual = new int[n];
        int[] a = new int[n];
        int[] b = new int[n];
        for (int i = 0; i < n; i++) {
            actual[i] = i % 4;
            a[i] = i < rightA ? actual[i] : (actual[i] + 1) % 4;
            b[i] = i >= offsetB && i < offsetB + rightB ? actual[i] : -1;
        }
        return PairedComparison.of("A", a, "B", b, actual, 2000, 7);
    }

    @Test
    void countsAndAccuracies() {
        PairedComparison p = scenario(100, 60, 50, 30); // B right on 50..79
        assertEquals(0.60, p.accuracyA(), 1e-12);
        assertEquals(0.30, p.accuracyB(), 1e-12);
        assertEquals(50, p.onlyA()); // 0..49
        assertEquals(20, p.onlyB()); // 60..79
        assertEquals(PairedComparison.mcNemarExact(50, 20), p.pValue());
        assertTrue(p.ciLow() > 0 && p.ciHigh() < 0.6 && p.ciLow() < 0.3 && p.ciHigh() > 0.3, p.ciLow() + ".." + p.ciHigh());
        assertTrue(p.verdict().startsWith("A is more accurate"), p.verdict());
    }

    @Test
    void identicalModelsShowNoDifference() {
        int[] actual = {0, 1, 2, 3, 0, 1, 2, 3};
        int[] pred = {0, 1, 2, 0, 0, 2, 2, 3};
        PairedComparison p = PairedComparison.of("A", pred, "B", pred.clone(), actual, 500, 1);
        assertEquals(0.0, p.difference());
        assertEquals(0.0, p.ciLow());
        assertEquals(0.0, p.ciHigh());
        assertEquals(1.0, p.pValue());
        assertTrue(p.verdict().startsWith("no clear difference"));
    }

    @Test
    void aSmallGapOnAFewImagesIsNotCalledReal() {
        PairedComparison p = scenario(40, 22, 2, 20); // A right 0..21, B right 2..21: only A on 2 images
        assertTrue(p.ciLow() <= 0 && p.ciHigh() > 0);
        assertTrue(p.pValue() > 0.05);
    }

    @Test
    void theBootstrapIsSeeded() {
        PairedComparison a = scenario(200, 120, 30, 100);
        PairedComparison b = scenario(200, 120, 30, 100);
        assertEquals(a.ciLow(), b.ciLow());
        assertEquals(a.ciHigh(), b.ciHigh());
    }

    @Test
    void savedPredictionsAreMatchedByFile() {
        Map<String, int[]> a = new LinkedHashMap<>();
        Map<String, int[]> b = new LinkedHashMap<>();
        a.put("x", new int[] {0, 0});
        a.put("y", new int[] {1, 1});
        a.put("only-in-a", new int[] {2, 2});
        b.put("y", new int[] {1, 0});
        b.put("x", new int[] {0, 0});
        PairedComparison p = PairedComparison.of("A", a, "B", b);
        assertEquals(2, p.size());
        assertEquals(1.0, p.accuracyA());
        assertEquals(0.5, p.accuracyB());
        b.put("y", new int[] {2, 2});
        assertThrows(IllegalArgumentException.class, () -> PairedComparison.of("A", a, "B", b));
        assertThrows(IllegalArgumentException.class, () -> PairedComparison.of("A", Map.of("p", new int[] {0, 0}), "B", Map.of("q", new int[] {0, 0})));
        assertThrows(IllegalArgumentException.class, () -> PairedComparison.of("A", new int[] {0}, "B", new int[] {0, 1}, new int[] {0}));
    }
}

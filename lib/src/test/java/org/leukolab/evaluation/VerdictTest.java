package org.leukolab.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

/** One fixture per verdict and per reason a result is not comparable. */
class VerdictTest {
    static final String AP = Labels.Protocol.AS_PUBLISHED.words();
    static final String FULL = "full";

    static Labels labels(String protocol, Labels.Weights w, String data, String on) {
        return new Labels(protocol, w.words(), data, on);
    }

    static Verdict.Kind kind(double pub, double ours, double lo, double hi, Labels l, String profile, String publishedOn) {
        return Verdict.of(pub, ours, lo, hi, l, profile, l == null ? null : l.evaluatedOn(), publishedOn, 100).kind();
    }

    @Test
    void insideTheIntervalIsReproducedOutsideDiffers() {
        Labels l = labels(AP, Labels.Weights.NONE, FULL, "validation");
        assertEquals(Verdict.Kind.REPRODUCED, kind(79.0, 77.96, 76.1, 79.8, l, "full", "validation"));
        Verdict d = Verdict.of(79.0, 73.0, 71.0, 75.0, l, "full", "validation", "validation", 100);
        assertEquals(Verdict.Kind.DIFFERS, d.kind());
        assertTrue(d.reason().contains("-6.00 points") && d.reason().contains("[71.0, 75.0]"), d.reason());
        // without an interval (a training accuracy): within the tolerance
        Labels t = labels(AP, Labels.Weights.NONE, "stand-in", "training");
        assertEquals(Verdict.Kind.REPRODUCED, kind(83.95, 83.2, Double.NaN, Double.NaN, t, "full", "training"));
        Verdict far = Verdict.of(83.95, 82.6, Double.NaN, Double.NaN, t, "full", "training", "training", 100);
        assertEquals(Verdict.Kind.DIFFERS, far.kind());
        assertTrue(far.reason().contains("stand-in"), "a stand-in is comparable and says so: " + far.reason());
    }

    @Test
    void everyReasonForNotComparable() {
        Labels ok = labels(AP, Labels.Weights.NONE, FULL, "test");
        assertEquals(Verdict.Kind.NOT_COMPARABLE, kind(90, 90, 89, 91, ok, "quick", "test"), "quick profile");
        assertEquals(Verdict.Kind.NOT_COMPARABLE, kind(90, 90, 89, 91, labels(AP, Labels.Weights.NONE, "sample", "test"), "full", "test"));
        assertEquals(Verdict.Kind.NOT_COMPARABLE, kind(90, 90, 89, 91, labels(AP, Labels.Weights.NONE, "sample + stand-in", "test"), "full", "test"));
        assertEquals(Verdict.Kind.NOT_COMPARABLE, kind(90, 90, 89, 91, labels(AP, Labels.Weights.RANDOM, FULL, "test"), "full", "test"));
        assertEquals(Verdict.Kind.NOT_COMPARABLE, kind(90, 90, 89, 91, labels(Labels.Protocol.OURS.words(), Labels.Weights.NONE, FULL, "test"), "full", "test"));
        assertEquals(Verdict.Kind.NOT_COMPARABLE, kind(90, 90, 89, 91, ok, "full", "training"), "another set than the published one");
        assertEquals(Verdict.Kind.NOT_COMPARABLE, kind(90, 90, 89, 91, null, "full", "test"), "no labels");
        Verdict s = Verdict.of(90, 9.77, 5, 15, labels(AP, Labels.Weights.NONE, "sample", "test"), "full", "test", "test", 133);
        assertTrue(s.reason().contains("sample (133 images scored)"), s.reason());
        assertTrue(Verdict.of(90, 2.78, 2, 3, labels(AP, Labels.Weights.RANDOM, "stand-in", "test"), "full", "test", "test", 9).reason()
                .contains("random-weight backbone"));
    }

    @Test
    void notRunNoPublishedNumberAndCorrectedProtocol() {
        Labels ok = labels(AP, Labels.Weights.IMAGENET_SUBSTITUTE, FULL, "validation");
        assertEquals(Verdict.Kind.NOT_RUN, kind(91, Double.NaN, Double.NaN, Double.NaN, null, null, "validation"));
        assertEquals(Verdict.Kind.NO_PUBLISHED, kind(Double.NaN, 73.5, 71.8, 75.3, ok, "full", null));
        Verdict c = Verdict.of(79, 93.12, 92.0, 94.2, labels(Labels.Protocol.CORRECTED.words(), Labels.Weights.NONE, FULL, "validation"),
                "full", "validation", "validation", 100);
        assertEquals(Verdict.Kind.CORRECTED, c.kind(), "a corrected protocol is never the published number's reproduction");
        assertTrue(Verdict.of(91, 90.96, 89.7, 92.2, ok, "full", "validation", "validation", 100).reason().contains("substitute backbone"));
    }

    @Test
    void labelsRefuseWordsTheyDoNotKnow() {
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new Labels("as published (raw inputs)", Labels.Weights.NONE.words(), FULL, "test"));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new Labels(AP, "ImageNet (substitute: MobileNetV2)", FULL, "test"));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> new Labels(AP, Labels.Weights.NONE.words(), FULL, "val"));
    }

    @Test
    void aPublishedValueInsideTheSeedRangeIsReproducedWithinTheSpread() {
        Labels l = labels(AP, Labels.Weights.IMAGENET_SUBSTITUTE, "stand-in", "test");
        // one run: 83.4 [81.2, 85.7] against 86.0 differs; over 5 seeds ranging 82.0 to 86.5 it is within the spread
        assertEquals(Verdict.Kind.DIFFERS, Verdict.of(86.0, 83.4, 81.2, 85.7, l, "full", "test", "test", 1000).kind());
        Verdict v = Verdict.of(86.0, 83.4, 81.2, 85.7, l, "full", "test", "test", 1000, 82.0, 86.5, 5);
        assertEquals(Verdict.Kind.REPRODUCED, v.kind());
        assertTrue(v.reason().contains("5 seeds range 82.0 to 86.5: within the run-to-run spread"), v.reason());
        Verdict out = Verdict.of(92.0, 83.4, 81.2, 85.7, l, "full", "test", "test", 1000, 82.0, 86.5, 5);
        assertEquals(Verdict.Kind.DIFFERS, out.kind());
        assertTrue(out.reason().contains("5 seeds range"), out.reason());
        // the spread never makes a non-comparable result comparable
        assertEquals(Verdict.Kind.NOT_COMPARABLE, Verdict.of(86.0, 83.4, 81.2, 85.7, labels(AP, Labels.Weights.RANDOM, "stand-in", "test"),
                "full", "test", "test", 1000, 82.0, 86.5, 5).kind());
    }
}

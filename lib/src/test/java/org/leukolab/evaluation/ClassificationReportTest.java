package org.leukolab.evaluation;

import org.leukolab.metrics.ConfusionMatrix;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.factory.Nd4j;
import tech.tablesaw.api.Table;

/** Every expected value below was worked out by hand from the confusion matrix in the comment. */
class ClassificationReportTest {
    private static final double EPS = 1e-12;
    private static final List<String> CLASSES = List.of("a", "b", "c");
    //                                 a a a a b b b c c c
    private static final int[] ACTUAL = {0, 0, 0, 0, 1, 1, 1, 2, 2, 2};
    private static final int[] PRED   = {0, 0, 0, 1, 1, 1, 2, 2, 0, 2};
    // confusion (rows actual, columns predicted):
    //        a  b  c
    //   a  [ 3  1  0 ]   support 4
    //   b  [ 0  2  1 ]   support 3
    //   c  [ 1  0  2 ]   support 3
    // predicted totals: a 4, b 3, c 3; correct 7 of 10

    @Test
    void confusionMatrixCountsPairs() {
        ConfusionMatrix cm = ConfusionMatrix.of(ACTUAL, PRED, CLASSES);
        assertEquals(3, cm.count(0, 0));
        assertEquals(1, cm.count(0, 1));
        assertEquals(1, cm.count(1, 2));
        assertEquals(1, cm.count(2, 0));
        assertEquals(10, cm.total());
        assertEquals(7, cm.correct());
        Table t = cm.table();
        assertEquals(List.of("actual", "a", "b", "c"), t.columnNames());
        assertEquals(List.of(3, 0, 1), t.intColumn("a").asList());
    }

    @Test
    void perClassAndAveragedMetricsMatchHandComputation() {
        ClassificationReport r = ClassificationReport.of(ACTUAL, PRED, CLASSES);
        assertEquals(0.7, r.accuracy(), EPS);
        // precision = diagonal / column total
        assertEquals(3.0 / 4, r.precision(0), EPS);
        assertEquals(2.0 / 3, r.precision(1), EPS);
        assertEquals(2.0 / 3, r.precision(2), EPS);
        // recall = diagonal / row total
        assertEquals(3.0 / 4, r.recall(0), EPS);
        assertEquals(2.0 / 3, r.recall(1), EPS);
        assertEquals(2.0 / 3, r.recall(2), EPS);
        // F1 = 2PR/(P+R); here P == R for each class, so F1 == P
        assertEquals(0.75, r.f1(0), EPS);
        assertEquals(2.0 / 3, r.f1(1), EPS);
        assertEquals(4, r.support(0));
        // macro: plain mean over classes = (0.75 + 2/3 + 2/3) / 3 = 0.69444...
        assertEquals((0.75 + 2.0 / 3 + 2.0 / 3) / 3, r.macroPrecision(), EPS);
        assertEquals((0.75 + 2.0 / 3 + 2.0 / 3) / 3, r.macroF1(), EPS);
        // weighted by support: (0.75*4 + 2/3*3 + 2/3*3) / 10 = 0.7
        assertEquals(0.7, r.weightedRecall(), EPS);
        assertEquals(0.7, r.weightedPrecision(), EPS);
    }

    @Test
    void asymmetricCaseDistinguishesPrecisionFromRecall() {
        // actual:    0 0 0 1
        // predicted: 0 1 1 1   -> class 0: P = 1/1, R = 1/3; class 1: P = 1/3, R = 1/1
        ClassificationReport r = ClassificationReport.of(new int[] {0, 0, 0, 1}, new int[] {0, 1, 1, 1}, List.of("x", "y"));
        assertEquals(1.0, r.precision(0), EPS);
        assertEquals(1.0 / 3, r.recall(0), EPS);
        assertEquals(2 * (1.0 * 1.0 / 3) / (1.0 + 1.0 / 3), r.f1(0), EPS); // = 0.5
        assertEquals(0.5, r.f1(0), EPS);
        assertEquals(1.0 / 3, r.precision(1), EPS);
        assertEquals(1.0, r.recall(1), EPS);
        assertEquals(0.5, r.accuracy(), EPS);
        // weighted F1 = (0.5*3 + 0.5*1) / 4 = 0.5
        assertEquals(0.5, r.weightedF1(), EPS);
    }

    @Test
    void zeroDenominatorsAreZeroAndListed() {
        // class "c" is never predicted and never present
        ClassificationReport r = ClassificationReport.of(new int[] {0, 1}, new int[] {0, 1}, CLASSES);
        assertEquals(0.0, r.precision(2), EPS);
        assertEquals(0.0, r.recall(2), EPS);
        assertEquals(2, r.undefined().size());
        // macro averages run over the classes that occur (scikit-learn's default labels): (1 + 1) / 2, not (1 + 1 + 0) / 3
        assertEquals(1.0, r.macroF1(), EPS);
        // a class that is predicted but absent does count, with F1 0
        assertEquals(0.25, ClassificationReport.of(new int[] {0, 0}, new int[] {0, 2}, CLASSES).macroRecall(), EPS); // (0.5 + 0) / 2
        assertTrue(r.toString().contains("reported as 0"));
    }

    @Test
    void tableHasClassRowsAndAverages() {
        Table t = ClassificationReport.of(ACTUAL, PRED, CLASSES).table();
        assertEquals(List.of("a", "b", "c", "accuracy", "macro avg", "weighted avg"), t.stringColumn("class").asList());
        assertEquals(0.7, t.doubleColumn("f1").get(3), EPS);
        assertEquals(10, t.intColumn("support").get(5));
    }

    @Test
    void textLooksLikeAClassificationReport() {
        String s = ClassificationReport.of(ACTUAL, PRED, CLASSES).toString();
        assertTrue(s.contains("precision"), s);
        assertTrue(s.contains("0.7500"), s);
        assertTrue(s.contains("macro avg"), s);
    }

    @Test
    void argMaxOfScores() {
        var scores = Nd4j.createFromArray(new float[][] {{0.1f, 0.7f, 0.2f}, {0.8f, 0.1f, 0.1f}});
        ClassificationReport r = ClassificationReport.fromScores(scores, new int[] {1, 2}, CLASSES);
        assertEquals(0.5, r.accuracy(), EPS);
    }

    @Test
    void rejectsMismatchedOrOutOfRangeLabels() {
        assertThrows(IllegalArgumentException.class, () -> ConfusionMatrix.of(new int[] {0}, new int[] {0, 1}, CLASSES));
        assertThrows(IllegalArgumentException.class, () -> ConfusionMatrix.of(new int[] {3}, new int[] {0}, CLASSES));
    }

    @Test
    void comparisonTableHasOneRowPerModel() {
        ClassificationReport a = ClassificationReport.of(ACTUAL, PRED, CLASSES).titled("model A");
        ClassificationReport b = ClassificationReport.of(ACTUAL, ACTUAL, CLASSES).titled("model B");
        Table t = Comparison.headline(a, b);
        assertEquals(List.of("model A", "model B"), t.stringColumn("model").asList());
        assertEquals(1.0, t.doubleColumn("accuracy").get(1), EPS);
    }

    @Test
    void noClassPredictionsCountAsWrongAndLeavePrecisionAlone() {
        // actual:    a a a b b c
        // predicted: a - a b - b      (- = no class)
        int none = ConfusionMatrix.NO_CLASS;
        ClassificationReport r = ClassificationReport.of(new int[] {0, 0, 0, 1, 1, 2},
                new int[] {0, none, 0, 1, none, 1}, CLASSES);
        assertEquals(3.0 / 6, r.accuracy(), EPS);
        assertEquals(1.0, r.precision(0), EPS);        // 2 predicted a, both right
        assertEquals(2.0 / 3, r.recall(0), EPS);       // 2 of 3 a found
        assertEquals(1.0 / 2, r.precision(1), EPS);    // predicted b twice, once right
        assertEquals(1.0 / 2, r.recall(1), EPS);
        assertEquals(2, r.confusion().noClassTotal());
        assertEquals(List.of("actual", "a", "b", "c", "(no class)"), r.confusion().table().columnNames());

        Table t = r.multilabelTable();
        assertEquals(List.of("a", "b", "c", "micro avg", "macro avg", "weighted avg", "samples avg"),
                t.stringColumn("class").asList());
        assertEquals(1.0, t.doubleColumn("precision").get(2), EPS);        // c never predicted: zero_division=1
        assertEquals(0.0, t.doubleColumn("recall").get(2), EPS);
        assertEquals(3.0 / 4, t.doubleColumn("precision").get(3), EPS);   // micro: 3 right of 4 predicted
        assertEquals(3.0 / 6, t.doubleColumn("recall").get(3), EPS);
        assertEquals((3.0 + 2.0) / 6, t.doubleColumn("precision").get(6), EPS); // samples: right or nothing predicted
        assertEquals(3.0 / 6, t.doubleColumn("recall").get(6), EPS);
        assertEquals((1.0 + 0.5 + 1.0) / 3, t.doubleColumn("precision").get(4), EPS); // macro
        assertTrue(r.toString().contains("no class predicted for 2 of 6"));
    }
}

package org.leukolab.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

class RocAucTest {
    /** scikit-learn's roc_auc_score on 240 random examples of 5 classes with tied probabilities (data-scripts/test-fixtures). */
    @Test
    void macroOneVsRestEqualsScikitLearn() throws Exception {
        JsonObject f;
        try (var in = new InputStreamReader(getClass().getResourceAsStream("auc-fixture.json"), StandardCharsets.UTF_8)) {
            f = new Gson().fromJson(in, JsonObject.class);
        }
        int[] labels = new Gson().fromJson(f.get("labels"), int[].class);
        double[][] p = new Gson().fromJson(f.get("probabilities"), double[][].class);
        double[] perClass = new Gson().fromJson(f.get("per_class_auc"), double[].class);
        for (int c = 0; c < perClass.length; c++) {
            double[] col = new double[p.length];
            for (int i = 0; i < p.length; i++) {
                col[i] = p[i][c];
            }
            assertEquals(perClass[c], RocAuc.binary(col, labels, c), 1e-12, "class " + c);
        }
        assertEquals(f.get("macro_ovr_auc").getAsDouble(), RocAuc.macroOneVsRest(p, labels), 1e-12);
    }

    @Test
    void handCases() {
        assertEquals(1.0, RocAuc.binary(new double[] {0.1, 0.2, 0.8, 0.9}, new int[] {0, 0, 1, 1}, 1));
        assertEquals(0.0, RocAuc.binary(new double[] {0.9, 0.8, 0.2, 0.1}, new int[] {0, 0, 1, 1}, 1));
        assertEquals(0.5, RocAuc.binary(new double[] {0.5, 0.5, 0.5, 0.5}, new int[] {0, 1, 0, 1}, 1), "all tied");
        // one positive (0.6) above 2 of 3 negatives and tied with the third: (2 + 0.5) / 3
        assertEquals(2.5 / 3, RocAuc.binary(new double[] {0.2, 0.6, 0.6, 0.4}, new int[] {0, 1, 0, 0}, 1), 1e-12);
        assertTrue(Double.isNaN(RocAuc.binary(new double[] {0.1, 0.2}, new int[] {0, 0}, 1)), "no positive: undefined");
    }

    @Test
    void classesWithoutExamplesAreLeftOutOfTheMacroMean() {
        double[][] p = {{0.8, 0.1, 0.1}, {0.2, 0.7, 0.1}, {0.6, 0.3, 0.1}, {0.1, 0.8, 0.1}};
        int[] y = {0, 1, 0, 1}; // class 2 never occurs
        assertEquals(1.0, RocAuc.macroOneVsRest(p, y), 1e-12);
    }

    @Test
    void scoresNameEveryMetricAndItsDirection() {
        double[][] p = {{0.7, 0.2, 0.1}, {0.1, 0.8, 0.1}, {0.3, 0.3, 0.4}, {0.5, 0.4, 0.1}};
        Scores s = Scores.of(p, new int[] {0, 1, 2, 1}, List.of("a", "b", "c"));
        assertEquals(0.75, s.accuracy(), 1e-12);
        double ce = -(Math.log(0.7) + Math.log(0.8) + Math.log(0.4) + Math.log(0.4)) / 4;
        assertEquals(ce, s.loss(), 1e-12);
        // macro F1: a (P 1/2, R 1) 2/3, b (P 1, R 1/2) 2/3, c 1
        assertEquals((2.0 / 3 + 2.0 / 3 + 1) / 3, s.f1(), 1e-12);
        assertEquals(List.of("loss", "accuracy", "f1", "weighted_f1", "auc"), List.copyOf(s.named("").keySet()));
        assertTrue(Metric.byName("val_f1").orElseThrow().higherIsBetter());
        assertTrue(!Metric.byName("val_loss").orElseThrow().higherIsBetter());
        assertTrue(Metric.byName("my_metric").isEmpty());
    }
}

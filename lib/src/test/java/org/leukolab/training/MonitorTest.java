package org.leukolab.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class MonitorTest {
    @Test
    void autoModeTakesEachMetricsDeclaredDirection() {
        assertTrue(Monitor.of("val_f1").higherIsBetter(), "F1 is maximised (a name without 'acc')");
        assertTrue(Monitor.of("val_auc").higherIsBetter());
        assertTrue(Monitor.of("val_weighted_f1").higherIsBetter());
        assertTrue(Monitor.of("accuracy").higherIsBetter());
        assertFalse(Monitor.of("val_loss").higherIsBetter());
        assertFalse(Monitor.of("val_f1").mode(Monitor.Mode.MIN).higherIsBetter(), "an explicit mode wins");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> EarlyStopping.on("val_dice", 3, false));
        assertTrue(e.getMessage().contains("give the mode"), e.getMessage());
        assertTrue(Monitor.of("val_dice").mode(Monitor.Mode.MAX).higherIsBetter());
    }

    @Test
    void minDeltaAndBaseline() {
        Monitor m = Monitor.of("val_f1").minDelta(0.01);
        assertTrue(m.improves(0.52, 0.5));
        assertFalse(m.improves(0.505, 0.5), "within min_delta is no improvement");
        Monitor loss = Monitor.of("val_loss").minDelta(0.01);
        assertTrue(loss.improves(0.48, 0.5));
        assertFalse(loss.improves(0.495, 0.5));
        assertFalse(m.improves(Double.NaN, 0.5));
    }

    /** Early stopping on val_f1 stops when F1 stops rising, not when it rises (the old name rule minimised it). */
    @Test
    void earlyStoppingOnValF1Maximises() {
        double[] f1 = {0.50, 0.60, 0.70, 0.65, 0.66, 0.64};
        List<String> stops = run(EarlyStopping.on("val_f1", 2, false), "val_f1", f1);
        assertEquals(List.of("stop at 5"), stops, "best 0.70 at epoch 3, two epochs without improvement");
        List<String> rising = run(EarlyStopping.on("val_f1", 2, false), "val_f1", new double[] {0.5, 0.6, 0.7, 0.8});
        assertTrue(rising.isEmpty(), "a rising F1 never stops training: " + rising);
    }

    @Test
    void baselineMustBeBeatenToResetPatience() {
        // Keras: improvements that do not beat the baseline do not reset the wait, so the first epoch without
        // improvement after `patience` epochs stops; without a baseline the same values go on
        double[] acc = {0.5, 0.6, 0.7, 0.65};
        EarlyStopping es = EarlyStopping.on(Monitor.of("val_accuracy").patience(3).baseline(0.9));
        assertEquals(List.of("stop at 4"), run(es, "val_accuracy", acc));
        assertEquals(List.of(), run(EarlyStopping.on("val_accuracy", 3, false), "val_accuracy", acc));
    }

    @Test
    void reduceLrWaitsPatienceEpochsThenCoolsDown() {
        ReduceLrOnPlateau r = ReduceLrOnPlateau.on(Monitor.of("val_loss").patience(2), 0.5, 1e-5).cooldown(2);
        Trainer t = Trainer.builder("t").learningRate(0.1).build();
        TestContext ctx = new TestContext(t, 0.1);
        double[] loss = {1.0, 1.0, 1.0, 1.0, 1.0, 1.0, 1.0};
        List<Double> lrs = new ArrayList<>();
        for (int e = 0; e < loss.length; e++) {
            r.onEpochEnd(ctx.ctx, e + 1, Map.of("val_loss", loss[e]));
            lrs.add(ctx.ctx.learningRate());
        }
        // epoch 1 sets the best; 2, 3 without improvement -> halved at 3; 4 and 5 cool down (Keras counts epoch 5
        // again), so 5, 6 are the two epochs without improvement -> halved at 6
        assertEquals(List.of(0.1, 0.1, 0.05, 0.05, 0.05, 0.025, 0.025), lrs);
    }

    @Test
    void missingMetricIsAClearError() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Monitor.of("val_f1").valueIn(Map.of("loss", 1.0, "f1", 0.5)));
        assertTrue(e.getMessage().contains("validation data"), e.getMessage());
    }

    private static List<String> run(MonitorCallback cb, String metric, double[] values) {
        Trainer t = Trainer.builder("t").build();
        TestContext ctx = new TestContext(t, Double.NaN);
        List<String> out = new ArrayList<>();
        for (int e = 0; e < values.length; e++) {
            cb.onEpochEnd(ctx.ctx, e + 1, Map.of(metric, values[e]));
            if (ctx.stopped()) {
                out.add("stop at " + (e + 1));
                break;
            }
        }
        return out;
    }

    /** A trainer context over a small network (callbacks read and set the learning rate through it). */
    static final class TestContext {
        final Trainer.Context ctx;

        TestContext(Trainer t, double lr) {
            ctx = t.new Context(Network.of(TrainerTest.net(1)), lr);
        }

        boolean stopped() {
            return ctx.stopReason() != null;
        }
    }
}

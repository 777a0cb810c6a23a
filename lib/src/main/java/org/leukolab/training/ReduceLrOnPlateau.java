package org.leukolab.training;

import com.google.gson.JsonObject;
import java.util.Locale;
import java.util.Map;

/**
 * Multiplies the learning rate by {@code factor} when a metric has not improved for {@code patience}
 * epochs, never below {@code minLr} (Keras' ReduceLROnPlateau, min_delta 1e-4, no cooldown).
 */
public final class ReduceLrOnPlateau implements Callback {
    private static final double MIN_DELTA = 1e-4;
    private final String monitor;
    private final double factor;
    private final int patience;
    private final double minLr;
    private double best;
    private int wait;

    private ReduceLrOnPlateau(String monitor, double factor, int patience, double minLr) {
        if (!(factor > 0 && factor < 1)) {
            throw new IllegalArgumentException("factor must be in (0, 1), got " + factor);
        }
        this.monitor = monitor;
        this.factor = factor;
        this.patience = patience;
        this.minLr = minLr;
        this.best = Callback.higherIsBetter(monitor) ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
    }

    public static ReduceLrOnPlateau on(String monitor, double factor, int patience, double minLr) {
        return new ReduceLrOnPlateau(monitor, factor, patience, minLr);
    }

    @Override
    public void onEpochEnd(Trainer.Context ctx, int epoch, Map<String, Double> metrics) {
        double v = Callback.metric(metrics, monitor);
        boolean better = Callback.higherIsBetter(monitor) ? v > best + MIN_DELTA : v < best - MIN_DELTA;
        if (better) {
            best = v;
            wait = 0;
            return;
        }
        wait++;
        if (wait >= patience) {
            double lr = ctx.learningRate();
            if (lr > minLr) {
                double next = Math.max(lr * factor, minLr);
                ctx.setLearningRate(next);
                ctx.note(String.format(Locale.ROOT, "%s did not improve for %d epochs: learning rate %.2e -> %.2e",
                        monitor, patience, lr, next));
            }
            wait = 0;
        }
    }

    @Override
    public String describe() {
        return String.format(Locale.ROOT, "ReduceLROnPlateau(%s, factor %s, patience %d, min %s)", monitor, factor, patience, minLr);
    }

    @Override
    public JsonObject state() {
        JsonObject o = new JsonObject();
        o.addProperty("best", best);
        o.addProperty("wait", wait);
        return o;
    }

    @Override
    public void restore(JsonObject s) {
        best = s.get("best").getAsDouble();
        wait = s.get("wait").getAsInt();
    }
}

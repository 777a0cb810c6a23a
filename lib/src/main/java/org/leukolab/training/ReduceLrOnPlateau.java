package org.leukolab.training;

import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;

/**
 * Multiplies the learning rate by {@code factor} when the monitored metric has not improved for
 * {@code patience} epochs, never below {@code minLr} (Keras' ReduceLROnPlateau: min_delta 1e-4 by default,
 * optional cooldown epochs after a reduction during which waiting does not count).
 *
 * <pre>{@code
 * ReduceLrOnPlateau.on("val_loss", 0.5, 4, 0)
 * ReduceLrOnPlateau.on(Monitor.of("val_f1").patience(2).minDelta(1e-4), 0.3, 1e-6).cooldown(1)
 * }</pre>
 */
public final class ReduceLrOnPlateau extends MonitorCallback {
    /** Keras' default min_delta for this callback. */
    public static final double KERAS_MIN_DELTA = 1e-4;
    private final double factor;
    private final double minLr;
    private int cooldown;
    private int cooldownLeft;

    private ReduceLrOnPlateau(Monitor monitor, double factor, double minLr) {
        super(monitor);
        if (!(factor > 0 && factor < 1)) {
            throw new IllegalArgumentException("factor must be in (0, 1), got " + factor);
        }
        if (monitor.patience() < 1) {
            throw new IllegalArgumentException("patience must be at least 1 for ReduceLrOnPlateau");
        }
        this.factor = factor;
        this.minLr = minLr;
    }

    /** Keras' {@code ReduceLROnPlateau(monitor, factor, patience, min_lr)} with min_delta 1e-4. */
    public static ReduceLrOnPlateau on(String metric, double factor, int patience, double minLr) {
        return new ReduceLrOnPlateau(Monitor.of(metric).patience(patience).minDelta(KERAS_MIN_DELTA), factor, minLr);
    }

    public static ReduceLrOnPlateau on(Monitor monitor, double factor, double minLr) {
        return new ReduceLrOnPlateau(monitor, factor, minLr);
    }

    /**
     * Epochs after a reduction during which the plateau count is cleared (Keras' {@code cooldown}, with its
     * counting: the first epoch after the cooldown already counts, so a cooldown of 1 changes nothing).
     */
    public ReduceLrOnPlateau cooldown(int epochs) {
        this.cooldown = Math.max(0, epochs);
        return this;
    }

    @Override
    public void onEpochEnd(Trainer.Context ctx, int epoch, Map<String, Double> metrics) {
        // Keras' order: a cooldown epoch first counts down and clears the wait, then the value is judged
        if (cooldownLeft > 0) {
            cooldownLeft--;
            resetWait();
        }
        if (observe(epoch, metrics)) {
            resetWait();
            return;
        }
        if (cooldownLeft > 0) {
            resetWait(); // still cooling down: the plateau does not count yet
            return;
        }
        if (patienceRunOut()) {
            double lr = ctx.learningRate();
            if (lr > minLr) {
                double next = Math.max(lr * factor, minLr);
                ctx.setLearningRate(next);
                ctx.note(String.format(Locale.ROOT, "%s did not improve for %d epochs: learning rate %.2e -> %.2e",
                        monitor.metric(), monitor.patience(), lr, next));
                cooldownLeft = cooldown;
                resetWait();
            }
        }
    }

    @Override
    public String describe() {
        return String.format(Locale.ROOT, "ReduceLROnPlateau(%s, factor %s, min %s%s)", monitor, factor, minLr,
                cooldown > 0 ? ", cooldown " + cooldown : "");
    }

    @Override
    public JsonObject save(Path folder) {
        JsonObject o = super.save(folder);
        o.addProperty("cooldownLeft", cooldownLeft);
        return o;
    }

    @Override
    public void restore(JsonObject state, Path folder, Trainer.Context ctx) {
        super.restore(state, folder, ctx);
        cooldownLeft = state.has("cooldownLeft") ? state.get("cooldownLeft").getAsInt() : 0;
    }
}

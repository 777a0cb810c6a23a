package org.leukolab.training;

import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.Map;

/**
 * The base under every callback that watches a metric (Keras' {@code MonitorCallback}): it keeps the best
 * value seen, the epoch it was seen in, and how many epochs have passed without improvement, and saves
 * and restores them with the checkpoint. Subclasses decide what to do with an improvement or a plateau.
 *
 * <p>Each epoch, {@link #observe} counts the epoch as waiting, then, if the value improves on the best by
 * more than min_delta, records it as the new best and (if it also beats the baseline, when one is set)
 * resets the count, exactly as Keras' {@code EarlyStopping} does.
 */
public abstract class MonitorCallback implements Callback {
    protected final Monitor monitor;
    private double best;
    private int bestEpoch = -1;
    private int wait;

    protected MonitorCallback(Monitor monitor) {
        this.monitor = monitor;
        this.best = monitor.worst();
    }

    public Monitor monitor() {
        return monitor;
    }

    /**
     * Reads the monitored value from an epoch's metrics and updates best, best epoch and the waiting count;
     * true if the value is a new best.
     */
    protected final boolean observe(int epoch, Map<String, Double> metrics) {
        double v = monitor.valueIn(metrics);
        wait++;
        if (!monitor.improves(v, best)) {
            return false;
        }
        best = v;
        bestEpoch = epoch;
        if (Double.isNaN(monitor.baseline()) || monitor.improves(v, monitor.baseline())) {
            wait = 0;
        }
        return true;
    }

    /** True once {@code patience} epochs have passed without an improvement. */
    protected final boolean patienceRunOut() {
        return wait >= monitor.patience();
    }

    protected final void resetWait() {
        wait = 0;
    }

    /** The best value seen so far (the mode's worst value before any epoch). */
    public double best() {
        return best;
    }

    /** The epoch (1-based) of the best value, -1 before any. */
    public int bestEpoch() {
        return bestEpoch;
    }

    /** Epochs since the last improvement. */
    public int waited() {
        return wait;
    }

    @Override
    public JsonObject save(Path folder) {
        JsonObject o = new JsonObject();
        o.addProperty("best", best);
        o.addProperty("bestEpoch", bestEpoch);
        o.addProperty("wait", wait);
        return o;
    }

    @Override
    public void restore(JsonObject state, Path folder, Trainer.Context ctx) {
        best = state.get("best").getAsDouble();
        bestEpoch = state.get("bestEpoch").getAsInt();
        wait = state.get("wait").getAsInt();
    }
}

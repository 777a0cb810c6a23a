package org.leukolab.training;

import com.google.gson.JsonObject;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Stops training when a metric has not improved for {@code patience} epochs (Keras' EarlyStopping).
 * With {@code restoreBest}, the weights of the best epoch are put back when it stops, as Keras 2 does
 * (if training runs to its last epoch without stopping, the last weights stay).
 */
public final class EarlyStopping implements Callback {
    private final String monitor;
    private final int patience;
    private final double minDelta;
    private final boolean restoreBest;
    private double best;
    private int bestEpoch = -1;
    private int wait;
    private int stoppedEpoch = -1;
    private INDArray bestParams;

    private EarlyStopping(String monitor, int patience, double minDelta, boolean restoreBest) {
        this.monitor = monitor;
        this.patience = patience;
        this.minDelta = minDelta;
        this.restoreBest = restoreBest;
        this.best = Callback.higherIsBetter(monitor) ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
    }

    public static EarlyStopping on(String monitor, int patience, boolean restoreBest) {
        return new EarlyStopping(monitor, patience, 0.0, restoreBest);
    }

    @Override
    public void onEpochEnd(Trainer.Context ctx, int epoch, Map<String, Double> metrics) {
        double v = Callback.metric(metrics, monitor);
        boolean better = Callback.higherIsBetter(monitor) ? v - minDelta > best : v + minDelta < best;
        if (better) {
            best = v;
            bestEpoch = epoch;
            wait = 0;
            if (restoreBest) {
                bestParams = ctx.network().params().dup();
            }
            return;
        }
        wait++;
        if (wait >= patience) {
            stoppedEpoch = epoch;
            ctx.stop("early stopping: " + monitor + " did not improve for " + patience + " epochs (best "
                    + String.format(java.util.Locale.ROOT, "%.4f", best) + " at epoch " + bestEpoch + ")");
            if (restoreBest && bestParams != null) {
                ctx.network().setParams(bestParams);
                ctx.note("restored the weights of epoch " + bestEpoch);
            }
        }
    }

    public int bestEpoch() {
        return bestEpoch;
    }

    public int stoppedEpoch() {
        return stoppedEpoch;
    }

    @Override
    public String describe() {
        return "EarlyStopping(" + monitor + ", patience " + patience + (restoreBest ? ", restore best" : "") + ")";
    }

    @Override
    public JsonObject state() {
        JsonObject o = new JsonObject();
        o.addProperty("best", best);
        o.addProperty("bestEpoch", bestEpoch);
        o.addProperty("wait", wait);
        return o;
    }

    @Override
    public void restore(JsonObject s) {
        best = s.get("best").getAsDouble();
        bestEpoch = s.get("bestEpoch").getAsInt();
        wait = s.get("wait").getAsInt();
        // the best weights themselves are in best-early-stopping.zip, reloaded by the trainer
    }

    INDArray bestParams() {
        return bestParams;
    }

    void setBestParams(INDArray p) {
        bestParams = p;
    }

    boolean restoresBest() {
        return restoreBest;
    }
}

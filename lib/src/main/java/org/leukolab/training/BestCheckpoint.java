package org.leukolab.training;

import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.Map;

/** Saves the model whenever a metric reaches a new best (Keras' ModelCheckpoint with save_best_only). */
public final class BestCheckpoint implements Callback {
    private final String monitor;
    private double best;
    private int bestEpoch = -1;
    private Path file;

    private BestCheckpoint(String monitor) {
        this.monitor = monitor;
        this.best = Callback.higherIsBetter(monitor) ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
    }

    public static BestCheckpoint on(String monitor) {
        return new BestCheckpoint(monitor);
    }

    @Override
    public void onTrainStart(Trainer.Context ctx) {
        file = ctx.checkpointDir().map(d -> d.resolve("best.zip")).orElse(null);
        if (file == null) {
            ctx.note("BestCheckpoint: no checkpoint folder set, the best model is not saved to disk");
        }
    }

    @Override
    public void onEpochEnd(Trainer.Context ctx, int epoch, Map<String, Double> metrics) {
        double v = Callback.metric(metrics, monitor);
        boolean better = Callback.higherIsBetter(monitor) ? v > best : v < best;
        if (better) {
            best = v;
            bestEpoch = epoch;
            if (file != null) {
                ctx.network().save(file);
            }
        }
    }

    /** The saved best model, or null if there is no checkpoint folder. */
    public Path file() {
        return file;
    }

    public int bestEpoch() {
        return bestEpoch;
    }

    @Override
    public String describe() {
        return "BestCheckpoint(" + monitor + ")";
    }

    @Override
    public JsonObject state() {
        JsonObject o = new JsonObject();
        o.addProperty("best", best);
        o.addProperty("bestEpoch", bestEpoch);
        return o;
    }

    @Override
    public void restore(JsonObject s) {
        best = s.get("best").getAsDouble();
        bestEpoch = s.get("bestEpoch").getAsInt();
    }
}

package org.leukolab.training;

import java.nio.file.Path;
import java.util.Map;

/**
 * Saves the model to {@code best.zip} in the trainer's checkpoint folder whenever the monitored metric
 * reaches a new best (Keras' ModelCheckpoint with {@code save_best_only=True}; a baseline plays the part of
 * its {@code initial_value_threshold}).
 */
public final class BestCheckpoint extends MonitorCallback {
    private Path file;

    private BestCheckpoint(Monitor monitor) {
        super(monitor);
    }

    public static BestCheckpoint on(String metric) {
        return new BestCheckpoint(Monitor.of(metric));
    }

    public static BestCheckpoint on(Monitor monitor) {
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
        if (observe(epoch, metrics) && file != null) {
            ctx.network().save(file);
        }
    }

    /** The saved best model, or null if there is no checkpoint folder. */
    public Path file() {
        return file;
    }

    @Override
    public String describe() {
        return "BestCheckpoint(" + monitor + ")";
    }
}

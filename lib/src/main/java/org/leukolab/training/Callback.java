package org.leukolab.training;

import com.google.gson.JsonObject;
import java.util.Map;

/**
 * Something the trainer calls after every epoch with that epoch's metrics ({@code loss},
 * {@code accuracy}, {@code val_loss}, {@code val_accuracy}, {@code lr}), as Keras callbacks are.
 * Its state is saved with each checkpoint so an interrupted run resumes exactly.
 */
public interface Callback {
    default void onTrainStart(Trainer.Context ctx) {}

    void onEpochEnd(Trainer.Context ctx, int epoch, Map<String, Double> metrics);

    default void onTrainEnd(Trainer.Context ctx) {}

    /** Short description for logs and result files. */
    String describe();

    JsonObject state();

    void restore(JsonObject state);

    /** Keras' "auto" mode: metrics with "acc" in their name improve upwards, the others downwards. */
    static boolean higherIsBetter(String monitor) {
        return monitor.contains("acc");
    }

    static double metric(Map<String, Double> metrics, String monitor) {
        Double v = metrics.get(monitor);
        if (v == null) {
            throw new IllegalArgumentException("callback monitors '" + monitor + "' but the epoch reported only "
                    + metrics.keySet() + " (is there validation data?)");
        }
        return v;
    }
}

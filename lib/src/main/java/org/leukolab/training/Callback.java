package org.leukolab.training;

import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.Map;

/**
 * Something the trainer calls after every epoch with that epoch's metrics (the history row: {@code loss},
 * {@code accuracy}, {@code f1}, ..., {@code val_loss}, ..., {@code lr}), as Keras callbacks are.
 *
 * <p><b>Resume.</b> With a checkpoint folder, after every epoch the trainer asks each callback for its state
 * ({@link #save}) and stores it with the model; a resumed run hands it back ({@link #restore}) before the
 * next epoch, so the callback continues exactly where it was. A callback with large state (weights) writes
 * it into the folder it is given, which belongs to that epoch's checkpoint.
 */
public interface Callback {
    default void onTrainStart(Trainer.Context ctx) {}

    void onEpochEnd(Trainer.Context ctx, int epoch, Map<String, Double> metrics);

    default void onTrainEnd(Trainer.Context ctx) {}

    /** Short description for logs, result files and the checkpoint signature (include every setting). */
    String describe();

    /** Its state after an epoch, as JSON; files it needs go into {@code folder} (the epoch's checkpoint). */
    JsonObject save(Path folder);

    /** Takes back a state written by {@link #save} (with the same folder). */
    void restore(JsonObject state, Path folder, Trainer.Context ctx);
}

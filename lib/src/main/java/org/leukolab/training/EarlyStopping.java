package org.leukolab.training;

import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.leukolab.system.AtomicFiles;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Stops training when the monitored metric has not improved for {@code patience} epochs (Keras'
 * EarlyStopping). With {@link #restoreBest()}, the weights of the best epoch are put back when it stops,
 * as Keras 2 does (if training runs to its last epoch without stopping, the last weights stay).
 *
 * <pre>{@code
 * EarlyStopping.on("val_loss", 5, true)                       // the reports' usual setting
 * EarlyStopping.on(Monitor.of("val_f1").patience(5).minDelta(1e-3)).restoreBest()
 * }</pre>
 */
public final class EarlyStopping extends MonitorCallback {
    private static final String BEST_FILE = "early-stopping-best.bin";
    private boolean restoreBest;
    private int stoppedEpoch = -1;
    private INDArray bestParams;

    private EarlyStopping(Monitor monitor) {
        super(monitor);
    }

    /** Stops after {@code patience} epochs without improvement of {@code metric} (in its declared direction). */
    public static EarlyStopping on(String metric, int patience, boolean restoreBest) {
        EarlyStopping e = new EarlyStopping(Monitor.of(metric).patience(patience));
        e.restoreBest = restoreBest;
        return e;
    }

    public static EarlyStopping on(Monitor monitor) {
        return new EarlyStopping(monitor);
    }

    /** Put the best epoch's weights back when stopping (Keras' {@code restore_best_weights=True}). */
    public EarlyStopping restoreBest() {
        this.restoreBest = true;
        return this;
    }

    @Override
    public void onEpochEnd(Trainer.Context ctx, int epoch, Map<String, Double> metrics) {
        if (restoreBest && bestParams == null) {
            bestParams = ctx.network().params().dup(); // as Keras: the first epoch's weights until something beats them
        }
        if (observe(epoch, metrics)) {
            if (restoreBest) {
                bestParams = ctx.network().params().dup();
            }
            return;
        }
        if (patienceRunOut() && epoch > 1) { // as Keras: never after the first epoch
            stoppedEpoch = epoch;
            ctx.stop(String.format(Locale.ROOT, "early stopping: %s did not improve for %d epochs (best %.4f at epoch %d)",
                    monitor.metric(), monitor.patience(), best(), bestEpoch()));
            if (restoreBest && bestParams != null) {
                ctx.network().setParams(bestParams);
                ctx.note("restored the weights of epoch " + bestEpoch());
            }
        }
    }

    public int stoppedEpoch() {
        return stoppedEpoch;
    }

    public boolean restoresBest() {
        return restoreBest;
    }

    @Override
    public String describe() {
        return "EarlyStopping(" + monitor + (restoreBest ? ", restore best" : "") + ")";
    }

    @Override
    public JsonObject save(Path folder) {
        JsonObject o = super.save(folder);
        o.addProperty("stoppedEpoch", stoppedEpoch);
        if (restoreBest && bestParams != null) {
            AtomicFiles.writeWith(folder.resolve(BEST_FILE), tmp -> Nd4j.saveBinary(bestParams, tmp.toFile()));
            o.addProperty("bestParams", BEST_FILE);
        }
        return o;
    }

    @Override
    public void restore(JsonObject state, Path folder, Trainer.Context ctx) {
        super.restore(state, folder, ctx);
        stoppedEpoch = state.has("stoppedEpoch") ? state.get("stoppedEpoch").getAsInt() : -1;
        bestParams = null;
        if (state.has("bestParams")) {
            Path f = folder.resolve(state.get("bestParams").getAsString());
            if (!Files.isRegularFile(f)) {
                throw new IllegalStateException("the checkpoint names " + f + " but it is missing");
            }
            try {
                bestParams = Nd4j.readBinary(f.toFile());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + f + ": " + e.getMessage(), e);
            }
        }
    }
}

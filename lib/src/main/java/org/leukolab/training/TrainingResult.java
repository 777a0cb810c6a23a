package org.leukolab.training;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.leukolab.notebook.Rich;
import org.leukolab.notebook.Tables;
import org.leukolab.plots.Charts;
import org.leukolab.plots.Figure;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.Table;

/**
 * The outcome of {@link Trainer#fit}: the history (one row per epoch: loss, accuracy, val_loss,
 * val_accuracy, lr, seconds), why it stopped, and notes (learning-rate changes, restores, resume).
 */
public record TrainingResult(String name, Table history, int epochs, String stopReason, List<String> notes,
                             double seconds, boolean resumed, Path checkpointDir) implements Rich {

    static Table historyTable(String name, List<Map<String, Double>> rows) {
        Table t = Table.create(name + " history");
        t.addColumns(IntColumn.create("epoch", rows.stream().mapToInt(r -> r.get("epoch").intValue()).toArray()));
        for (String k : List.of("loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds")) {
            if (!rows.isEmpty() && rows.get(0).containsKey(k)) {
                t.addColumns(DoubleColumn.create(k, rows.stream().mapToDouble(r -> r.getOrDefault(k, Double.NaN)).toArray()));
            }
        }
        return t;
    }

    /** Loss and accuracy curves of this run. */
    public Figure curves() {
        return Charts.learningCurves(history);
    }

    /** Mean seconds per epoch over the epochs run in this session (resumed epochs included). */
    public double secondsPerEpoch() {
        return history.rowCount() == 0 ? Double.NaN : history.doubleColumn("seconds").mean();
    }

    @Override
    public String toString() {
        return String.format("%s: %d epoch(s)%s, %.0f s%s%s", name, epochs, resumed ? " (resumed from a checkpoint)" : "",
                seconds, stopReason == null ? "" : "; stopped: " + stopReason,
                notes.isEmpty() ? "" : "; " + String.join("; ", notes));
    }

    @Override
    public Map<String, Object> mimeBundle() {
        Table shown = Tables.rounded(history, 4);
        return Map.of("text/plain", toString() + "\n" + shown.print(),
                "text/html", "<p>" + Tables.escape(toString()) + "</p>" + Tables.html(shown, 0));
    }
}

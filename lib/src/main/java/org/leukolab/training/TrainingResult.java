package org.leukolab.training;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.leukolab.notebook.Rich;
import org.leukolab.notebook.Tables;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.Table;

/**
 * The outcome of {@link Trainer#fit}: the history (one row per epoch: the training metrics {@code loss},
 * {@code accuracy}, {@code f1}, {@code weighted_f1}, {@code auc}, the same on validation with {@code val_},
 * then {@code lr} and {@code seconds}), why it stopped, and notes (learning-rate changes, restores, resume).
 * {@code Charts.learningCurves(result)} draws it.
 */
public record TrainingResult(String name, Table history, int epochs, String stopReason, List<String> notes,
                             double seconds, boolean resumed, Path checkpointDir) implements Rich {

    static Table historyTable(String name, List<Map<String, Double>> rows) {
        Table t = Table.create(name + " history");
        t.addColumns(IntColumn.create("epoch", rows.stream().mapToInt(r -> r.get("epoch").intValue()).toArray()));
        if (!rows.isEmpty()) {
            for (String k : rows.get(0).keySet()) {
                if (!k.equals("epoch")) {
                    t.addColumns(DoubleColumn.create(k, rows.stream().mapToDouble(r -> r.getOrDefault(k, Double.NaN)).toArray()));
                }
            }
        }
        return t;
    }

    /** The value of a history column in the last epoch (NaN if there is no such column or no epoch). */
    public double last(String column) {
        return history.rowCount() == 0 || !history.columnNames().contains(column) ? Double.NaN
                : history.doubleColumn(column).get(history.rowCount() - 1);
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

package org.leukolab.evaluation;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.leukolab.notebook.Rich;
import org.leukolab.notebook.Tables;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * A report's published numbers beside the reproduced ones saved in a {@link ResultStore}: one row per published
 * number, with the reproduced value, its 95% bootstrap interval, the data it was computed on (a stand-in or sample
 * says so), the profile and the result's name. A published number without a saved result shows as "not run".
 *
 * <pre>{@code
 * Reproduction.of("report 003: macro F1 (%)", ResultStore.forReport("report-003"), "macro_f1")
 *         .row("imbalance", "class weights", 96.78, "class-weights-test")
 *         .table()
 * }</pre>
 */
public final class Reproduction implements Rich {
    /**
     * One published number (in percent; NaN for a reproduced number the report has no counterpart for, such as a
     * held-out test score) and the saved result that reproduces it, compared on {@code metric}.
     */
    public record Row(String experiment, String configuration, String metric, double published, String result,
                      Labels.Protocol protocol, String publishedOn) {
        /**
         * The set the reproduced number is measured on: {@code training} for a training-history metric (whose name
         * starts with {@code train_}), otherwise the result file's recorded {@code evaluated_on}.
         */
        public boolean isTrainingMetric() {
            return metric.startsWith("train_");
        }
    }

    private final String title;
    private final ResultStore store;
    private final String metric;
    private final List<Row> rows = new ArrayList<>();

    private Reproduction(String title, ResultStore store, String metric) {
        this.title = title;
        this.store = store;
        this.metric = metric;
    }

    /** Published values are in percent; {@code metric} is a saved metric ({@code macro_f1}, {@code accuracy}). */
    public static Reproduction of(String title, ResultStore store, String metric) {
        return new Reproduction(title, store, metric);
    }

    public Reproduction row(String experiment, String configuration, double publishedPercent, String result) {
        return row(experiment, configuration, metric, publishedPercent, result);
    }

    /** A row compared on another metric than the table's default, declaring no protocol (for ad-hoc tables). */
    public Reproduction row(String experiment, String configuration, String metric, double publishedPercent, String result) {
        rows.add(new Row(experiment, configuration, metric, publishedPercent, result, null, null));
        return this;
    }

    /**
     * A row that declares what its result must be: the protocol it follows and the set the published number was
     * measured on ({@code training}, {@code validation}, {@code test}; null where nothing is published). The reviewer's
     * page shows the labels recorded in the result file, and a test fails when they disagree with this declaration.
     */
    public Reproduction row(String experiment, String configuration, String metric, double publishedPercent, String result,
                            Labels.Protocol protocol, String publishedOn) {
        rows.add(new Row(experiment, configuration, metric, publishedPercent, result, protocol, publishedOn));
        return this;
    }

    public String title() {
        return title;
    }

    public ResultStore store() {
        return store;
    }

    public List<Row> rows() {
        return List.copyOf(rows);
    }

    /** The rows whose result is not saved (not run yet). */
    public List<Row> missing() {
        return rows.stream().filter(r -> !store.has(r.result())).toList();
    }

    /** The reproduced value in percent, NaN when not saved. */
    public double reproduced(Row r) {
        if (!store.has(r.result())) {
            return Double.NaN;
        }
        if (r.isTrainingMetric()) {
            return store.extra(r.result(), r.metric()).map(v -> 100 * Double.parseDouble(v)).orElse(Double.NaN);
        }
        return 100 * Double.parseDouble(store.metric(r.result(), r.metric()));
    }

    /** The set the row's reproduced number was measured on, from the result file; null when it is not recorded. */
    public String measuredOn(Row r) {
        if (r.isTrainingMetric()) {
            return "training";
        }
        return store.labels(r.result()).map(Labels::evaluatedOn).orElse(null);
    }

    public Table table() {
        StringColumn exp = StringColumn.create("experiment");
        StringColumn conf = StringColumn.create("configuration");
        StringColumn met = StringColumn.create("metric");
        DoubleColumn pub = DoubleColumn.create("published (%)");
        DoubleColumn rep = DoubleColumn.create("reproduced (%)");
        StringColumn ci = StringColumn.create("95% interval");
        StringColumn data = StringColumn.create("data");
        StringColumn weights = StringColumn.create("weights (ours)");
        StringColumn profile = StringColumn.create("profile");
        StringColumn name = StringColumn.create("result");
        for (Row r : rows) {
            exp.append(r.experiment());
            conf.append(r.configuration());
            met.append(r.metric());
            pub.append(r.published());
            name.append(r.result());
            if (!store.has(r.result())) {
                rep.appendMissing();
                ci.append("not run");
                data.append("");
                weights.append("");
                profile.append("");
                continue;
            }
            rep.append(reproduced(r));
            ci.append((r.isTrainingMetric() ? java.util.Optional.<Bootstrap.Interval>empty() : store.interval(r.result(), r.metric()))
                    .map(i -> String.format(Locale.ROOT, "[%.1f, %.1f]", 100 * i.low(), 100 * i.high())).orElse(""));
            Map<String, Object> d = store.details(r.result());
            data.append(String.valueOf(d.getOrDefault("datasets", "")) + (d.containsKey("data") ? " (" + d.get("data") + ")" : ""));
            weights.append(String.valueOf(d.getOrDefault("weights", "")) + (d.containsKey("backbones") ? " " + d.get("backbones") : ""));
            profile.append(String.valueOf(d.getOrDefault("profile", "")));
        }
        return Tables.rounded(Table.create(title, exp, conf, met, pub, rep, ci, data, weights, profile, name), 2);
    }

    @Override
    public String toString() {
        return table().print();
    }

    @Override
    public Map<String, Object> mimeBundle() {
        return Map.of("text/plain", toString(), "text/html", Tables.html(table(), 0));
    }
}

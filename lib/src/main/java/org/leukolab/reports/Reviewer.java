package org.leukolab.reports;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.LinkedHashMap;
import org.leukolab.evaluation.Labels;
import org.leukolab.evaluation.Reproduction;
import org.leukolab.evaluation.Verdict;
import org.leukolab.plots.Charts;
import org.leukolab.evaluation.ResultStore;
import org.leukolab.system.AtomicFiles;
import org.leukolab.system.Workspace;

/**
 * The reviewer's table: every published number of every report beside its reproductions, from this run's
 * {@code build/results/} and from the committed full runs in {@code results/}, as JSON rows that the notebook runner
 * turns into the page {@code build/index.html} and {@code ./leukolab record} into {@code results/README.md}.
 *
 * <pre>
 * java -cp ... org.leukolab.reports.Reviewer OUT.json [--committed-only]
 * </pre>
 */
public final class Reviewer {
    private static final Pattern NOTEBOOK = Pattern.compile("notebooks/([0-9]{2}-[A-Za-z0-9._-]+)\\.ipynb");

    private Reviewer() {}

    /** Each report's published numbers and where their reproductions are looked up, in report order. */
    public static List<Reproduction> all(ResultStore.Kind where) {
        return List.of(Report000.reproduction(store(Report000.ID, where)), Report001.reproduction(store(Report001.ID, where)),
                Report002.reproduction(store(Report002.ID, where)), Report003.reproduction(store(Report003.ID, where)));
    }

    private static ResultStore store(String report, ResultStore.Kind where) {
        return where == ResultStore.Kind.COMMITTED ? ResultStore.committed(report) : ResultStore.forReport(report);
    }

    /**
     * The rows as JSON: one per published number and source that has a result for it, and one "not run" row for a
     * published number no source has.
     */
    public static JsonArray rows(boolean committedOnly) {
        List<ResultStore.Kind> kinds = committedOnly ? List.of(ResultStore.Kind.COMMITTED)
                : List.of(ResultStore.Kind.COMMITTED, ResultStore.Kind.BUILD);
        List<List<Reproduction>> bySource = kinds.stream().map(Reviewer::all).toList();
        JsonArray out = new JsonArray();
        for (int rep = 0; rep < bySource.get(0).size(); rep++) {
            List<Reproduction.Row> rows = bySource.get(0).get(rep).rows();
            for (int i = 0; i < rows.size(); i++) {
                boolean any = false;
                for (int k = 0; k < kinds.size(); k++) {
                    Reproduction r = bySource.get(k).get(rep);
                    Reproduction.Row row = r.rows().get(i);
                    if (r.store().has(row.result())) {
                        out.add(row(r, row, kinds.get(k)));
                        any = true;
                    }
                }
                if (!any) {
                    Reproduction r = bySource.get(0).get(rep);
                    out.add(row(r, rows.get(i), null));
                }
            }
        }
        return out;
    }

    private static JsonObject row(Reproduction r, Reproduction.Row row, ResultStore.Kind kind) {
        JsonObject o = new JsonObject();
        String report = r.store().dir().getFileName().toString();
        o.addProperty("report", report);
        o.addProperty("experiment", row.experiment());
        o.addProperty("configuration", row.configuration());
        o.addProperty("metric", row.metric());
        if (!Double.isNaN(row.published())) {
            o.addProperty("published", row.published());
        }
        if (row.protocol() != null) {
            o.addProperty("declared_protocol", row.protocol().words());
        }
        if (row.publishedOn() != null) {
            o.addProperty("published_on", row.publishedOn());
        }
        o.addProperty("result", row.result());
        if (kind == null) {
            o.addProperty("source", "not run");
            Verdict v = Verdict.of(row.published(), Double.NaN, Double.NaN, Double.NaN, null, null, null, row.publishedOn(), 0);
            o.addProperty("verdict", v.kind().words());
            o.addProperty("verdict_reason", v.reason());
            return o;
        }
        ResultStore store = r.store();
        o.addProperty("source", kind == ResultStore.Kind.COMMITTED ? "committed full run" : "this run");
        o.addProperty("file", Workspace.root().relativize(store.dir().resolve(row.result() + ".json").toAbsolutePath()).toString());
        double reproduced = r.reproduced(row);
        if (!Double.isNaN(reproduced)) {
            o.addProperty("reproduced", reproduced);
        }
        double[] ci = {Double.NaN, Double.NaN};
        if (!row.isTrainingMetric()) {
            store.interval(row.result(), row.metric()).ifPresent(i -> {
                ci[0] = 100 * i.low();
                ci[1] = 100 * i.high();
                o.addProperty("low", ci[0]);
                o.addProperty("high", ci[1]);
            });
        }
        Map<String, Object> d = store.details(row.result());
        for (String key : List.of("datasets", "backbones", "protocol", "profile", "commit", "machine", "date",
                "command", "notebook", "seconds_per_epoch", "epochs_run")) {
            Object v = d.get(key);
            if (v != null && !String.valueOf(v).isEmpty()) {
                o.addProperty(key.equals("protocol") ? "protocol_description" : key, String.valueOf(v));
            }
        }
        Object weightsText = d.get("weights");
        if (weightsText != null) {
            o.addProperty("weights_description", String.valueOf(weightsText));
        }
        Labels labels = store.labels(row.result()).orElse(null);
        if (labels != null) {
            JsonObject l = new JsonObject();
            labels.toMap().forEach((k, v) -> l.addProperty(k, String.valueOf(v)));
            o.add("labels", l);
        }
        store.seed(row.result()).ifPresent(seed -> o.addProperty("seed", seed));
        String measuredOn = r.measuredOn(row);
        if (measuredOn != null) {
            o.addProperty("measured_on", measuredOn);
        }
        long images = 0;
        var json = store.json(row.result());
        if (json.has("confusion")) {
            for (var rowCounts : json.getAsJsonArray("confusion")) {
                for (var c : rowCounts.getAsJsonArray()) {
                    images += c.getAsLong();
                }
            }
        }
        o.addProperty("images", images);
        double[] range = {Double.NaN, Double.NaN};
        int seeds = 0;
        String base = row.result().replaceAll("-(val|test)$", "");
        String set = row.result().endsWith("-test") ? "test" : row.result().endsWith("-val") ? "validation" : "";
        var rep = !set.isEmpty() && !row.isTrainingMetric() ? store.repeats(base) : java.util.Optional.<JsonObject>empty();
        if (rep.isPresent() && set.equals(rep.get().get("scored_on").getAsString())
                && rep.get().getAsJsonObject("spread").has(row.metric())) {
            JsonObject sp = rep.get().getAsJsonObject("spread").getAsJsonObject(row.metric());
            seeds = sp.get("n").getAsInt();
            range[0] = 100 * sp.get("min").getAsDouble();
            range[1] = 100 * sp.get("max").getAsDouble();
            JsonObject spread = new JsonObject();
            spread.addProperty("n", seeds);
            spread.addProperty("mean", 100 * sp.get("mean").getAsDouble());
            if (sp.has("sd")) {
                spread.addProperty("sd", 100 * sp.get("sd").getAsDouble());
            }
            spread.addProperty("min", range[0]);
            spread.addProperty("max", range[1]);
            spread.add("seeds", rep.get().get("seeds"));
            o.add("spread", spread);
        }
        Verdict v = Verdict.of(row.published(), reproduced, ci[0], ci[1], labels, String.valueOf(d.get("profile")), measuredOn,
                row.publishedOn(), images, range[0], range[1], seeds);
        o.addProperty("verdict", v.kind().words());
        o.addProperty("verdict_reason", v.reason());
        if (!o.has("notebook") && o.has("command")) {
            Matcher m = NOTEBOOK.matcher(o.get("command").getAsString());
            if (m.find() && !m.find()) { // exactly one notebook named in the command: it made this result
                Matcher again = NOTEBOOK.matcher(o.get("command").getAsString());
                again.find();
                o.addProperty("notebook", again.group(1));
            }
        }
        return o;
    }

    /**
     * Each report's headline verdicts: one entry per published number (rows declared as published, with a published
     * value), the best comparable reproduction among the rows (quick-profile results never count): a reproduced or
     * differing one before a not comparable one before none, then full data before a stand-in, the report's own
     * backbone before a substitute, a committed run before this run's.
     */
    public static JsonArray summary(JsonArray rows) {
        Map<String, JsonObject> best = new LinkedHashMap<>();
        for (var e : rows) {
            JsonObject r = e.getAsJsonObject();
            if (!r.has("published") || !"as published".equals(str(r, "declared_protocol")) || "quick".equals(str(r, "profile"))) {
                continue;
            }
            String key = str(r, "report") + "|" + str(r, "experiment") + "|" + str(r, "metric") + "|" + r.get("published").getAsDouble()
                    + "|" + str(r, "published_on") + "|" + (str(r, "report").equals("report-003") ? str(r, "configuration") : "");
            JsonObject old = best.get(key);
            if (old == null || rank(r) < rank(old)) {
                best.put(key, r);
            }
        }
        JsonArray out = new JsonArray();
        best.values().forEach(out::add);
        return out;
    }

    private static int rank(JsonObject r) {
        String v = str(r, "verdict");
        int base = v.equals("reproduced") || v.equals("differs") ? 0 : v.equals("not comparable here") ? 100 : 200;
        JsonObject l = r.has("labels") ? r.getAsJsonObject("labels") : new JsonObject();
        base += "full".equals(str(l, "data")) ? 0 : 10;
        base += Labels.Weights.IMAGENET.words().equals(str(l, "weights")) || Labels.Weights.NONE.words().equals(str(l, "weights")) ? 0 : 5;
        base += "committed full run".equals(str(r, "source")) ? 0 : 1;
        return base;
    }

    private static String str(JsonObject o, String k) {
        return o.has(k) && !o.get(k).isJsonNull() ? o.get(k).getAsString() : "";
    }

    /** A chart per report of its summary (published against reproduced, coloured by verdict), as base64 PNG. */
    public static JsonObject charts(JsonArray summary) {
        Map<String, List<Charts.Comparand>> byReport = new LinkedHashMap<>();
        for (var e : summary) {
            JsonObject r = e.getAsJsonObject();
            String label = str(r, "experiment") + (str(r, "report").equals("report-003") ? ": " + str(r, "configuration") : "")
                    + (str(r, "metric").equals("accuracy") || str(r, "report").equals("report-003") ? "" : " (" + str(r, "metric") + ")");
            byReport.computeIfAbsent(str(r, "report"), k -> new java.util.ArrayList<>()).add(new Charts.Comparand(label,
                    r.get("published").getAsDouble(), r.has("reproduced") ? r.get("reproduced").getAsDouble() : Double.NaN,
                    r.has("low") ? r.get("low").getAsDouble() : Double.NaN, r.has("high") ? r.get("high").getAsDouble() : Double.NaN,
                    str(r, "verdict")));
        }
        JsonObject out = new JsonObject();
        byReport.forEach((report, items) -> out.addProperty(report, java.util.Base64.getEncoder().encodeToString(
                Charts.publishedVersusReproduced(report + ": published (diamond) and ours (95% interval)", items).pngBytes())));
        return out;
    }

    /**
     * One report's verdicts from its committed full runs ({@code results/}), as the reviewer's page shows them: each
     * published number, the best comparable reproduction, the verdict and why. For a notebook's closing summary.
     */
    public static tech.tablesaw.api.Table verdicts(String report) {
        JsonArray summary = summary(rows(true));
        var number = tech.tablesaw.api.StringColumn.create("published number");
        var metric = tech.tablesaw.api.StringColumn.create("metric");
        var pub = tech.tablesaw.api.DoubleColumn.create("published (%)");
        var ours = tech.tablesaw.api.DoubleColumn.create("ours (%)");
        var ci = tech.tablesaw.api.StringColumn.create("95% interval");
        var verdict = tech.tablesaw.api.StringColumn.create("verdict");
        var why = tech.tablesaw.api.StringColumn.create("why");
        for (var e : summary) {
            JsonObject r = e.getAsJsonObject();
            if (!str(r, "report").equals(report)) {
                continue;
            }
            number.append(str(r, "experiment") + ": " + str(r, "configuration"));
            metric.append(str(r, "metric"));
            pub.append(r.get("published").getAsDouble());
            if (r.has("reproduced")) {
                ours.append(r.get("reproduced").getAsDouble());
            } else {
                ours.appendMissing();
            }
            ci.append(r.has("low") ? String.format(java.util.Locale.ROOT, "[%.1f, %.1f]", r.get("low").getAsDouble(),
                    r.get("high").getAsDouble()) : "");
            verdict.append(str(r, "verdict"));
            why.append(str(r, "verdict_reason"));
        }
        return org.leukolab.notebook.Tables.rounded(tech.tablesaw.api.Table.create(report + ": verdicts of the committed full runs",
                number, metric, pub, ours, ci, verdict, why), 2);
    }

    /** Writes the rows (this run's and the committed ones, or with {@code --committed-only} the committed ones) to a file. */
    public static void main(String[] args) {
        if (args.length < 1 || args[0].startsWith("-")) {
            System.err.println("usage: Reviewer OUT.json [--committed-only]");
            System.exit(2);
        }
        boolean committedOnly = List.of(args).contains("--committed-only");
        JsonObject doc = new JsonObject();
        JsonArray rows = rows(committedOnly);
        JsonArray summary = summary(rows);
        doc.add("rows", rows);
        doc.add("summary", summary);
        JsonArray rules = new JsonArray();
        Verdict.RULES.forEach(rules::add);
        doc.add("rules", rules);
        if (!List.of(args).contains("--no-charts")) {
            doc.add("charts", charts(summary));
        }
        Path out = Path.of(args[0]);
        AtomicFiles.writeString(out, new GsonBuilder().setPrettyPrinting().create().toJson(doc) + "\n");
    }
}

package org.leukolab.reports;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.leukolab.evaluation.Reproduction;
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
        o.addProperty("result", row.result());
        if (kind == null) {
            o.addProperty("source", "not run");
            return o;
        }
        ResultStore store = r.store();
        o.addProperty("source", kind == ResultStore.Kind.COMMITTED ? "committed full run" : "this run");
        o.addProperty("file", Workspace.root().relativize(store.dir().resolve(row.result() + ".json").toAbsolutePath()).toString());
        o.addProperty("reproduced", r.reproduced(row));
        store.interval(row.result(), row.metric()).ifPresent(ci -> {
            o.addProperty("low", 100 * ci.low());
            o.addProperty("high", 100 * ci.high());
        });
        Map<String, Object> d = store.details(row.result());
        for (String key : List.of("data", "datasets", "weights", "backbones", "protocol", "profile", "commit", "machine", "date",
                "command", "notebook", "seconds_per_epoch", "epochs_run")) {
            Object v = d.get(key);
            if (v != null && !String.valueOf(v).isEmpty()) {
                o.addProperty(key, String.valueOf(v));
            }
        }
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

    /** Writes the rows (this run's and the committed ones, or with {@code --committed-only} the committed ones) to a file. */
    public static void main(String[] args) {
        if (args.length < 1 || args[0].startsWith("-")) {
            System.err.println("usage: Reviewer OUT.json [--committed-only]");
            System.exit(2);
        }
        boolean committedOnly = List.of(args).contains("--committed-only");
        JsonObject doc = new JsonObject();
        doc.add("rows", rows(committedOnly));
        Path out = Path.of(args[0]);
        AtomicFiles.writeString(out, new GsonBuilder().setPrettyPrinting().create().toJson(doc) + "\n");
    }
}

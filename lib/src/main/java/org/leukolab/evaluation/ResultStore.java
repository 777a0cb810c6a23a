package org.leukolab.evaluation;

import org.leukolab.metrics.ConfusionMatrix;
import org.leukolab.metrics.Metric;
import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.leukolab.system.AtomicFiles;
import org.leukolab.system.RunInfo;
import org.leukolab.system.Workspace;

/**
 * Results that outlive a notebook: each evaluation is saved as JSON (its confusion matrix, so every
 * metric can be recomputed, plus the run's facts from {@link RunInfo} and any extra numbers such as fit
 * time). Notebooks of one report pass results to its comparison notebook through
 * {@code build/results/<report>/}. Full-profile runs worth keeping are promoted to the committed
 * {@code results/<report>/} by {@code ./leukolab record} (tools/reviewer.py), never by a run itself.
 */
public final class ResultStore {
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().create();

    private final Path dir;

    /** Where results live: this workspace's runs ({@code build/results}) or the committed ones ({@code results/}). */
    public enum Kind { BUILD, COMMITTED }

    private ResultStore(Path dir) {
        this.dir = dir;
    }

    /** The run's working results of a report, under {@code build/results/<report>}. */
    public static ResultStore forReport(String report) {
        return new ResultStore(Workspace.buildDir().resolve("results").resolve(report));
    }

    /** The committed results of a report, under {@code results/<report>}. */
    public static ResultStore committed(String report) {
        return new ResultStore(Workspace.resultsDir().resolve(report));
    }

    public static ResultStore at(Path dir) {
        return new ResultStore(dir);
    }

    public Path dir() {
        return dir;
    }

    /** Saves a report under a short name (e.g. {@code random-forest-val}); returns the file. */
    public Path save(String name, ClassificationReport report, Map<String, ?> extras) {
        return save(name, report, Double.NaN, null, extras, null, null);
    }

    /**
     * Saves predictions under a short name: the report of their arg-max (with the macro AUC of their
     * probabilities among the metrics) in {@code <name>.json}, and every image's probabilities in
     * {@code <name>.predictions.json}.
     */
    public Path save(String name, Predictions p, Map<String, ?> extras) {
        Path f = save(name, p.report(), p.scores().auc(), intervals(p), extras, null, null);
        savePredictions(name, p);
        return f;
    }

    private static JsonObject intervals(Predictions p) {
        JsonObject intervals = new JsonObject();
        for (Metric m : List.of(Metric.ACCURACY, Metric.F1)) {
            Bootstrap.Interval ci = Bootstrap.interval(p, m);
            JsonObject o = new JsonObject();
            o.addProperty("low", ci.low());
            o.addProperty("high", ci.high());
            o.addProperty("resamples", ci.resamples());
            o.addProperty("seed", Bootstrap.DEFAULT_SEED);
            intervals.add(m == Metric.F1 ? "macro_f1" : "accuracy", o);
        }
        return intervals;
    }

    /**
     * {@link #save(String, Predictions, Map)} with the result's {@link Labels} and seed (recorded by {@link Experiment}
     * when the result is computed).
     */
    public Path save(String name, Predictions p, Map<String, ?> extras, Labels labels, Long seed) {
        Path f = save(name, p.report(), p.scores().auc(), intervals(p), extras, labels, seed);
        savePredictions(name, p);
        return f;
    }

    /** {@link #save(String, ClassificationReport, Map)} with the result's {@link Labels} and seed. */
    public Path save(String name, ClassificationReport report, Map<String, ?> extras, Labels labels, Long seed) {
        return save(name, report, Double.NaN, null, extras, labels, seed);
    }

    /** The labels a result was recorded with; empty for a result saved without them. */
    public Optional<Labels> labels(String name) {
        JsonObject o = json(name);
        if (!o.has(Labels.KEY)) {
            return Optional.empty();
        }
        Map<String, String> m = new LinkedHashMap<>();
        o.getAsJsonObject(Labels.KEY).entrySet().forEach(e -> m.put(e.getKey(), e.getValue().getAsString()));
        return Optional.of(Labels.fromMap(m));
    }

    /** The seed a result was recorded with; empty when none was recorded. */
    public java.util.OptionalLong seed(String name) {
        JsonObject o = json(name);
        return o.has("seed") ? java.util.OptionalLong.of(o.get("seed").getAsLong()) : java.util.OptionalLong.empty();
    }

    /** A value of a result's {@code extras} (e.g. {@code train_accuracy_at_last_epoch}); empty when absent. */
    public Optional<String> extra(String name, String key) {
        JsonObject o = json(name);
        return o.has("extras") && o.getAsJsonObject("extras").has(key)
                ? Optional.of(o.getAsJsonObject("extras").get(key).getAsString()) : Optional.empty();
    }

    /** A saved result's whole JSON. */
    public JsonObject json(String name) {
        Path f = dir.resolve(name + ".json");
        try {
            return GSON.fromJson(Files.readString(f, StandardCharsets.UTF_8), JsonObject.class);
        } catch (IOException e) {
            throw new UncheckedIOException("no result " + name + " in " + dir + " (" + e.getMessage() + ")", e);
        }
    }

    private Path save(String name, ClassificationReport report, double auc, JsonObject intervals, Map<String, ?> extras,
                      Labels labels, Long seed) {
        JsonObject o = new JsonObject();
        o.addProperty("title", report.title());
        o.add("classes", GSON.toJsonTree(report.classes()));
        ConfusionMatrix cm = report.confusion();
        o.add("confusion", GSON.toJsonTree(cm.counts()));
        long[] none = new long[report.classes().size()];
        for (int c = 0; c < none.length; c++) {
            none[c] = cm.noClass(c);
        }
        o.add("noClass", GSON.toJsonTree(none));
        JsonObject metrics = new JsonObject();
        metrics.addProperty("accuracy", report.accuracy());
        metrics.addProperty("macro_precision", report.macroPrecision());
        metrics.addProperty("macro_recall", report.macroRecall());
        metrics.addProperty("macro_f1", report.macroF1());
        metrics.addProperty("weighted_f1", report.weightedF1());
        if (!Double.isNaN(auc)) {
            metrics.addProperty("auc", auc);
        }
        o.add("metrics", metrics);
        if (intervals != null) {
            o.add("intervals_95", intervals); // percentile bootstrap over the images
        }
        o.add("extras", GSON.toJsonTree(extras == null ? Map.of() : extras));
        o.add("run", GSON.toJsonTree(RunInfo.current()));
        if (labels != null) {
            o.add(Labels.KEY, GSON.toJsonTree(labels.toMap()));
        }
        if (seed != null) {
            o.addProperty("seed", seed);
        }
        return write(name + ".json", GSON.toJson(o));
    }

    /**
     * Saves under {@code build/results/<report>}, in every profile. Committed results ({@code results/}) are never
     * written by a run: {@code ./leukolab record} promotes a full-profile run's files there, deliberately.
     */
    public static void record(String report, String name, ClassificationReport r, Map<String, ?> extras) {
        forReport(report).save(name, r, extras);
    }

    /** {@link #save(String, Predictions, Map)} under {@code build/results/<report>} (see {@link #record(String, String, ClassificationReport, Map)}). */
    public static void record(String report, String name, Predictions p, Map<String, ?> extras) {
        forReport(report).save(name, p, extras);
    }

    /** Per-image predictions with their probabilities, sources and paths (see {@link #savePredictions(String, List, int[], int[], List)}). */
    public Path savePredictions(String name, Predictions p) {
        JsonObject o = new JsonObject();
        o.add("classes", GSON.toJsonTree(p.classes()));
        o.add("files", GSON.toJsonTree(p.records().stream().map(r -> r.split() + "/" + r.label() + "/" + r.fileName()).toList()));
        o.add("sources", GSON.toJsonTree(p.records().stream().map(org.leukolab.data.ImageRecord::source).toList()));
        o.add("actual", GSON.toJsonTree(p.actual()));
        o.add("predicted", GSON.toJsonTree(p.predicted()));
        com.google.gson.JsonArray probs = new com.google.gson.JsonArray();
        for (double[] row : p.probabilities()) {
            com.google.gson.JsonArray r = new com.google.gson.JsonArray();
            for (double v : row) {
                r.add(Math.round(v * 1e6) / 1e6);
            }
            probs.add(r);
        }
        o.add("probabilities", probs);
        return write(name + ".predictions.json", GSON.toJson(o));
    }

    /**
     * Per-image predictions of an evaluation (file names, true and predicted label indices; -1 for no
     * class), so a later notebook can re-score any subset, e.g. the images without a near-copy in train.
     */
    public Path savePredictions(String name, List<String> files, int[] actual, int[] predicted, List<String> classes) {
        if (files.size() != actual.length || actual.length != predicted.length) {
            throw new IllegalArgumentException("files, actual and predicted differ in length");
        }
        JsonObject o = new JsonObject();
        o.add("classes", GSON.toJsonTree(classes));
        o.add("files", GSON.toJsonTree(files));
        o.add("actual", GSON.toJsonTree(actual));
        o.add("predicted", GSON.toJsonTree(predicted));
        return write(name + ".predictions.json", GSON.toJson(o));
    }

    /** Predictions saved by {@link #savePredictions}: file name to {actual, predicted}. */
    public Optional<Map<String, int[]>> loadPredictions(String name) {
        Path f = dir.resolve(name + ".predictions.json");
        if (!Files.isRegularFile(f)) {
            return Optional.empty();
        }
        try {
            JsonObject o = GSON.fromJson(Files.readString(f, StandardCharsets.UTF_8), JsonObject.class);
            String[] files = GSON.fromJson(o.get("files"), String[].class);
            int[] a = GSON.fromJson(o.get("actual"), int[].class);
            int[] p = GSON.fromJson(o.get("predicted"), int[].class);
            Map<String, int[]> m = new LinkedHashMap<>();
            for (int i = 0; i < files.length; i++) {
                m.put(files[i], new int[] {a[i], p[i]});
            }
            return Optional.of(m);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * Saved per-image predictions with their probabilities (as {@link #savePredictions(String, Predictions)} wrote
     * them), rebuilt as {@link Predictions} whose records carry the saved split/class/file name and source; empty when
     * the file is not there or holds no probabilities.
     */
    public Optional<Predictions> predictions(String name) {
        Path f = dir.resolve(name + ".predictions.json");
        if (!Files.isRegularFile(f)) {
            return Optional.empty();
        }
        try {
            JsonObject o = GSON.fromJson(Files.readString(f, StandardCharsets.UTF_8), JsonObject.class);
            if (!o.has("probabilities") || !o.has("classes")) {
                return Optional.empty();
            }
            List<String> classes = List.of(GSON.fromJson(o.get("classes"), String[].class));
            String[] files = GSON.fromJson(o.get("files"), String[].class);
            String[] sources = o.has("sources") ? GSON.fromJson(o.get("sources"), String[].class) : new String[files.length];
            int[] actual = GSON.fromJson(o.get("actual"), int[].class);
            double[][] probs = GSON.fromJson(o.get("probabilities"), double[][].class);
            List<org.leukolab.data.ImageRecord> records = new ArrayList<>();
            for (int i = 0; i < files.length; i++) {
                String split = files[i].contains("/") ? files[i].substring(0, files[i].indexOf('/')) : "";
                records.add(new org.leukolab.data.ImageRecord(Path.of(files[i]), classes.get(actual[i]), split,
                        sources[i] == null ? name : sources[i], null, 0, 0, 0, 0));
            }
            return Optional.of(Predictions.of(name, records, classes, probs));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + f + ": " + e.getMessage(), e);
        }
    }

    public Optional<ClassificationReport> load(String name) {
        Path f = dir.resolve(name + ".json");
        if (!Files.isRegularFile(f)) {
            return Optional.empty();
        }
        try {
            JsonObject o = GSON.fromJson(Files.readString(f, StandardCharsets.UTF_8), JsonObject.class);
            List<String> classes = new ArrayList<>();
            o.getAsJsonArray("classes").forEach(e -> classes.add(e.getAsString()));
            long[][] counts = GSON.fromJson(o.get("confusion"), long[][].class);
            long[] none = o.has("noClass") ? GSON.fromJson(o.get("noClass"), long[].class) : null;
            return Optional.of(ClassificationReport.of(ConfusionMatrix.fromCounts(classes, counts, none))
                    .titled(o.get("title").getAsString()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** One metric of a saved result ({@code accuracy}, {@code macro_f1}, {@code auc}, ...), as text; an error naming what is there. */
    public String metric(String name, String metric) {
        Path f = dir.resolve(name + ".json");
        try {
            JsonObject o = GSON.fromJson(Files.readString(f, StandardCharsets.UTF_8), JsonObject.class);
            JsonObject m = o.getAsJsonObject("metrics");
            if (!m.has(metric)) {
                throw new IllegalArgumentException(f + " has no metric '" + metric + "'; it has " + m.keySet());
            }
            return m.get(metric).getAsString();
        } catch (IOException e) {
            throw new UncheckedIOException("no result " + name + " in " + dir + " (" + e.getMessage() + ")", e);
        }
    }

    /** The file ending of a repeat's summary ({@link Experiment#repeat}); not a result of its own. */
    public static final String REPEATS = "-repeats.json";

    /** A comparison's summary ({@code compare.json}, beside its results; not a result itself). */
    public static final String COMPARISON_SUMMARY = "compare.json";

    /** A repeat's summary ({@code <name>-repeats.json}: seeds, every seed's test metrics, their spread); empty if absent. */
    public Optional<JsonObject> repeats(String name) {
        Path f = dir.resolve(name + REPEATS);
        if (!Files.isRegularFile(f)) {
            return Optional.empty();
        }
        try {
            return Optional.of(GSON.fromJson(Files.readString(f, StandardCharsets.UTF_8), JsonObject.class));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + f + ": " + e.getMessage(), e);
        }
    }

    /**
     * Whether {@code name} is one seed's run of a repeat ({@code Experiment.repeat} records {@code repeat_of} in its facts):
     * such a run belongs to its repeat's spread, not in a table row of its own.
     */
    public boolean isRepeatRun(String name) {
        JsonObject extras = json(name).getAsJsonObject("extras");
        return extras != null && extras.has("repeat_of");
    }

    /** The names of the results saved here (without {@code .json}), sorted. */
    public List<String> names() {
        if (!Files.isDirectory(dir)) {
            return List.of();
        }
        try (var files = Files.list(dir)) {
            return files.map(f -> f.getFileName().toString()).filter(n -> n.endsWith(".json") && !n.endsWith(".predictions.json")
                    && !n.endsWith(REPEATS) && !n.equals(COMPARISON_SUMMARY))
                    .map(n -> n.substring(0, n.length() - 5)).sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    /** True when a result of that name is saved here. */
    public boolean has(String name) {
        return Files.isRegularFile(dir.resolve(name + ".json"));
    }

    /**
     * A saved metric with its 95% bootstrap interval ({@code accuracy} or {@code macro_f1}, saved with predictions);
     * empty when the result or its interval is not there.
     */
    public Optional<Bootstrap.Interval> interval(String name, String metric) {
        if (!has(name)) {
            return Optional.empty();
        }
        Path f = dir.resolve(name + ".json");
        try {
            JsonObject o = GSON.fromJson(Files.readString(f, StandardCharsets.UTF_8), JsonObject.class);
            if (!o.has("intervals_95") || !o.getAsJsonObject("intervals_95").has(metric)) {
                // saved before intervals were: computed from the saved per-image probabilities, when there
                Metric m = metric.equals("macro_f1") ? Metric.F1 : metric.equals("accuracy") ? Metric.ACCURACY : null;
                if (m == null) {
                    return Optional.empty();
                }
                Optional<Predictions> p = predictions(name);
                if (p.isPresent()) {
                    return Optional.of(Bootstrap.interval(p.get(), m));
                }
                Optional<Map<String, int[]>> classes = loadPredictions(name);
                if (classes.isEmpty() || !o.has("classes")) {
                    return Optional.empty();
                }
                List<String> names = List.of(GSON.fromJson(o.get("classes"), String[].class));
                int[] actual = classes.get().values().stream().mapToInt(v -> v[0]).toArray();
                int[] predicted = classes.get().values().stream().mapToInt(v -> v[1]).toArray();
                return Optional.of(Bootstrap.interval(actual, predicted, names, m, Bootstrap.DEFAULT_RESAMPLES, Bootstrap.DEFAULT_SEED));
            }
            JsonObject ci = o.getAsJsonObject("intervals_95").getAsJsonObject(metric);
            return Optional.of(new Bootstrap.Interval(metric, o.getAsJsonObject("metrics").get(metric).getAsDouble(),
                    ci.get("low").getAsDouble(), ci.get("high").getAsDouble(), ci.get("resamples").getAsInt()));
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read " + f + ": " + e.getMessage(), e);
        }
    }

    /** The extra numbers and run facts saved with a result. */
    public Map<String, Object> details(String name) {
        Path f = dir.resolve(name + ".json");
        try {
            JsonObject o = GSON.fromJson(Files.readString(f, StandardCharsets.UTF_8), JsonObject.class);
            Map<String, Object> m = new LinkedHashMap<>();
            for (String k : List.of("extras", "run")) {
                for (Map.Entry<String, JsonElement> e : o.getAsJsonObject(k).entrySet()) {
                    m.put(e.getKey(), e.getValue().isJsonPrimitive() ? e.getValue().getAsString() : e.getValue().toString());
                }
            }
            return m;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    private Path write(String file, String content) {
        return AtomicFiles.writeString(dir.resolve(file), content + "\n");
    }
}

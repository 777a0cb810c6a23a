package org.leukolab.evaluation;

import org.leukolab.metrics.ConfusionMatrix;
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
import org.leukolab.system.Profile;
import org.leukolab.system.RunInfo;
import org.leukolab.system.Workspace;

/**
 * Results that outlive a notebook: each evaluation is saved as JSON (its confusion matrix, so every
 * metric can be recomputed, plus the run's facts from {@link RunInfo} and any extra numbers such as fit
 * time). Notebooks of one report pass results to its comparison notebook through
 * {@code build/results/<report>/}; full-profile runs worth keeping are also written to
 * {@code results/<report>/}, which is committed.
 */
public final class ResultStore {
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().create();

    private final Path dir;

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
        return save(name, report, Double.NaN, extras);
    }

    /**
     * Saves predictions under a short name: the report of their arg-max (with the macro AUC of their
     * probabilities among the metrics) in {@code <name>.json}, and every image's probabilities in
     * {@code <name>.predictions.json}.
     */
    public Path save(String name, Predictions p, Map<String, ?> extras) {
        Path f = save(name, p.report(), p.scores().auc(), extras);
        savePredictions(name, p);
        return f;
    }

    private Path save(String name, ClassificationReport report, double auc, Map<String, ?> extras) {
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
        o.add("extras", GSON.toJsonTree(extras == null ? Map.of() : extras));
        o.add("run", GSON.toJsonTree(RunInfo.current()));
        return write(name + ".json", GSON.toJson(o));
    }

    /** Saves under {@code build/results} always, and under the committed {@code results/} in the full profile. */
    public static void record(String report, String name, ClassificationReport r, Map<String, ?> extras) {
        forReport(report).save(name, r, extras);
        if (Profile.current() == Profile.FULL) {
            committed(report).save(name, r, extras);
        }
    }

    /** {@link #save(String, Predictions, Map)} where {@link #record(String, String, ClassificationReport, Map)} saves. */
    public static void record(String report, String name, Predictions p, Map<String, ?> extras) {
        forReport(report).save(name, p, extras);
        if (Profile.current() == Profile.FULL) {
            committed(report).save(name, p, extras);
        }
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

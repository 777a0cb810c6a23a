package org.leukolab.evaluation;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.leukolab.data.Dataset;
import org.leukolab.data.ImageIndex;
import org.leukolab.notebook.Rich;
import org.leukolab.notebook.Tables;
import org.leukolab.system.Profile;
import org.leukolab.system.Workspace;
import org.leukolab.training.Batches;
import org.leukolab.training.Network;
import org.leukolab.training.Trainer;
import org.leukolab.training.TrainingResult;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * "Train under a named protocol, evaluate on validation and test, record the result", once for every report
 * notebook: a run trains a network with the trainer settings given, predicts the validation and test images,
 * and records both (metrics, per-image probabilities and the run's facts) under the report's results, so the
 * comparison notebook and the reviewer's page find them.
 *
 * <pre>{@code
 * var exp = Experiment.of(Report000.ID).data(cells);            // every result says full / sample / stand-in
 * Run run = exp.run("cnn-published", Network.of(net),
 *         t -> t.epochs(20).batchSize(32).seed(123).callbacks(EarlyStopping.on("val_accuracy", 5, true)),
 *         trainBatches, validationBatches, testBatches, Map.of("protocol", "as published"));
 * run.test().accuracy();
 * }</pre>
 *
 * Checkpoints go to {@code build/checkpoints/<report>/<name>-<profile>}, so rerunning a notebook resumes or
 * restores each run instead of training it again (the trainer checks that nothing changed).
 */
public final class Experiment {
    private final String report;
    private final Map<String, Object> common = new LinkedHashMap<>();
    private String dataKind = "full";
    private Path buildDir;

    private Experiment(String report) {
        this.report = report;
    }

    /** The runs of one report (its id names the results folder, e.g. {@code report-000}). */
    public static Experiment of(String report) {
        return new Experiment(report);
    }

    public String report() {
        return report;
    }

    /**
     * The datasets the runs use: recorded with every result ({@code datasets}, and {@code data}: {@code full},
     * or {@code sample} / {@code stand-in} if any of them is one, which also marks every title).
     */
    public Experiment data(Dataset... datasets) {
        common.put("datasets", String.join(", ", Arrays.stream(datasets).map(Dataset::id).toList()));
        boolean standin = Arrays.stream(datasets).anyMatch(Dataset::isStandin);
        boolean sample = Arrays.stream(datasets).anyMatch(d -> d.isSample());
        dataKind = standin && sample ? "sample + stand-in" : standin ? "stand-in" : sample ? "sample" : "full";
        common.put("data", dataKind);
        return this;
    }

    /**
     * The data of runs on images that are not a catalog dataset (e.g. a user's own folder): {@code datasets} names them,
     * {@code kind} is {@code full}, {@code sample}, {@code stand-in} or {@code sample + stand-in}.
     */
    public Experiment data(String datasets, String kind) {
        if (!Labels.DATA.contains(kind)) {
            throw new IllegalArgumentException("unknown data kind '" + kind + "'; one of " + Labels.DATA);
        }
        common.put("datasets", datasets);
        dataKind = kind;
        common.put("data", dataKind);
        return this;
    }

    /**
     * Keeps results ({@code <dir>/results/<report>}) and checkpoints ({@code <dir>/checkpoints/<report>}) under
     * {@code dir} instead of the workspace's build folder (and never in the committed results).
     */
    public Experiment storeIn(Path dir) {
        this.buildDir = dir;
        return this;
    }

    /** A fact recorded with every result of this experiment. */
    public Experiment with(String key, Object value) {
        common.put(key, value);
        return this;
    }

    /** Facts recorded with every result of this experiment (e.g. {@link #backboneFacts}). */
    public Experiment with(Map<String, ?> facts) {
        common.putAll(facts);
        return this;
    }

    /**
     * What the runs' backbone weights are ({@link Labels.Weights}) and, in words, which ({@code weights} in the file);
     * a run's extras may say otherwise for that run ({@link #weightsFacts}).
     */
    public Experiment weights(Labels.Weights kind, String description) {
        common.putAll(weightsFacts(kind, description));
        return this;
    }

    /**
     * The runs' weights from their backbone as loaded: its own real ImageNet weights ({@code reportsOwn}: the report
     * used this architecture), a substitute's real ImageNet weights, or a random start because the file is absent.
     */
    public Experiment backbone(org.leukolab.models.backbones.Backbone b, boolean reportsOwn) {
        common.putAll(backboneFacts(b, reportsOwn));
        return this;
    }

    /** The weights facts of a run ({@code weights}, {@code weights_kind}), for a run's extras. */
    public static Map<String, Object> weightsFacts(Labels.Weights kind, String description) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("weights", description);
        m.put(WEIGHTS_KIND, kind.words());
        return m;
    }

    /** {@link #backbone} as a run's extras. */
    public static Map<String, Object> backboneFacts(org.leukolab.models.backbones.Backbone b, boolean reportsOwn) {
        if (!b.pretrained()) {
            return weightsFacts(Labels.Weights.RANDOM, "random (no ImageNet file here)");
        }
        return reportsOwn ? weightsFacts(Labels.Weights.IMAGENET, "ImageNet (" + b.architecture() + ")")
                : weightsFacts(Labels.Weights.IMAGENET_SUBSTITUTE, "ImageNet (substitute: " + b.architecture() + ")");
    }

    /** The key of a run's weights label among its facts. */
    public static final String WEIGHTS_KIND = "weights_kind";

    /** Extras made of several maps (e.g. a protocol's and a run's own numbers). */
    @SafeVarargs
    public static Map<String, Object> facts(Map<String, ?>... parts) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (Map<String, ?> p : parts) {
            m.putAll(p);
        }
        return m;
    }

    /** What the runs' data is: {@code full}, {@code sample}, {@code stand-in}. */
    public String dataKind() {
        return dataKind;
    }

    /** Where a run's checkpoints go: {@code build/checkpoints/<report>/<name>-<profile>}. */
    public Path checkpointDir(String name) {
        return (buildDir == null ? Workspace.buildDir() : buildDir).resolve("checkpoints").resolve(report)
                .resolve(name + "-" + Profile.current());
    }

    /**
     * Trains {@code network} with a trainer named {@code name} (checkpoints in {@link #checkpointDir}) configured by
     * {@code settings}, then predicts and records validation ({@code <name>-val}) and, if given, test
     * ({@code <name>-test}). The batches must know their images ({@link Batches#index()}).
     */
    public Run run(String name, Network network, UnaryOperator<Trainer.Builder> settings, Batches train, Batches validation,
                   Batches test, Map<String, ?> extras) {
        images(validation, "validation");
        if (test != null) {
            images(test, "test");
        }
        Trainer.Builder b = Trainer.builder(name).checkpointDir(checkpointDir(name));
        Trainer trainer = settings.apply(b).build();
        labelsOf(new LinkedHashMap<>(facts(common, extras)), "validation"); // refuse an unlabelled run before training it
        TrainingResult training = trainer.fit(network, train, validation);
        Map<String, Object> facts = new LinkedHashMap<>(common);
        facts.putAll(extras);
        facts.put(SEED, trainer.seed());
        facts.put("epochs_max", trainer.epochs());
        facts.put("train_accuracy_at_last_epoch", training.last("accuracy"));
        facts.put("epochs_run", training.epochs());
        facts.put("stopped", String.valueOf(training.stopReason()));
        facts.put("seconds_per_epoch", training.secondsPerEpoch());
        facts.put("train_examples", train.size());
        facts.put("resumed", training.resumed());
        return evaluate(name, training, network, validation, test, facts);
    }

    /**
     * The same run once per seed: {@code network} builds a fresh network for a seed (its initialisation), the trainer
     * gets the seed (data order, dropout, augmentation draws), and each seed's run is recorded under
     * {@code <name>-seed<s>} with its own checkpoints, so an interrupted repeat resumes where it stopped. After the last
     * seed, {@code <name>-repeats.json} records every seed's test metrics (validation metrics for runs without a test
     * set: {@code scored_on} says which) and their spread (mean, sd, min, max) with the labels of the runs. The split
     * (the batches) is the same for every seed.
     */
    public Repeats repeat(String name, List<Long> seeds, java.util.function.LongFunction<Network> network,
                          UnaryOperator<Trainer.Builder> settings, Batches train, Batches validation, Batches test,
                          Map<String, ?> extras) {
        return repeatRuns(name, seeds, seed -> {
            Map<String, Object> facts = new LinkedHashMap<>(extras);
            facts.put("repeat_of", name);
            return run(name + "-seed" + seed, network.apply(seed), t -> settings.apply(t).seed(seed), train, validation, test, facts);
        });
    }

    /**
     * A repeat of runs made some other way (e.g. a Random Forest fitted per seed and recorded with {@link #recordRun}):
     * {@code runForSeed} records and returns the run of one seed (named {@code <name>-seed<s>}); after the last seed,
     * {@code <name>-repeats.json} records every seed's metrics (test, or validation for runs without a test set) and their
     * spread with the labels of the runs, as {@link #repeat} does.
     */
    public Repeats repeatRuns(String name, List<Long> seeds, java.util.function.LongFunction<Run> runForSeed) {
        if (seeds.isEmpty()) {
            throw new IllegalArgumentException(name + ": a repeat needs at least one seed");
        }
        long t0 = System.nanoTime();
        List<Run> runs = new java.util.ArrayList<>();
        for (long seed : seeds) {
            runs.add(runForSeed.apply(seed));
        }
        Repeats r = new Repeats(name, seeds, runs, (System.nanoTime() - t0) / 1e9);
        var gson = new com.google.gson.GsonBuilder().setPrettyPrinting().create();
        com.google.gson.JsonObject o = new com.google.gson.JsonObject();
        o.addProperty("name", name);
        o.add("seeds", gson.toJsonTree(seeds));
        com.google.gson.JsonObject per = new com.google.gson.JsonObject();
        com.google.gson.JsonObject spread = new com.google.gson.JsonObject();
        for (String m : List.of("accuracy", "macro_f1", "auc")) {
            per.add(m, gson.toJsonTree(r.test(m)));
            spread.add(m, gson.toJsonTree(r.spread(m).toMap()));
        }
        boolean test = runs.get(0).testPredictions() != null;
        o.addProperty("scored_on", r.scoredOn());
        o.add("per_seed", per);
        o.add("spread", spread);
        o.add(Labels.KEY, gson.toJsonTree(results().labels(runs.get(0).name() + (test ? "-test" : "-val"))
                .map(Labels::toMap).orElse(Map.of())));
        o.addProperty("results", name + "-seed<s>-val" + (test ? " / -test" : ""));
        o.addProperty("seconds", r.seconds());
        o.add("run", gson.toJsonTree(org.leukolab.system.RunInfo.current()));
        org.leukolab.system.AtomicFiles.writeString(results().dir().resolve(name + ResultStore.REPEATS), gson.toJson(o) + "\n");
        return r;
    }

    /**
     * Records the validation and (if given) test predictions of a model trained outside the trainer (e.g. a Random
     * Forest's vote shares) under {@code <name>-val} and {@code <name>-test}, and returns them as a run without a network
     * (for {@link #repeatRuns}). {@code extras} must say the protocol and the weights, and give the {@code seed}.
     */
    public Run recordRun(String name, Predictions validation, Predictions test, Map<String, ?> extras) {
        Map<String, Object> facts = new LinkedHashMap<>(common);
        facts.putAll(extras);
        record(name + "-val", validation, facts, "validation");
        if (test != null) {
            record(name + "-test", test, facts, "test");
        }
        return new Run(name, null, null, validation, test, dataKind);
    }

    /**
     * Predicts and records validation and test for a network trained already (e.g. in another run), with
     * {@code training} as its history (may be null).
     */
    public Run evaluate(String name, TrainingResult training, Network network, Batches validation, Batches test,
                        Map<String, ?> extras) {
        Map<String, Object> facts = new LinkedHashMap<>(common);
        facts.putAll(extras);
        Predictions v = predictions(name + ", validation", network, validation);
        record(name + "-val", v, facts, "validation");
        Predictions t = null;
        if (test != null) {
            t = predictions(name + ", test", network, test);
            record(name + "-test", t, facts, "test");
        }
        return new Run(name, network, training, v, t, dataKind);
    }

    /**
     * Predicts one set with a trained network and records it under {@code name} (for an evaluation that is neither a
     * run's validation nor its test, e.g. a model trained on one dataset scored on another).
     */
    public Predictions score(String name, String title, Network network, Batches data, Map<String, ?> extras) {
        Map<String, Object> facts = new LinkedHashMap<>(common);
        facts.putAll(extras);
        Predictions p = predictions(title, network, data);
        record(name, p, facts, "test");
        return p;
    }

    /**
     * Records predictions made outside this class (e.g. a Random Forest's) under {@code name}, scored on
     * {@code evaluatedOn} ({@code validation} or {@code test}), with this experiment's facts and {@code extras} (which
     * must say the protocol, {@link Labels.Protocol#describe}, and may give the {@code seed}).
     */
    public ClassificationReport recordPredictions(String name, String title, org.leukolab.data.LoadedImages images, int[] predicted,
                                                  String evaluatedOn, Map<String, ?> extras) {
        Map<String, Object> facts = new LinkedHashMap<>(common);
        facts.putAll(extras);
        Labels labels = labelsOf(facts, evaluatedOn);
        ClassificationReport r = ClassificationReport.of(images.labels(), predicted, images.classes()).titled(title);
        Object seed = facts.get(SEED);
        results().save(name, r, facts, labels, seed == null ? null : ((Number) seed).longValue());
        List<String> files = images.index().records().stream().map(x -> x.split() + "/" + x.label() + "/" + x.fileName()).toList();
        results().savePredictions(name, files, images.labels(), predicted, images.classes());
        return r;
    }

    /** The key of a result's seed among its facts. */
    public static final String SEED = "seed";

    private void record(String name, Predictions p, Map<String, Object> facts, String evaluatedOn) {
        Labels labels = labelsOf(facts, evaluatedOn);
        Object seed = facts.get(SEED);
        results().save(name, p, facts, labels, seed == null ? null : ((Number) seed).longValue());
    }

    /**
     * The labels of a result from the facts the notebook gave ({@code protocol_kind}, {@code weights_kind}) and the data
     * this experiment was told ({@link #data}); a clear error when the notebook did not say them.
     */
    private Labels labelsOf(Map<String, Object> facts, String evaluatedOn) {
        Object protocol = facts.get(Labels.PROTOCOL_KIND);
        Object weights = facts.get(WEIGHTS_KIND);
        if (protocol == null) {
            throw new IllegalArgumentException("experiment " + report + ": say whether this run follows the report's protocol, a "
                    + "corrected one or our own analysis, in its extras: Labels.Protocol.AS_PUBLISHED.describe(\"...\") (or CORRECTED, "
                    + "OURS); results are labelled from what the notebook states, never from names");
        }
        if (weights == null) {
            throw new IllegalArgumentException("experiment " + report + ": say what the weights are: exp.backbone(backbone, "
                    + "reportsOwn), exp.weights(Labels.Weights.NONE, \"none (trained from scratch)\"), or a run's extras "
                    + "(Experiment.weightsFacts)");
        }
        return new Labels(String.valueOf(protocol), String.valueOf(weights), dataKind, evaluatedOn);
    }

    /** Where this experiment's results are read back from ({@code build/results/<report>} unless {@link #storeIn}). */
    public ResultStore results() {
        return buildDir == null ? ResultStore.forReport(report) : ResultStore.at(buildDir.resolve("results").resolve(report));
    }

    private Predictions predictions(String title, Network network, Batches data) {
        String label = dataKind.equals("full") ? title : title + " [" + dataKind + "]";
        return Predictions.of(label, images(data, title), Trainer.predict(network, data, 64));
    }

    private static ImageIndex images(Batches b, String what) {
        return b.index().orElseThrow(() -> new IllegalArgumentException("the " + what + " batches do not know their images: "
                + "make them with ImageBatches.of(images) or Batches.of(features, images.index())"));
    }

    /**
     * One run of an experiment: the trained network, its training history and its predictions on validation and test
     * (test may be absent).
     */
    public record Run(String name, Network network, TrainingResult training, Predictions validationPredictions,
                      Predictions testPredictions, String dataKind) implements Rich {
        public ClassificationReport validation() {
            return validationPredictions.report();
        }

        /** The test report; an error if the run had no test set. */
        public ClassificationReport test() {
            if (testPredictions == null) {
                throw new IllegalStateException(name + " was run without a test set");
            }
            return testPredictions.report();
        }

        /** Validation and test side by side: accuracy, macro F1, weighted F1, macro AUC. */
        public Table summary() {
            StringColumn set = StringColumn.create("evaluated on");
            DoubleColumn acc = DoubleColumn.create("accuracy");
            DoubleColumn f1 = DoubleColumn.create("macro F1");
            DoubleColumn wf1 = DoubleColumn.create("weighted F1");
            DoubleColumn auc = DoubleColumn.create("macro AUC");
            for (Predictions p : testPredictions == null ? List.of(validationPredictions) : List.of(validationPredictions, testPredictions)) {
                var s = p.scores();
                set.append(p.title());
                acc.append(s.accuracy());
                f1.append(s.f1());
                wf1.append(s.weightedF1());
                auc.append(s.auc());
            }
            return Tables.rounded(Table.create(name, set, acc, f1, wf1, auc), 4);
        }

        @Override
        public String toString() {
            return (training == null ? name : training.toString()) + "\n" + summary().print();
        }

        @Override
        public Map<String, Object> mimeBundle() {
            String head = training == null ? name : training.toString();
            return Map.of("text/plain", toString(),
                    "text/html", "<p>" + Tables.escape(head) + "</p>" + Tables.html(summary(), 0));
        }
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "experiment %s (%s data)", report, dataKind);
    }
}

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
     * Keeps results ({@code <dir>/results/<report>}) and checkpoints ({@code <dir>/checkpoints/<report>}) under
     * {@code dir} instead of the workspace's build folder (and never in the committed results).
     */
    public Experiment storeIn(Path dir) {
        this.buildDir = dir;
        return this;
    }

    /** A fact recorded with every result of this experiment (e.g. the weights used). */
    public Experiment with(String key, Object value) {
        common.put(key, value);
        return this;
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
        TrainingResult training = settings.apply(b).build().fit(network, train, validation);
        Map<String, Object> facts = new LinkedHashMap<>(common);
        facts.putAll(extras);
        facts.put("epochs_run", training.epochs());
        facts.put("stopped", String.valueOf(training.stopReason()));
        facts.put("seconds_per_epoch", training.secondsPerEpoch());
        facts.put("train_examples", train.size());
        facts.put("resumed", training.resumed());
        return evaluate(name, training, network, validation, test, facts);
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
        record(name + "-val", v, facts);
        Predictions t = null;
        if (test != null) {
            t = predictions(name + ", test", network, test);
            record(name + "-test", t, facts);
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
        record(name, p, facts);
        return p;
    }

    private void record(String name, Predictions p, Map<String, Object> facts) {
        if (buildDir == null) {
            ResultStore.record(report, name, p, facts);
        } else {
            ResultStore.at(buildDir.resolve("results").resolve(report)).save(name, p, facts);
        }
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

package org.leukolab.evaluation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.leukolab.data.ArrayImages;
import org.leukolab.data.ImageIndex;
import org.leukolab.training.Batches;
import org.leukolab.training.EarlyStopping;
import org.leukolab.training.Network;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

class ExperimentTest {
    @TempDir
    Path dir;

    /** n examples of 3 Gaussian blobs with an index of (array) images from two sources, so results can be per image. */
    static Batches blobs(int n, long seed, String split) {
        java.util.Random r = new java.util.Random(seed);
        INDArray x = Nd4j.create(DataType.FLOAT, n, 4);
        INDArray y = Nd4j.zeros(DataType.FLOAT, n, 3);
        int[] labels = new int[n];
        for (int i = 0; i < n; i++) {
            labels[i] = i % 3;
            for (int d = 0; d < 4; d++) {
                x.putScalar(i, d, (d == labels[i] ? 2.0 : 0.0) + r.nextGaussian());
            }
            y.putScalar(i, labels[i], 1);
        }
        Path f = Path.of("/tmp/" + split + ".npz");
        ImageIndex a = ImageIndex.fromArrays("source-a", f, Map.of(split, new ArrayImages(f, "x", Nd4j.zeros(DataType.UBYTE, n, 1, 1, 3))),
                Map.of(split, labels), List.of("a", "b", "c"));
        // fromArrays sorts records by label then row; order the examples the same way
        int[] order = a.records().stream().mapToInt(rec -> Integer.parseInt(rec.fileName())).toArray();
        return Batches.of(new DataSet(x.getRows(order), y.getRows(order)), a);
    }

    static MultiLayerNetwork net() {
        MultiLayerNetwork n = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(4).updater(new Adam(1e-2)).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(8).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(8).nOut(3).activation(Activation.SOFTMAX).build())
                .build());
        n.init();
        return n;
    }

    @Test
    void aRunTrainsPredictsAndRecordsValidationAndTest() throws Exception {
        Experiment exp = Experiment.of("report-x").storeIn(dir).weights(Labels.Weights.NONE, "none");
        // a run that does not say what protocol it follows is refused before it trains
        IllegalArgumentException unlabelled = org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class,
                () -> exp.run("mlp", Network.of(net()), t -> t.epochs(6).batchSize(16).seed(1).progress(false),
                        blobs(120, 1, "train"), blobs(45, 2, "val"), blobs(60, 3, "test"), Map.of("protocol", "as published")));
        assertTrue(unlabelled.getMessage().contains("Labels.Protocol.AS_PUBLISHED.describe"), unlabelled.getMessage());
        assertTrue(!Files.exists(exp.checkpointDir("mlp")), "nothing was trained");
        Experiment.Run run = exp.run("mlp", Network.of(net()),
                t -> t.epochs(6).batchSize(16).seed(1).progress(false).callbacks(EarlyStopping.on("val_f1", 3, true)),
                blobs(120, 1, "train"), blobs(45, 2, "val"), blobs(60, 3, "test"), Labels.Protocol.AS_PUBLISHED.describe("as published"));
        assertTrue(run.validation().accuracy() > 0.7, run.toString());
        assertEquals(60, run.testPredictions().size());
        JsonObject saved = new Gson().fromJson(Files.readString(dir.resolve("results/report-x/mlp-test.json")), JsonObject.class);
        assertEquals("as published", saved.getAsJsonObject("extras").get("protocol").getAsString());
        assertEquals("none", saved.getAsJsonObject("extras").get("weights").getAsString());
        assertEquals(new Labels("as published", "none (trained from scratch)", "full", "test"), exp.results().labels("mlp-test").orElseThrow());
        assertEquals("validation", exp.results().labels("mlp-val").orElseThrow().evaluatedOn());
        assertEquals(1L, exp.results().seed("mlp-test").getAsLong(), "the trainer's seed is recorded");
        assertEquals(run.training().last("accuracy"),
                Double.parseDouble(exp.results().extra("mlp-test", "train_accuracy_at_last_epoch").orElseThrow()), 1e-12);
        assertEquals(run.testPredictions().scores().auc(), saved.getAsJsonObject("metrics").get("auc").getAsDouble(), 1e-12);
        JsonObject preds = new Gson().fromJson(Files.readString(dir.resolve("results/report-x/mlp-test.predictions.json")), JsonObject.class);
        assertEquals(60, preds.getAsJsonArray("probabilities").size());
        assertTrue(Files.isRegularFile(exp.checkpointDir("mlp").resolve("state.json")));
        // the same run again is restored from its checkpoint, with the same numbers
        Experiment.Run again = exp.run("mlp", Network.of(net()),
                t -> t.epochs(6).batchSize(16).seed(1).progress(false).callbacks(EarlyStopping.on("val_f1", 3, true)),
                blobs(120, 1, "train"), blobs(45, 2, "val"), blobs(60, 3, "test"), Labels.Protocol.AS_PUBLISHED.describe("as published"));
        assertTrue(again.training().resumed());
        assertEquals(run.test().accuracy(), again.test().accuracy());

        // the saved interval is the bootstrap interval of these predictions, and the reviewer's table reads it
        ResultStore store = exp.results();
        Bootstrap.Interval ci = Bootstrap.interval(run.testPredictions(), org.leukolab.metrics.Metric.F1);
        Bootstrap.Interval savedCi = store.interval("mlp-test", "macro_f1").orElseThrow();
        assertEquals(ci.low(), savedCi.low());
        assertEquals(ci.high(), savedCi.high());
        assertEquals(ci.value(), savedCi.value(), 1e-12);
        assertTrue(ci.low() <= ci.value() && ci.value() <= ci.high() && ci.low() < ci.high(), ci.toString());
        assertEquals(List.of("mlp-test", "mlp-val"), store.names());
        // a result saved before intervals were: the interval comes from its saved probabilities, the same
        Path file = dir.resolve("results/report-x/mlp-test.json");
        JsonObject old = new Gson().fromJson(Files.readString(file), JsonObject.class);
        old.remove("intervals_95");
        Files.writeString(file, new Gson().toJson(old));
        Bootstrap.Interval recomputed = store.interval("mlp-test", "macro_f1").orElseThrow();
        assertEquals(ci.low(), recomputed.low(), 1e-6);
        assertEquals(ci.high(), recomputed.high(), 1e-6);
        assertEquals(run.testPredictions().scores().accuracy(), store.predictions("mlp-test").orElseThrow().scores().accuracy(), 1e-12);
        Reproduction r = Reproduction.of("report x", store, "macro_f1").row("mlp", "as published", 91.5, "mlp-test")
                .row("mlp", "a run never made", 80.0, "other-test");
        var t = r.table();
        assertEquals(100 * run.test().macroF1(), t.doubleColumn("reproduced (%)").get(0), 0.01);
        assertEquals(String.format(java.util.Locale.ROOT, "[%.1f, %.1f]", 100 * ci.low(), 100 * ci.high()), t.stringColumn("95% interval").get(0));
        assertEquals("not run", t.stringColumn("95% interval").get(1));
        assertTrue(t.doubleColumn("reproduced (%)").isMissing(1));
        assertEquals(List.of("other-test"), r.missing().stream().map(Reproduction.Row::result).toList());
    }

    @Test
    void predictionsExportOneCsvRowPerImageWithEveryProbability() throws Exception {
        Batches b = blobs(9, 5, "test");
        INDArray p = Nd4j.create(new double[][] {{0.7, 0.2, 0.1}, {0.1, 0.8, 0.1}, {0.3, 0.3, 0.4}, {0.5, 0.4, 0.1}, {0.2, 0.2, 0.6},
                {0.6, 0.3, 0.1}, {0.1, 0.1, 0.8}, {0.3, 0.6, 0.1}, {0.2, 0.5, 0.3}});
        Predictions pr = Predictions.of("t", b.index().orElseThrow(), p);
        Path csv = pr.toCsv(dir.resolve("p.csv"));
        List<String> lines = Files.readAllLines(csv);
        assertEquals("path,source,split,true,predicted,p_a,p_b,p_c", lines.get(0));
        assertEquals(10, lines.size());
        assertTrue(lines.get(1).matches(".*,source-a,test,a,a,0\\.700000,0\\.200000,0\\.100000"), lines.get(1));
        assertEquals(pr.report().accuracy(), pr.scores().accuracy(), 1e-12);
        assertEquals(2, pr.bySource().rowCount(), "one source and 'all'");
        assertThrows(IllegalArgumentException.class, () -> Predictions.of("bad", b.index().orElseThrow(), Nd4j.zeros(9, 2)));
        // per class, the correct ones by confidence; errors by confidence
        int[] actual = pr.actual();
        int[] best = pr.mostConfidentCorrect(1);
        for (int i : best) {
            assertEquals(actual[i], pr.predicted()[i]);
        }
        for (int i = 0; i < actual.length; i++) {
            if (actual[i] == pr.predicted()[i]) {
                int c = actual[i];
                int chosen = java.util.Arrays.stream(best).filter(j -> actual[j] == c).findFirst().orElseThrow();
                assertTrue(p.getDouble(chosen, c) >= p.getDouble(i, c));
            }
        }
        int[] wrong = pr.errors();
        for (int k = 1; k < wrong.length; k++) {
            assertTrue(p.getRow(wrong[k - 1]).maxNumber().doubleValue() >= p.getRow(wrong[k]).maxNumber().doubleValue());
        }
    }

    @Test
    void aRepeatRunsEverySeedRecordsTheSpreadAndResumes() throws Exception {
        Experiment exp = Experiment.of("report-x").storeIn(dir).weights(Labels.Weights.NONE, "none");
        List<Long> seeds = List.of(1L, 2L, 3L);
        Repeats r = exp.repeat("mlp", seeds, s -> Network.of(net()), t -> t.epochs(3).batchSize(16).progress(false),
                blobs(120, 1, "train"), blobs(45, 2, "val"), blobs(60, 3, "test"), Labels.Protocol.AS_PUBLISHED.describe("x"));
        assertEquals(3, r.runs().size());
        for (long s : seeds) {
            assertEquals(s, exp.results().seed("mlp-seed" + s + "-test").getAsLong(), "each seed's run records its seed");
        }
        double[] acc = r.test("accuracy");
        assertTrue(java.util.Arrays.stream(acc).distinct().count() > 1 || acc[0] == acc[1], java.util.Arrays.toString(acc));
        var spread = r.spread("accuracy");
        assertEquals(java.util.Arrays.stream(acc).average().orElseThrow(), spread.mean(), 1e-12);
        assertEquals(java.util.Arrays.stream(acc).min().orElseThrow(), spread.min(), 1e-12);
        JsonObject saved = exp.results().repeats("mlp").orElseThrow();
        assertEquals(3, saved.getAsJsonArray("seeds").size());
        assertEquals(spread.sd(), saved.getAsJsonObject("spread").getAsJsonObject("accuracy").get("sd").getAsDouble(), 1e-12);
        assertEquals("as published", saved.getAsJsonObject("labels").get("protocol").getAsString());
        assertTrue(!exp.results().names().contains("mlp-repeats"), "a repeat's summary is not a result of its own");
        assertEquals(7, r.table().rowCount(), "three seeds, then mean, sd, min, max");
        // a second call resumes every seed from its checkpoint, with the same numbers
        Repeats again = exp.repeat("mlp", seeds, s -> Network.of(net()), t -> t.epochs(3).batchSize(16).progress(false),
                blobs(120, 1, "train"), blobs(45, 2, "val"), blobs(60, 3, "test"), Labels.Protocol.AS_PUBLISHED.describe("x"));
        assertTrue(again.runs().stream().allMatch(x -> x.training().resumed()));
        org.junit.jupiter.api.Assertions.assertArrayEquals(acc, again.test("accuracy"));
        // paired over the same seeds: a difference of a repeat with itself is zero on every seed
        var same = r.pairedWith(again, "accuracy");
        assertEquals(0.0, same.mean(), 1e-12);
        assertEquals(0, same.favourA() + same.favourB());
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> r.pairedWith(
                new Repeats("other", List.of(1L), List.of(r.runs().get(0)), 0), "accuracy"));
    }

    @Test
    void thePairedDifferenceOverSeedsHasAStudentTInterval() {
        var p = Repeats.SeedPaired.of("a", "b", "accuracy", List.of(1L, 2L, 3L), new double[] {0.91, 0.93, 0.92},
                new double[] {0.90, 0.90, 0.90});
        assertEquals(0.02, p.mean(), 1e-12);
        double half = 4.302652729911275 * 0.01 / Math.sqrt(3); // t(0.975, 2 df) x sd / sqrt(n)
        assertEquals(0.02 - half, p.low(), 1e-9);
        assertEquals(0.02 + half, p.high(), 1e-9);
        assertEquals(3, p.favourA());
        assertTrue(!p.survives(), "with 3 seeds this interval still contains 0: " + p);
        var q = Repeats.SeedPaired.of("a", "b", "accuracy", List.of(1L, 2L, 3L, 4L, 5L), new double[] {0.93, 0.94, 0.93, 0.94, 0.935},
                new double[] {0.90, 0.90, 0.90, 0.90, 0.90});
        assertTrue(q.survives(), q.toString());
    }
}

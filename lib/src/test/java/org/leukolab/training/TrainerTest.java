package org.leukolab.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonObject;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.leukolab.models.Layers;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import tech.tablesaw.api.Table;

class TrainerTest {
    @TempDir
    Path dir;

    /** Three Gaussian blobs in 4 dimensions: learnable, not trivially. */
    static DataSet blobs(int n, long seed) {
        Random r = new Random(seed);
        INDArray x = Nd4j.create(DataType.FLOAT, n, 4);
        INDArray y = Nd4j.zeros(DataType.FLOAT, n, 3);
        for (int i = 0; i < n; i++) {
            int c = i % 3;
            for (int d = 0; d < 4; d++) {
                x.putScalar(i, d, (d == c ? 2.0 : 0.0) + r.nextGaussian());
            }
            y.putScalar(i, c, 1);
        }
        return new DataSet(x, y);
    }

    static MultiLayerNetwork net(long seed) {
        MultiLayerNetwork n = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(seed)
                .updater(new Adam(1e-2)).weightInit(WeightInit.XAVIER_UNIFORM).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(16).activation(Activation.RELU).build())
                .layer(Layers.dropout(0.3))
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(16).nOut(3).activation(Activation.SOFTMAX).build())
                .build());
        n.init();
        return n;
    }

    private Trainer.Builder trainer(int epochs) {
        return Trainer.builder("blobs").epochs(epochs).batchSize(16).seed(7).learningRate(1e-2).progress(false);
    }

    @Test
    void learnsAndRecordsAKerasStyleHistory() {
        TrainingResult r = trainer(8).build().fit(Network.of(net(1)), blobs(300, 1), blobs(90, 2));
        Table h = r.history();
        assertEquals(List.of("epoch", "loss", "accuracy", "f1", "weighted_f1", "auc", "val_loss", "val_accuracy", "val_f1",
                "val_weighted_f1", "val_auc", "lr", "seconds"), h.columnNames());
        assertEquals(8, h.rowCount());
        assertTrue(h.doubleColumn("loss").get(7) < h.doubleColumn("loss").get(0), "training loss falls");
        assertTrue(h.doubleColumn("val_accuracy").get(7) > 0.75, "well above chance (1/3): " + h.doubleColumn("val_accuracy").get(7));
        assertTrue(h.doubleColumn("val_auc").get(7) > 0.85, "AUC well above 0.5: " + h.doubleColumn("val_auc").get(7));
        for (String m : List.of("f1", "weighted_f1", "auc", "val_f1", "val_weighted_f1", "val_auc")) {
            for (double v : h.doubleColumn(m).asDoubleArray()) {
                assertTrue(v >= 0 && v <= 1, m + " = " + v);
            }
        }
    }

    @Test
    void sameSeedGivesTheSameNumbers() {
        TrainingResult a = trainer(3).build().fit(Network.of(net(1)), blobs(120, 1), blobs(60, 2));
        TrainingResult b = trainer(3).build().fit(Network.of(net(1)), blobs(120, 1), blobs(60, 2));
        assertEquals(a.history().doubleColumn("loss").asList(), b.history().doubleColumn("loss").asList());
        assertEquals(a.history().doubleColumn("val_loss").asList(), b.history().doubleColumn("val_loss").asList());
    }

    @Test
    void resumeContinuesAfterTheLastCheckpointedEpoch() {
        Path ck = dir.resolve("ck");
        MultiLayerNetwork straight = net(5);
        trainer(4).checkpointDir(dir.resolve("ref")).build().fit(Network.of(straight), blobs(120, 1), blobs(60, 2));
        // a 4-epoch run killed during epoch 3 (its callbacks throw before epoch 3 is checkpointed)
        MultiLayerNetwork first = net(5);
        StopAt stopAt2 = new StopAt(3);
        assertThrows(StopRun.class, () -> trainer(4).checkpointDir(ck).callbacks(stopAt2).build()
                .fit(Network.of(first), blobs(120, 1), blobs(60, 2)));
        String state = readState(ck);
        assertTrue(state.contains("\"epochsDone\":2"), state);
        // continue with a new network object built the same way: epochs 3 and 4 are trained, the result equals the straight run
        stopAt2.disarm();
        MultiLayerNetwork second = net(5);
        TrainingResult r = trainer(4).checkpointDir(ck).callbacks(stopAt2).build().fit(Network.of(second), blobs(120, 1), blobs(60, 2));
        assertTrue(r.resumed());
        assertEquals(4, r.history().rowCount());
        assertEquals(straight.params(), second.params());
        assertEquals(1, countModelFiles(ck), "only the latest epoch's checkpoint folder is kept");
    }

    /** Stops the run after a given epoch, as if the notebook had been interrupted there. */
    static final class StopAt implements Callback {
        private int epoch;

        StopAt(int epoch) {
            this.epoch = epoch;
        }

        void disarm() {
            epoch = Integer.MAX_VALUE;
        }

        @Override
        public void onEpochEnd(Trainer.Context ctx, int e, Map<String, Double> m) {
            if (e == epoch) {
                throw new StopRun();
            }
        }

        @Override
        public String describe() {
            return "stop-at";
        }

        @Override
        public JsonObject save(Path folder) {
            return new JsonObject();
        }

        @Override
        public void restore(JsonObject s, Path folder, Trainer.Context ctx) {}
    }

    static final class StopRun extends RuntimeException {}

    private static String readState(Path ck) {
        try {
            return Files.readString(ck.resolve("state.json"));
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    private static long countModelFiles(Path ck) {
        try (var s = Files.list(ck)) {
            return s.filter(p -> p.getFileName().toString().startsWith("epoch-")).count();
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void earlyStoppingRestoresTheBestWeightsAndReduceLrLowersTheRate() {
        MultiLayerNetwork n = net(2);
        // validation labels are random: val_loss soon stops improving
        DataSet noisy = blobs(60, 9);
        INDArray shuffledLabels = Nd4j.zeros(DataType.FLOAT, 60, 3);
        Random r = new Random(1);
        for (int i = 0; i < 60; i++) {
            shuffledLabels.putScalar(i, r.nextInt(3), 1);
        }
        DataSet val = new DataSet(noisy.getFeatures(), shuffledLabels);
        EarlyStopping es = EarlyStopping.on("val_loss", 2, true);
        TrainingResult res = trainer(40).callbacks(ReduceLrOnPlateau.on("val_loss", 0.5, 1, 1e-4), es)
                .build().fit(Network.of(n), blobs(120, 1), val);
        assertNotNull(res.stopReason());
        assertTrue(res.epochs() < 40);
        double[] lr = res.history().doubleColumn("lr").asDoubleArray();
        assertTrue(lr[lr.length - 1] < lr[0], "learning rate was reduced: " + java.util.Arrays.toString(lr));
        // the restored weights give the best epoch's validation loss
        double[] v = Trainer.evaluate(Network.of(n), Batches.of(val), 64);
        double best = res.history().doubleColumn("val_loss").min();
        assertEquals(best, v[0], 1e-5);
    }

    @Test
    void trainingAccuracyComesFromTheTrainingForwardPass() {
        Network net = Network.of(net(4));
        trainer(1).build().fit(net, blobs(48, 1), null);
        INDArray out = net.lastTrainingOutput();
        assertNotNull(out, "the training forward pass was captured (no extra inference pass needed)");
        assertEquals(3, out.size(1));
    }

    @Test
    void learningRateCallbackWithoutStartingRateExplainsItself() {
        Trainer t = Trainer.builder("x").epochs(3).progress(false)
                .callbacks(ReduceLrOnPlateau.on("loss", 0.5, 1, 0)).build();
        DataSet d = blobs(30, 1);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> {
            for (int i = 0; i < 1; i++) {
                t.fit(Network.of(net(1)), d, null);
            }
        });
        assertTrue(e.getMessage().contains("learningRate(lr)"), e.getMessage());
    }

    static MultiLayerNetwork net(long seed, double dropRate) {
        MultiLayerNetwork n = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(seed)
                .updater(new Adam(1e-2)).weightInit(WeightInit.XAVIER_UNIFORM).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(16).activation(Activation.RELU).build())
                .layer(Layers.dropout(dropRate))
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(16).nOut(3).activation(Activation.SOFTMAX).build())
                .build());
        n.init();
        return n;
    }

    @Test
    void resumeWithEarlyStoppingRestoringTheBestGivesTheUninterruptedResult() {
        DataSet train = blobs(120, 1);
        DataSet val = noisyValidation();
        // reference: straight through, early stopping on val_loss with patience 2, best weights restored
        MultiLayerNetwork straight = net(3);
        EarlyStopping es1 = EarlyStopping.on("val_loss", 2, true);
        TrainingResult ref = trainer(30).callbacks(es1).build().fit(Network.of(straight), train, val);
        assertNotNull(ref.stopReason(), "the reference run stops early");
        int stopped = es1.stoppedEpoch();
        assertTrue(stopped > 2, "stopped at " + stopped);
        // the same run killed one epoch before it would stop, then run again with a fresh network object
        Path ck = dir.resolve("es");
        StopAt kill = new StopAt(stopped - 1);
        assertThrows(StopRun.class, () -> trainer(30).checkpointDir(ck).callbacks(EarlyStopping.on("val_loss", 2, true), kill)
                .build().fit(Network.of(net(3)), train, val));
        kill.disarm();
        MultiLayerNetwork resumed = net(3);
        EarlyStopping es2 = EarlyStopping.on("val_loss", 2, true);
        TrainingResult r = trainer(30).checkpointDir(ck).callbacks(es2, kill).build().fit(Network.of(resumed), train, val);
        assertTrue(r.resumed());
        assertEquals(ref.stopReason(), r.stopReason());
        assertEquals(stopped, es2.stoppedEpoch());
        assertEquals(es1.bestEpoch(), es2.bestEpoch());
        assertEquals(straight.params(), resumed.params(), "the best epoch's weights, restored from the checkpoint");
    }

    @Test
    void aChangedDropoutRateStartsOver() {
        Path ck = dir.resolve("drop");
        trainer(2).checkpointDir(ck).build().fit(Network.of(net(5, 0.3)), blobs(90, 1), blobs(30, 2));
        java.io.ByteArrayOutputStream log = new java.io.ByteArrayOutputStream();
        java.io.PrintStream old = System.out;
        TrainingResult r;
        try {
            System.setOut(new java.io.PrintStream(log, true));
            r = trainer(2).checkpointDir(ck).build().fit(Network.of(net(5, 0.4)), blobs(90, 1), blobs(30, 2));
        } finally {
            System.setOut(old);
        }
        assertTrue(!r.resumed(), "a network with another dropout rate is not handed the old checkpoint");
        assertTrue(log.toString().contains("changed: network configuration"), log.toString());
        // the same settings again: resumed (restored without training)
        TrainingResult again = trainer(2).checkpointDir(ck).build().fit(Network.of(net(5, 0.4)), blobs(90, 1), blobs(30, 2));
        assertTrue(again.resumed());
    }

    @Test
    void otherInitialWeightsOrOtherDataStartOver() {
        Path ck = dir.resolve("w");
        trainer(1).checkpointDir(ck).build().fit(Network.of(net(5)), blobs(90, 1), blobs(30, 2));
        assertTrue(!trainer(1).checkpointDir(ck).build().fit(Network.of(net(6)), blobs(90, 1), blobs(30, 2)).resumed(),
                "same configuration but other initial weights");
        trainer(1).checkpointDir(ck).build().fit(Network.of(net(5)), blobs(90, 1), blobs(30, 2));
        assertTrue(!trainer(1).checkpointDir(ck).build().fit(Network.of(net(5)), blobs(90, 3), blobs(30, 2)).resumed(),
                "same shapes but other training data");
    }

    @Test
    void moreEpochsContinueAFinishedRunAndFewerStartOver() {
        Path ck = dir.resolve("more");
        MultiLayerNetwork straight = net(8);
        trainer(4).build().fit(Network.of(straight), blobs(90, 1), blobs(30, 2));
        trainer(2).checkpointDir(ck).build().fit(Network.of(net(8)), blobs(90, 1), blobs(30, 2));
        MultiLayerNetwork more = net(8);
        TrainingResult r = trainer(4).checkpointDir(ck).build().fit(Network.of(more), blobs(90, 1), blobs(30, 2));
        assertTrue(r.resumed());
        assertEquals(4, r.history().rowCount());
        assertEquals(straight.params(), more.params(), "2 + 2 epochs equal 4 straight");
        TrainingResult fewer = trainer(3).checkpointDir(ck).build().fit(Network.of(net(8)), blobs(90, 1), blobs(30, 2));
        assertTrue(!fewer.resumed(), "a 4-epoch checkpoint is not handed back for a 3-epoch run");
        assertEquals(3, fewer.history().rowCount());
    }

    @Test
    void aCheckpointWriteThatFailsLeavesThePreviousCheckpointAndNoTemporaryFiles() throws Exception {
        Path ck = dir.resolve("full");
        Callback diskFull = new Callback() {
            @Override
            public void onEpochEnd(Trainer.Context ctx, int epoch, Map<String, Double> metrics) {}

            @Override
            public String describe() {
                return "disk-full-at-epoch-2";
            }

            @Override
            public JsonObject save(Path folder) {
                if (folder.getFileName().toString().contains("0002")) {
                    org.leukolab.system.AtomicFiles.write(folder.resolve("big.bin"), out -> {
                        out.write(new byte[1000]);
                        throw new java.io.IOException("No space left on device");
                    });
                }
                return new JsonObject();
            }

            @Override
            public void restore(JsonObject state, Path folder, Trainer.Context ctx) {}
        };
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> trainer(3).checkpointDir(ck).callbacks(diskFull)
                .build().fit(Network.of(net(5)), blobs(90, 1), blobs(30, 2)));
        assertTrue(e.getMessage().contains("epoch 2") && e.getMessage().contains("previous checkpoint is unchanged"), e.getMessage());
        assertTrue(readState(ck).contains("\"epochsDone\":1"), readState(ck));
        try (var all = Files.walk(ck)) {
            List<String> names = all.map(p -> ck.relativize(p).toString()).filter(n -> !n.isEmpty()).sorted().toList();
            assertEquals(List.of("epoch-0001", "epoch-0001/model.zip", "state.json"), names, "nothing half-written is left");
        }
    }

    @Test
    void batchTransformsAreDeterministicAndTheIdentityChangesNothing() {
        var mix = org.leukolab.augmentation.MixUp.withAlpha(0.4);
        TrainingResult a = trainer(3).transform(mix).build().fit(Network.of(net(1)), blobs(96, 1), blobs(30, 2));
        TrainingResult b = trainer(3).transform(mix).build().fit(Network.of(net(1)), blobs(96, 1), blobs(30, 2));
        assertEquals(a.history().doubleColumn("loss").asList(), b.history().doubleColumn("loss").asList());
        TrainingResult plain = trainer(3).build().fit(Network.of(net(1)), blobs(96, 1), blobs(30, 2));
        assertTrue(!plain.history().doubleColumn("loss").asList().equals(a.history().doubleColumn("loss").asList()),
                "MixUp changed what was trained on");
        MultiLayerNetwork n1 = net(1);
        MultiLayerNetwork n2 = net(1);
        trainer(2).build().fit(Network.of(n1), blobs(96, 1), blobs(30, 2));
        trainer(2).transform(org.leukolab.augmentation.BatchTransform.identity()).build().fit(Network.of(n2), blobs(96, 1), blobs(30, 2));
        assertEquals(n1.params(), n2.params());
    }

    @Test
    void validationMetricsAreThoseOfThePredictions() {
        Network n = Network.of(net(2));
        DataSet val = blobs(45, 2);
        TrainingResult r = trainer(2).build().fit(n, blobs(90, 1), val);
        var s = Trainer.scores(n, Batches.of(val), 16);
        assertEquals(s.accuracy(), r.last("val_accuracy"), 1e-12);
        assertEquals(s.f1(), r.last("val_f1"), 1e-12);
        assertEquals(s.auc(), r.last("val_auc"), 1e-12);
        assertEquals(s.loss(), r.last("val_loss"), 1e-6, "no regularisation in this network");
    }

    private static DataSet noisyValidation() {
        DataSet noisy = blobs(60, 9);
        INDArray shuffledLabels = Nd4j.zeros(DataType.FLOAT, 60, 3);
        Random r = new Random(1);
        for (int i = 0; i < 60; i++) {
            shuffledLabels.putScalar(i, r.nextInt(3), 1);
        }
        return new DataSet(noisy.getFeatures(), shuffledLabels);
    }
}

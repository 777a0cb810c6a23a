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
        assertEquals(List.of("epoch", "loss", "accuracy", "val_loss", "val_accuracy", "lr", "seconds"), h.columnNames());
        assertEquals(8, h.rowCount());
        assertTrue(h.doubleColumn("loss").get(7) < h.doubleColumn("loss").get(0), "training loss falls");
        assertTrue(h.doubleColumn("val_accuracy").get(7) > 0.75, "well above chance (1/3): " + h.doubleColumn("val_accuracy").get(7));
        assertTrue(r.curves().width() > 0);
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
        // continue with a new network object: epochs 3 and 4 are trained, the result equals the straight run
        stopAt2.disarm();
        MultiLayerNetwork second = net(123);
        TrainingResult r = trainer(4).checkpointDir(ck).callbacks(stopAt2).build().fit(Network.of(second), blobs(120, 1), blobs(60, 2));
        assertTrue(r.resumed());
        assertEquals(4, r.history().rowCount());
        assertEquals(straight.params(), second.params());
        assertEquals(1, countModelFiles(ck), "only the latest epoch's model file is kept");
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
        public JsonObject state() {
            return new JsonObject();
        }

        @Override
        public void restore(JsonObject s) {}
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
        double[] v = Trainer.evaluate(Network.of(n), val, 64);
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
}

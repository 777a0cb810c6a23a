package org.leukolab.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;

import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.transferlearning.TransferLearning;
import org.junit.jupiter.api.Test;
import org.leukolab.system.SeededArrays;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

class DirectGraphUpdaterTest {
    /** A frozen convolutional part under a trainable head, as Transfer.classifier builds it. */
    private static ComputationGraph graph() {
        var conf = new NeuralNetConfiguration.Builder().seed(3).updater(new Adam(1e-2)).graphBuilder().addInputs("in")
                .addLayer("c1", new ConvolutionLayer.Builder(3, 3).nOut(6).convolutionMode(ConvolutionMode.Same)
                        .activation(Activation.RELU).build(), "in")
                .addLayer("bn", new BatchNormalization.Builder().build(), "c1")
                .addLayer("c2", new ConvolutionLayer.Builder(3, 3).nOut(6).convolutionMode(ConvolutionMode.Same)
                        .activation(Activation.RELU).build(), "bn")
                .addLayer("gap", new GlobalPoolingLayer.Builder().build(), "c2")
                .addLayer("dense", new DenseLayer.Builder().nOut(5).activation(Activation.RELU).build(), "gap")
                .addLayer("out", new OutputLayer.Builder().nOut(3).activation(Activation.SOFTMAX).build(), "dense")
                .setOutputs("out").setInputTypes(InputType.convolutional(8, 8, 3)).build();
        var g = new ComputationGraph(conf);
        g.init();
        return new TransferLearning.GraphBuilder(g).setFeatureExtractor("bn").build();
    }

    private static DataSet batch(long seed) {
        INDArray y = Nd4j.zeros(DataType.FLOAT, 6, 3);
        for (int i = 0; i < 6; i++) {
            y.putScalar(i, (i + seed) % 3, 1f);
        }
        return new DataSet(SeededArrays.uniform(DataType.FLOAT, seed, 6, 3, 8, 8), y);
    }

    @Test
    void trainsExactlyAsDl4jsOwnUpdater() {
        ComputationGraph direct = graph();
        ComputationGraph own = direct.clone();
        own.fit(batch(1)); // DL4J's updater, made on the first step
        direct.fit(batch(1));
        DirectGraphUpdater.install(direct); // replaces it after a step: Adam's state carries over
        assertSame(DirectGraphUpdater.class, direct.getUpdater().getClass());
        for (int step = 2; step <= 5; step++) {
            own.fit(batch(step));
            direct.fit(batch(step));
        }
        assertEquals(0.0, direct.params().sub(own.params()).amaxNumber().doubleValue(), "parameters");
        assertEquals(0.0, direct.getUpdater().getStateViewArray().sub(own.getUpdater().getStateViewArray()).amaxNumber().doubleValue(),
                "Adam's moments");
    }

    @Test
    void aLearningRateChangeKeepsItAndTheState() {
        ComputationGraph direct = graph();
        ComputationGraph own = direct.clone();
        DirectGraphUpdater.install(direct);
        Network net = Network.of(direct);
        for (int step = 1; step <= 2; step++) {
            own.fit(batch(step));
            net.fit(batch(step));
        }
        own.setLearningRate(1e-3); // what ReduceLrOnPlateau does
        net.setLearningRate(1e-3);
        assertSame(DirectGraphUpdater.class, direct.getUpdater().getClass(), "DL4J's rebuilt updater is replaced again");
        for (int step = 3; step <= 4; step++) {
            own.fit(batch(step));
            net.fit(batch(step));
        }
        assertEquals(0.0, direct.params().sub(own.params()).amaxNumber().doubleValue(), "parameters");
    }

    @Test
    void handsDl4jTheNetworksOwnArray() {
        ComputationGraph g = graph();
        DirectGraphUpdater.install(g);
        DataSet b = batch(7);
        g.setInputs(b.getFeatures());
        g.setLabels(b.getLabels());
        g.computeGradientAndScore();
        INDArray view = g.getFlattenedGradients();
        assertNotSame(view, g.gradient().gradient(), "DL4J's gradient answers a new view each time (the detour)");
        assertSame(view, DirectGraphUpdater.asOwn(g.gradient(), view).gradient());
        INDArray elsewhere = g.gradient().gradient().dup();
        var other = new org.deeplearning4j.nn.gradient.DefaultGradient(elsewhere);
        assertNotSame(view, DirectGraphUpdater.asOwn(other, view).gradient(), "another array stays external");
    }

    @Test
    void adamBlocksUseTheDenormalSafeAdamOnTheSameState() {
        ComputationGraph g = graph();
        g.fit(batch(1));
        DirectGraphUpdater.install(g);
        int adam = 0;
        for (var block : g.getUpdater().getUpdaterBlocks()) {
            if (block.getGradientUpdater() instanceof org.nd4j.linalg.learning.AdamUpdater a) {
                adam++;
                assertSame(DenormalSafeAdam.class, a.getClass());
                INDArray state = block.getUpdaterView();
                assertEquals(state.data().address() + state.offset() * 4, a.getM().data().address() + a.getM().offset() * 4,
                        "first moments in the block's state");
            }
        }
        assertTrue(adam > 0);
    }
}

package org.leukolab.models;

import org.leukolab.system.SeededArrays;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayerWithBackprop;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** The frozen batch norm against DL4J's own in inference mode, against finite differences, and frozen under training. */
class FrozenBatchNormTest {
    private static MultiLayerNetwork net(Layer norm, DataType type) {
        MultiLayerConfiguration conf = new NeuralNetConfiguration.Builder().seed(7).dataType(type).updater(new Adam(1e-2)).list()
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(4).activation(Activation.TANH).build())
                .layer(norm)
                .layer(new GlobalPoolingLayer.Builder(PoolingType.AVG).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(6, 6, 3)).build();
        MultiLayerNetwork n = new MultiLayerNetwork(conf);
        n.init();
        return n;
    }

    private static MultiLayerNetwork frozen(DataType type) {
        MultiLayerNetwork n = net(new FrozenLayerWithBackprop(new FrozenBatchNorm(4, 1e-3, 0.99, true)), type);
        // statistics and scale far from the identity, so that a mistake in any of them shows
        n.getLayer(1).setParam("gamma", Nd4j.createFromArray(new double[][] {{0.5, 2.0, -1.5, 1.2}}).castTo(type));
        n.getLayer(1).setParam("beta", Nd4j.createFromArray(new double[][] {{0.1, -0.3, 0.7, 0.0}}).castTo(type));
        n.getLayer(1).setParam("mean", Nd4j.createFromArray(new double[][] {{0.2, -0.1, 0.05, 0.4}}).castTo(type));
        n.getLayer(1).setParam("var", Nd4j.createFromArray(new double[][] {{0.3, 1.7, 0.9, 0.04}}).castTo(type));
        return n;
    }

    private static DataSet data(DataType type) {
        INDArray x = SeededArrays.uniform(DataType.DOUBLE, 3, 5, 3, 6, 6).subi(0.5).muli(4).castTo(type);
        INDArray y = Nd4j.zeros(type, 5, 3);
        for (int i = 0; i < 5; i++) {
            y.putScalar(i, i % 3, 1);
        }
        return new DataSet(x, y);
    }

    @Test
    void computesWhatDl4jsBatchNormComputesInInferenceMode() {
        MultiLayerNetwork ours = frozen(DataType.FLOAT);
        MultiLayerNetwork theirs = net(new BatchNormalization.Builder().eps(1e-3).useLogStd(false).build(), DataType.FLOAT);
        theirs.setParams(ours.params());   // same parameter layout: gamma, beta, mean, var
        INDArray x = data(DataType.FLOAT).getFeatures();
        INDArray a = ours.output(x, false);
        INDArray b = theirs.output(x, false);
        assertTrue(a.equalsWithEps(b, 1e-6), "outputs differ:\n" + a + "\n" + b);
        assertEquals(16, ours.getLayer(1).numParams());
    }

    @Test
    void passesTheRightGradientToTheLayerBeforeIt() {
        MultiLayerNetwork n = frozen(DataType.DOUBLE);
        DataSet d = data(DataType.DOUBLE);
        n.setInput(d.getFeatures());
        n.setLabels(d.getLabels());
        n.computeGradientAndScore();
        // DL4J's gradient is summed over the batch (its updater divides by the batch size); the score is the mean
        INDArray analytic = n.gradient().getGradientFor("0_W").div(d.numExamples());
        INDArray w = n.getLayer(0).getParam("W");
        double h = 1e-6;
        for (int k = 0; k < w.length(); k += 7) {
            double v = w.getDouble(k);
            w.putScalar(k, v + h);
            double up = n.score(d, false);
            w.putScalar(k, v - h);
            double down = n.score(d, false);
            w.putScalar(k, v);
            double numeric = (up - down) / (2 * h);
            assertEquals(numeric, analytic.getDouble(k), 1e-6 + 1e-5 * Math.abs(numeric), "d loss / d W[" + k + "]");
        }
        assertEquals(0.0, n.getLayer(1).getGradientsViewArray().amaxNumber().doubleValue(), 0.0, "gamma, beta, mean, var get no gradient");
    }

    @Test
    void staysFrozenWhileTheRestTrains() {
        MultiLayerNetwork n = frozen(DataType.FLOAT);
        INDArray before = n.getLayer(1).params().dup();
        INDArray conv = n.getLayer(0).params().dup();
        DataSet d = data(DataType.FLOAT);
        for (int i = 0; i < 3; i++) {
            n.fit(d);
        }
        assertEquals(before, n.getLayer(1).params(), "frozen statistics and scale unchanged");
        assertTrue(!conv.equals(n.getLayer(0).params()), "the convolution before it trained");
    }

    /**
     * Off ND4J's CPU backend (the CUDA build; forced here, since no GPU runs on these machines) the plain-Java pass stands
     * aside and DL4J's broadcasts compute the same thing; on the CPU backend it is used.
     */
    @Test
    void offTheCpuBackendTheJavaPassStandsAside() {
        MultiLayerNetwork n = frozen(DataType.FLOAT);
        INDArray x = data(DataType.FLOAT).getFeatures();
        long before = org.leukolab.backend.NchwBatchNorm.scaleShiftCalls();
        INDArray onCpu = n.output(x, false);
        assertTrue(org.leukolab.backend.NchwBatchNorm.scaleShiftCalls() > before, "used on the CPU backend");
        try {
            org.leukolab.backend.Kernels.forceCpuBackendForTests(false);
            long off = org.leukolab.backend.NchwBatchNorm.scaleShiftCalls();
            INDArray elsewhere = n.output(x, false);
            assertEquals(off, org.leukolab.backend.NchwBatchNorm.scaleShiftCalls(), "never called off the CPU backend");
            assertEquals(0.0, onCpu.sub(elsewhere).amaxNumber().doubleValue(), "the same result either way, bit for bit");
            org.junit.jupiter.api.Assertions.assertFalse(org.leukolab.backend.Kernels.allowed());
            assertTrue(org.leukolab.backend.Kernels.reason().contains("not the CPU backend"), org.leukolab.backend.Kernels.reason());
        } finally {
            org.leukolab.backend.Kernels.forceCpuBackendForTests(null);
        }
    }
}

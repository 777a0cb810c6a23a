package org.leukolab.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * {@link NchwBatchNorm} against DL4J's built-in batch normalisation (float32 both): training-mode outputs, every
 * gradient, the running mean and variance after training steps, and inference-mode outputs, for a convolution's NCHW
 * output and a dense layer's [batch, features] output.
 */
class NchwBatchNormTest {
    private static MultiLayerNetwork net() {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(5).updater(new Sgd(0.05))   // not Adam: it turns rounding-sized gradients into full-size steps
                .dataType(DataType.FLOAT).list()
                .layer(new ConvolutionLayer.Builder(3, 3).stride(2, 2).convolutionMode(ConvolutionMode.Same).nOut(6)
                        .activation(Activation.RELU).build())
                .layer(new BatchNormalization.Builder().eps(1e-3).decay(0.9).build())
                .layer(new DenseLayer.Builder().nOut(5).activation(Activation.RELU).build())
                .layer(new BatchNormalization.Builder().eps(1e-3).decay(0.9).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(15, 15, 3))
                .build());
        net.init();
        return net;
    }

    private static INDArray[] data(long seed) {
        INDArray x = org.leukolab.system.SeededArrays.uniform(DataType.FLOAT, seed, 6, 3, 15, 15).muli(3).addi(1);   // mean far from 0, as for pixels
        INDArray y = Nd4j.zeros(DataType.FLOAT, 6, 3);
        for (int i = 0; i < 6; i++) {
            y.putScalar(i, i % 3, 1f);
        }
        return new INDArray[] {x, y};
    }

    private static void assertClose(INDArray expected, INDArray actual, double tolerance, String what) {
        // a floor of 1e-2: some gradients here are sums of thousands of terms cancelling to ~1e-3, where DL4J's
        // float32 sums and this helper's float64 ones differ by float32 rounding (~5e-7)
        double scale = Math.max(1e-2, expected.amaxNumber().doubleValue());
        double diff = expected.castTo(DataType.DOUBLE).sub(actual.castTo(DataType.DOUBLE)).amaxNumber().doubleValue();
        assertTrue(diff <= tolerance * scale, what + ": differs by " + diff + " (largest value " + scale + ")");
    }

    private static Map<String, INDArray> gradients(MultiLayerNetwork net, INDArray[] d) {
        net.setInput(d[0]);
        net.setLabels(d[1]);
        net.computeGradientAndScore();
        Map<String, INDArray> g = new java.util.LinkedHashMap<>();
        net.gradient().gradientForVariable().forEach((k, v) -> g.put(k, v.dup()));
        return g;
    }

    @Test
    void trainsAndInfersLikeDl4jsOwnBatchNorm() {
        MultiLayerNetwork builtIn = net();
        MultiLayerNetwork own = builtIn.clone();
        OneDnnLayers.setHelper(own.getLayer(1), new NchwBatchNorm());
        OneDnnLayers.setHelper(own.getLayer(3), new NchwBatchNorm());
        for (int i = 0; i < 4; i++) {
            int step = i;
            INDArray[] d = data(step);
            // step 0: the same parameters, so float32 rounding only (1e-5); later steps compare networks whose parameters
            // went through SGD steps computed from float32 and float64 sums: rounding differences carried forward (1e-4,
            // the bound of every other comparison here; step 3 was measured at up to 3.1e-5 in a full test run)
            assertClose(builtIn.feedForward(d[0], true).get(2), own.feedForward(d[0], true).get(2), step == 0 ? 1e-5 : 1e-4,
                    "training-mode output, step " + step);
            Map<String, INDArray> expected = gradients(builtIn, d);
            Map<String, INDArray> actual = gradients(own, d);
            assertEquals(expected.keySet(), actual.keySet());
            expected.forEach((k, v) -> assertClose(v, actual.get(k), 1e-4, k + ", step " + step));
            builtIn.fit(d[0], d[1]);
            own.fit(d[0], d[1]);
        }
        // running mean and variance (updated by the layer from the helper's batch statistics) and every other parameter
        for (int layer : new int[] {1, 3}) {
            // gamma, beta and the running statistics ("mean" and "var", or "log10stdev")
            Map<String, INDArray> ownParams = own.getLayer(layer).paramTable();
            assertTrue(ownParams.containsKey("mean"), ownParams.keySet().toString());
            builtIn.getLayer(layer).paramTable().forEach((k, v) -> assertClose(v, ownParams.get(k), 1e-4, layer + "_" + k + " after 4 steps"));
        }
        assertClose(builtIn.params(), own.params(), 1e-4, "parameters after 4 SGD steps");
        INDArray x = data(9)[0];
        assertClose(builtIn.output(x, false), own.output(x, false), 1e-4, "inference output");
    }

    @Test
    void otherLayoutsAreLeftToDl4j() {
        NchwBatchNorm bn = new NchwBatchNorm();
        INDArray x = org.leukolab.system.SeededArrays.uniform(DataType.FLOAT, 3, 2, 5, 5, 4);
        INDArray ones = Nd4j.ones(DataType.FLOAT, 4);
        assertNull(bn.preOutput(x, true, x.shape(), ones, ones.mul(0), ones.mul(0), ones, 0.9, 1e-3, CNN2DFormat.NHWC,
                LayerWorkspaceMgr.noWorkspaces()));
        assertNull(bn.preOutput(x.castTo(DataType.DOUBLE), true, x.shape(), ones, ones, ones, ones, 0.9, 1e-3, CNN2DFormat.NCHW,
                LayerWorkspaceMgr.noWorkspaces()));
    }

    @Test
    void scaleShiftIsTheTwoBroadcastsInOnePass() {
        INDArray x = org.leukolab.system.SeededArrays.uniform(DataType.FLOAT, 11, 3, 4, 5, 7).subi(0.5).muli(6);
        float[] s = {0.5f, -2.25f, 1.1f, 3e-3f};
        float[] t = {0.1f, -0.7f, 4f, 0f};
        INDArray expected = Nd4j.createUninitialized(DataType.FLOAT, x.shape());
        org.nd4j.linalg.factory.Broadcast.mul(x, Nd4j.createFromArray(s), expected, 1);
        INDArray scaled = expected.dup();
        org.nd4j.linalg.factory.Broadcast.add(expected, Nd4j.createFromArray(t), expected, 1);

        INDArray out = Nd4j.createUninitialized(DataType.FLOAT, x.shape());
        assertTrue(NchwBatchNorm.scaleShift(x, s, t, out));
        org.junit.jupiter.api.Assertions.assertArrayEquals(expected.data().asFloat(), out.data().asFloat(), 0f, "x * s + t, bit for bit");
        assertTrue(NchwBatchNorm.scaleShift(x, s, null, out));
        org.junit.jupiter.api.Assertions.assertArrayEquals(scaled.data().asFloat(), out.data().asFloat(), 0f, "x * s without a shift");

        // a map the size of a network's (vector kernels and their tails), random per-channel values
        INDArray big = org.leukolab.system.SeededArrays.uniform(DataType.FLOAT, 12, 4, 72, 13, 11).subi(0.5).muli(50);
        INDArray bs = org.leukolab.system.SeededArrays.uniform(DataType.FLOAT, 13, 72).subi(0.5).muli(3);
        INDArray bt = org.leukolab.system.SeededArrays.uniform(DataType.FLOAT, 14, 72).subi(0.5).muli(7);
        INDArray want = Nd4j.createUninitialized(DataType.FLOAT, big.shape());
        org.nd4j.linalg.factory.Broadcast.mul(big, bs, want, 1);
        org.nd4j.linalg.factory.Broadcast.add(want, bt, want, 1);
        INDArray got = Nd4j.createUninitialized(DataType.FLOAT, big.shape());
        assertTrue(NchwBatchNorm.scaleShift(big, bs.toFloatVector(), bt.toFloatVector(), got));
        org.junit.jupiter.api.Assertions.assertArrayEquals(want.data().asFloat(), got.data().asFloat(), 0f, "a large map, bit for bit");

        INDArray flat = x.reshape(3, 4 * 35).get(org.nd4j.linalg.indexing.NDArrayIndex.all(),
                org.nd4j.linalg.indexing.NDArrayIndex.interval(0, 4));
        assertTrue(!NchwBatchNorm.scaleShift(flat, s, t, Nd4j.createUninitialized(DataType.FLOAT, 3, 4)),
                "a strided view is declined (the caller broadcasts instead)");
        assertTrue(!NchwBatchNorm.scaleShift(x.castTo(DataType.DOUBLE), s, t, out.castTo(DataType.DOUBLE)), "float64 is declined");
        assertTrue(!NchwBatchNorm.scaleShift(x, new float[3], t, out), "a scale of the wrong length is declined");
    }
}

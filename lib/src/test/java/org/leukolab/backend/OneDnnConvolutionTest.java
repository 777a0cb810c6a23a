package org.leukolab.backend;

import org.leukolab.system.SeededArrays;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Map;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * {@link OneDnnConvolution} against DL4J's built-in convolution, both in float32: outputs, weight and bias gradients,
 * and (through a convolution in front of the tested one, whose gradients depend on it) the input gradient; for
 * 'same' and truncated padding, strides, dilation, kernels from 1x1 to 5x5, with and without bias.
 */
class OneDnnConvolutionTest {
    private static MultiLayerNetwork net(int kernel, int stride, int dilation, ConvolutionMode mode, int pad, boolean bias,
                                         int size) {
        return net(kernel, stride, dilation, mode, pad, bias, size, Activation.TANH, org.deeplearning4j.nn.conf.CacheMode.NONE);
    }

    private static MultiLayerNetwork net(int kernel, int stride, int dilation, ConvolutionMode mode, int pad, boolean bias,
                                         int size, Activation activation, org.deeplearning4j.nn.conf.CacheMode cache) {
        ConvolutionLayer.Builder tested = new ConvolutionLayer.Builder(kernel, kernel).stride(stride, stride)
                .dilation(dilation, dilation).convolutionMode(mode).nOut(6).hasBias(bias).activation(activation);
        if (mode != ConvolutionMode.Same) {
            tested.padding(pad, pad);
        }
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(7).updater(new Sgd(0.1))
                .dataType(DataType.FLOAT).cacheMode(cache).list()
                .layer(new ConvolutionLayer.Builder(3, 3).convolutionMode(ConvolutionMode.Same).nOut(5)
                        .activation(activation).build())
                .layer(tested.build())
                .layer(new GlobalPoolingLayer.Builder(PoolingType.AVG).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(3).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(size, size, 3))
                .build());
        net.init();
        return net;
    }

    private static Map<String, INDArray> gradients(MultiLayerNetwork net, INDArray x, INDArray y) {
        net.setInput(x);
        net.setLabels(y);
        net.computeGradientAndScore();
        Map<String, INDArray> g = new java.util.LinkedHashMap<>();
        net.gradient().gradientForVariable().forEach((k, v) -> g.put(k, v.dup()));
        return g;
    }

    private static INDArray[] data(int n, int size) {
        INDArray x = org.leukolab.system.SeededArrays.uniform(DataType.FLOAT, 11, n, 3, size, size).subi(0.5);
        INDArray y = Nd4j.zeros(DataType.FLOAT, n, 3);
        for (int i = 0; i < n; i++) {
            y.putScalar(i, i % 3, 1f);
        }
        return new INDArray[] {x, y};
    }

    private static void assertClose(INDArray expected, INDArray actual, String what) {
        double scale = Math.max(1e-6, expected.amaxNumber().doubleValue());
        double diff = expected.sub(actual).amaxNumber().doubleValue();
        assertTrue(diff <= 1e-4 * scale, what + ": differs by " + diff + " (largest value " + scale + ")");
    }

    /** Three SGD steps on both networks: the same gradients at every step and the same parameters after. */
    private static void assertTrainsTheSame(MultiLayerNetwork builtIn, MultiLayerNetwork direct, INDArray[] d) {
        for (int step = 0; step < 3; step++) {
            Map<String, INDArray> expected = gradients(builtIn, d[0], d[1]);
            Map<String, INDArray> actual = gradients(direct, d[0], d[1]);
            expected.forEach((k, v) -> assertClose(v, actual.get(k), k));
            builtIn.fit(d[0], d[1]);
            direct.fit(d[0], d[1]);
        }
        assertClose(builtIn.params(), direct.params(), "parameters after 3 steps");
    }

    @ParameterizedTest(name = "kernel {0}, stride {1}, dilation {2}, {3} padding {4}, bias {5}, {6}x{6}")
    @CsvSource({
            "3, 2, 1, Same, 0, true, 17",
            "3, 1, 1, Same, 0, true, 12",
            "1, 1, 1, Truncate, 0, true, 9",
            "5, 2, 1, Truncate, 2, false, 15",
            "3, 2, 1, Truncate, 0, true, 10",
            "3, 1, 2, Same, 0, true, 13",
            "2, 2, 1, Truncate, 1, true, 11",
    })
    void matchesDl4jsOwnConvolution(int kernel, int stride, int dilation, ConvolutionMode mode, int pad, boolean bias, int size) {
        INDArray[] d = data(4, size);
        MultiLayerNetwork builtIn = net(kernel, stride, dilation, mode, pad, bias, size);
        MultiLayerNetwork direct = builtIn.clone();
        OneDnnConvolution helper = new OneDnnConvolution(true);
        OneDnnLayers.setHelper(direct.getLayer(1), helper);

        assertClose(builtIn.output(d[0]), direct.output(d[0]), "output");
        Map<String, INDArray> expected = gradients(builtIn, d[0], d[1]);
        Map<String, INDArray> actual = gradients(direct, d[0], d[1]);
        assertEquals(expected.keySet(), actual.keySet());
        // 0_W and 0_b depend on the tested layer's input gradient; 1_W and 1_b are its own
        expected.forEach((k, v) -> assertClose(v, actual.get(k), k));
        assertTrue(helper.implementations().contains("input gradient"), helper.implementations());
    }

    @ParameterizedTest(name = "activations in plain NCHW: {0}")
    @ValueSource(booleans = {true, false})
    void aPointwiseConvolutionTrainsLikeDl4jsOwnInEitherLayout(boolean plain) {
        INDArray[] d = data(4, 9);
        MultiLayerNetwork builtIn = net(1, 1, 1, ConvolutionMode.Truncate, 0, true, 9);
        MultiLayerNetwork direct = builtIn.clone();
        OneDnnConvolution helper = new OneDnnConvolution(true, false, plain);
        OneDnnLayers.setHelper(direct.getLayer(1), helper);
        assertClose(builtIn.output(d[0]), direct.output(d[0]), "output");
        assertTrainsTheSame(builtIn, direct, d);
        assertEquals(plain, helper.implementations().contains("gemm"), helper.implementations());
    }

    @Test
    void theFirstLayerSkipsTheInputGradientAndTrainsTheSame() {
        INDArray[] d = data(4, 16);
        MultiLayerNetwork builtIn = net(3, 2, 1, ConvolutionMode.Same, 0, true, 16);
        MultiLayerNetwork direct = builtIn.clone();
        assertEquals(direct.getLayer(0), OneDnnLayers.inputLayer(direct));
        OneDnnConvolution first = new OneDnnConvolution(false);
        OneDnnLayers.setHelper(direct.getLayer(0), first);
        OneDnnLayers.setHelper(direct.getLayer(1), new OneDnnConvolution(true));
        assertTrainsTheSame(builtIn, direct, d);
        assertTrue(!first.implementations().contains("input gradient"), first.implementations());
        // what DL4J's layer returns as the input gradient of a first layer with this helper
        direct.setInput(d[0]);
        direct.setLabels(d[1]);
        direct.computeGradientAndScore();
        var mgr = org.deeplearning4j.nn.workspace.LayerWorkspaceMgr.noWorkspaces();
        direct.getLayer(0).setInput(d[0], mgr);
        direct.getLayer(0).activate(true, mgr);
        INDArray eps = SeededArrays.uniform(DataType.FLOAT, 7, direct.getLayer(0).activate(true, mgr).shape());
        assertNull(direct.getLayer(0).backpropGradient(eps, mgr).getSecond());
    }

    @ParameterizedTest(name = "cache mode {0}")
    @CsvSource({"NONE", "DEVICE"})
    void aReluInsideTheKernelTrainsLikeDl4jsLayers(org.deeplearning4j.nn.conf.CacheMode cache) {
        // both layers ReLU: the first without input gradient, the second with; the pre-activation DL4J keeps for the
        // backward pass (DEVICE) or recomputes (NONE) is then the rectified output, whose ReLU derivative is the same
        INDArray[] d = data(4, 16);
        MultiLayerNetwork builtIn = net(3, 1, 1, ConvolutionMode.Same, 0, true, 16, Activation.RELU, cache);
        MultiLayerNetwork direct = builtIn.clone();
        OneDnnConvolution first = new OneDnnConvolution(false, true);
        OneDnnConvolution second = new OneDnnConvolution(true, true);
        OneDnnLayers.setHelper(direct.getLayer(0), first);
        OneDnnLayers.setHelper(direct.getLayer(1), second);
        assertClose(builtIn.output(d[0]), direct.output(d[0]), "output");
        assertTrainsTheSame(builtIn, direct, d);
        assertTrue(OneDnnConvolution.plainRelu(new org.nd4j.linalg.activations.impl.ActivationReLU()));
        assertTrue(!OneDnnConvolution.plainRelu(new org.nd4j.linalg.activations.impl.ActivationReLU(6.0, 0.0, 0.0)), "ReLU6 is not fused");
        assertTrue(!OneDnnConvolution.plainRelu(Activation.TANH.getActivationFunction()));
    }

    @Test
    void aFusedReluKernelRefusesALayerWithAnotherActivation() {
        OneDnnConvolution helper = new OneDnnConvolution(true, true);
        INDArray z = SeededArrays.uniform(DataType.FLOAT, 8, 1, 2, 3, 3);
        org.junit.jupiter.api.Assertions.assertThrows(IllegalStateException.class,
                () -> helper.activate(z, Activation.TANH.getActivationFunction(), true));
    }

    @Test
    void otherDataTypesAndLayoutsAreLeftToDl4j() {
        OneDnnConvolution helper = new OneDnnConvolution(true);
        INDArray x = SeededArrays.uniform(DataType.DOUBLE, 9, 1, 3, 8, 8);
        INDArray w = SeededArrays.uniform(DataType.DOUBLE, 10, 4, 3, 3, 3);
        assertNull(helper.preOutput(x, w, null, new int[] {3, 3}, new int[] {1, 1}, new int[] {0, 0}, null, null,
                ConvolutionMode.Same, new int[] {1, 1}, org.deeplearning4j.nn.conf.CNN2DFormat.NCHW,
                org.deeplearning4j.nn.workspace.LayerWorkspaceMgr.noWorkspaces()));
        assertNull(helper.preOutput(x.castTo(DataType.FLOAT), w.castTo(DataType.FLOAT), null, new int[] {3, 3}, new int[] {1, 1},
                new int[] {0, 0}, null, null, ConvolutionMode.Same, new int[] {1, 1}, org.deeplearning4j.nn.conf.CNN2DFormat.NHWC,
                org.deeplearning4j.nn.workspace.LayerWorkspaceMgr.noWorkspaces()));
    }
}

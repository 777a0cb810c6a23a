package org.leukolab.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer.AlgoMode;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer.BwdDataAlgo;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer.BwdFilterAlgo;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer.FwdAlgo;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.LayerHelper;
import org.deeplearning4j.nn.layers.convolution.ConvolutionHelper;
import org.deeplearning4j.nn.layers.convolution.DepthwiseConvolution2DLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Test;
import org.leukolab.models.CustomCnns;
import org.leukolab.models.Optimizer;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

class OneDnnLayersTest {
    private static DataSet batch(int n, int size, int classes, long seed) {
        INDArray x = org.leukolab.system.SeededArrays.uniform(DataType.FLOAT, seed, n, 3, size, size).muli(2).subi(1);
        INDArray y = Nd4j.zeros(DataType.FLOAT, n, classes);
        for (int i = 0; i < n; i++) {
            y.putScalar(i, i % classes, 1f);
        }
        return new DataSet(x, y);
    }

    private static DataSet batch2() {
        INDArray y = Nd4j.zeros(DataType.FLOAT, 3, 2);
        y.putScalar(0, 0, 1f);
        y.putScalar(1, 1, 1f);
        y.putScalar(2, 0, 1f);
        return new DataSet(org.leukolab.system.SeededArrays.uniform(DataType.FLOAT, 4, 3, 4), y);
    }

    private static MultiLayerNetwork report000(int size) {
        return CustomCnns.report000(size, 5, Optimizer.adamW(1e-3), 42, CNN2DFormat.NCHW);
    }

    @Test
    void oneDnnLayersTrainReport000LikeDl4jsOwnLayers() {
        assumeTrue(OneDnnLayers.available(), "the ND4J build on the class path has no oneDNN (or LEUKOLAB_ONEDNN=0)");
        DataSet probe = batch(8, 48, 5, 1);
        MultiLayerNetwork fast = report000(48);
        MultiLayerNetwork builtIn = report000(48);
        OneDnnLayers.Report r = OneDnnLayers.install(fast, probe);
        assertEquals(11, r.onOneDnn().size(), "5 convolutions and 6 batch norms: " + r);
        assertTrue(r.builtIn().isEmpty(), r.toString());
        assertNotNull(fast.getLayer(0).getHelper(), "layer 0 should run on oneDNN");
        assertNull(builtIn.getLayer(0).getHelper(), "DL4J M2.1 never installs helpers itself");
        assertFalse(((OneDnnConvolution) fast.getLayer(0).getHelper()).inputGradient(), "the first layer computes no input gradient");
        assertTrue(((OneDnnConvolution) fast.getLayer(2).getHelper()).inputGradient());
        for (int i : new int[] {0, 2, 4, 6, 8}) {
            assertTrue(fast.getLayer(i) instanceof ReluConvolutionLayer c && c.fusedKernel() != null,
                    "convolution " + i + " should take its ReLU's backward pass into the kernel's layer");
        }

        // independent of install's own check: five AdamW steps on fresh batches give the same losses and weights
        for (int step = 0; step < 5; step++) {
            DataSet b = batch(8, 48, 5, 100 + step);
            fast.fit(b);
            builtIn.fit(b);
            assertEquals(builtIn.score(), fast.score(), 1e-3 * Math.max(1, builtIn.score()), "loss at step " + step);
        }
        double diff = fast.params().sub(builtIn.params()).amaxNumber().doubleValue();
        assertTrue(diff < 1e-3, "parameters after 5 steps differ by " + diff);
        INDArray x = batch(4, 48, 5, 9).getFeatures();
        assertTrue(fast.output(x).sub(builtIn.output(x)).amaxNumber().doubleValue() < 1e-3);
    }

    @Test
    void theUncheckedInstallUsesTheSameKernelsAsTheCheckedOne() {
        assumeTrue(OneDnnLayers.available(), "the ND4J build on the class path has no oneDNN (or LEUKOLAB_ONEDNN=0)");
        MultiLayerNetwork net = report000(48);
        assertEquals(11, OneDnnLayers.installUnchecked(net).size());
        assertFalse(((OneDnnConvolution) net.getLayer(0).getHelper()).inputGradient(), "the first layer computes no input gradient");
        assertTrue(((OneDnnConvolution) net.getLayer(0).getHelper()).fusedRelu());
        assertTrue(((OneDnnConvolution) net.getLayer(2).getHelper()).inputGradient());
    }

    @Test
    void aKernelThatDisagreesIsLeftOut() {
        // the 2nd convolution gets a helper whose weight gradient is 2% off; the check must keep that layer built-in.
        // Which of the genuine oneDNN kernels pass may depend on the CPU (oneDNN picks AVX2, AVX-512 or AMX code, with
        // different summation orders), so the expectation is this CPU's own result with genuine kernels, plus the
        // faulty layer.
        DataSet probe = batch(4, 32, 5, 2);
        OneDnnLayers.Report genuine = OneDnnLayers.install(report000(32), probe,
                l -> OneDnnLayers.oneDnnHelper(l, DataType.FLOAT));
        assertTrue(!genuine.builtIn().contains("2 ConvolutionLayer"), "layer 2's genuine kernel should pass: " + genuine);

        MultiLayerNetwork net = report000(32);
        // by index: the install puts a ReluConvolutionLayer in place of the layer object
        OneDnnLayers.Report r = OneDnnLayers.install(net, probe, l -> {
            LayerHelper h = OneDnnLayers.oneDnnHelper(l, DataType.FLOAT);
            return l.getIndex() == 2 ? new ScaledWeightGradient((ConvolutionHelper) h, 1.02) : h;
        });
        List<String> expected = new java.util.ArrayList<>(genuine.builtIn());
        expected.add("2 ConvolutionLayer");
        expected.sort(java.util.Comparator.comparingInt(s -> Integer.parseInt(s.split(" ")[0])));
        assertEquals(expected, r.builtIn(), "genuine: " + genuine + "; with the faulty kernel: " + r);
        assertEquals(11 - expected.size(), r.onOneDnn().size(), r.toString());
        assertNull(net.getLayer(2).getHelper());
        for (String kept : r.onOneDnn()) {
            assertNotNull(net.getLayer(Integer.parseInt(kept.split(" ")[0])).getHelper(), kept + " should carry its helper");
        }
        assertTrue(r.toString().contains("kept built-in because the fast kernel was less accurate: ") && r.toString().contains("2 ConvolutionLayer"),
                r.toString());
    }

    @Test
    void aReluBackwardThatIgnoresTheMaskIsLeftOut() {
        // the fused ReLU's backward pass is checked with the convolution: one that passes every gradient through
        // (as if the ReLU were the identity) must keep its layer built-in
        assumeTrue(OneDnnLayers.available(), "the ND4J build on the class path has no oneDNN (or LEUKOLAB_ONEDNN=0)");
        DataSet probe = batch(4, 32, 5, 2);
        MultiLayerNetwork net = report000(32);
        OneDnnLayers.Report r = OneDnnLayers.install(net, probe, l -> {
            LayerHelper h = OneDnnLayers.oneDnnHelper(l, DataType.FLOAT);
            return l.getIndex() == 2 ? new OneDnnConvolution(true, true) {
                @Override
                public void reluBackward(INDArray rectified, INDArray eps, INDArray out) {
                    out.assign(eps);
                }
            } : h;
        });
        assertTrue(r.builtIn().contains("2 ConvolutionLayer"), r.toString());
        assertNull(net.getLayer(2).getHelper());
        assertTrue(net.getLayer(2) instanceof ReluConvolutionLayer c && c.fusedKernel() == null);
    }

    @Test
    void aNetworkWithoutSuchLayersIsLeftAlone() {
        MultiLayerNetwork dense = new MultiLayerNetwork(new org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder().seed(1).list()
                .layer(new org.deeplearning4j.nn.conf.layers.OutputLayer.Builder().nIn(4).nOut(2)
                        .activation(org.nd4j.linalg.activations.Activation.SOFTMAX).build())
                .build());
        dense.init();
        OneDnnLayers.Report r = OneDnnLayers.install(dense, batch2(),
                l -> OneDnnLayers.oneDnnHelper(l, DataType.FLOAT));
        assertTrue(!r.active() && r.toString().contains("no convolution"), r.toString());
    }

    @Test
    void aBackboneGraphInfersOnOneDnnWithTheSameOutputs() {
        assumeTrue(OneDnnLayers.available(), "the ND4J build on the class path has no oneDNN (or LEUKOLAB_ONEDNN=0)");
        var conf = new org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder().seed(3).graphBuilder()
                .addInputs("in")
                .addLayer("conv", new org.deeplearning4j.nn.conf.layers.ConvolutionLayer.Builder(3, 3).nOut(8)
                        .convolutionMode(ConvolutionMode.Same).activation(org.nd4j.linalg.activations.Activation.RELU).build(), "in")
                .addLayer("bn", new org.deeplearning4j.nn.conf.layers.BatchNormalization.Builder().build(), "conv")
                .addLayer("pool", new org.deeplearning4j.nn.conf.layers.SubsamplingLayer.Builder(
                        org.deeplearning4j.nn.conf.layers.SubsamplingLayer.PoolingType.MAX).kernelSize(2, 2).stride(2, 2).build(), "bn")
                .setOutputs("pool")
                .setInputTypes(org.deeplearning4j.nn.conf.inputs.InputType.convolutional(24, 24, 3))
                .build();
        var graph = new org.deeplearning4j.nn.graph.ComputationGraph(conf);
        graph.init();
        var builtIn = graph.clone();
        INDArray x = batch(12, 24, 2, 5).getFeatures();
        OneDnnLayers.Report r = OneDnnLayers.installForInference(graph, x);
        assertEquals(3, r.onOneDnn().size(), r.toString());
        assertNotNull(graph.getLayer("conv").getHelper());
        double diff = graph.outputSingle(false, x).sub(builtIn.outputSingle(false, x)).amaxNumber().doubleValue();
        assertTrue(diff < 1e-4, "outputs differ by " + diff);
        assertTrue(OneDnnLayers.installForInference(graph, x).toString().contains("already installed"));
    }

    @Test
    void onlyTheFrozenLayersOfATrainingGraphGetOneDnn() {
        assumeTrue(OneDnnLayers.available(), "the ND4J build on the class path has no oneDNN (or LEUKOLAB_ONEDNN=0)");
        var conv = new org.deeplearning4j.nn.conf.layers.ConvolutionLayer.Builder(3, 3).nOut(8)
                .convolutionMode(ConvolutionMode.Same).activation(org.nd4j.linalg.activations.Activation.RELU).build();
        var conf = new org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder().seed(4).graphBuilder()
                .addInputs("in")
                .addLayer("conv", new org.deeplearning4j.nn.conf.layers.misc.FrozenLayer(conv), "in")
                .addLayer("bn", new org.deeplearning4j.nn.conf.layers.BatchNormalization.Builder().build(), "conv")
                .addLayer("gap", new org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer.Builder().build(), "bn")
                .addLayer("out", new org.deeplearning4j.nn.conf.layers.OutputLayer.Builder().nOut(2)
                        .activation(org.nd4j.linalg.activations.Activation.SOFTMAX).build(), "gap")
                .setOutputs("out")
                .setInputTypes(org.deeplearning4j.nn.conf.inputs.InputType.convolutional(16, 16, 3))
                .build();
        var graph = new org.deeplearning4j.nn.graph.ComputationGraph(conf);
        graph.init();
        var builtIn = graph.clone();
        DataSet b = batch(8, 16, 2, 6);
        OneDnnLayers.Report r = OneDnnLayers.installOnFrozenLayers(graph, b.getFeatures());
        assertEquals(List.of("conv"), r.onOneDnn(), r.toString());
        var frozen = (org.deeplearning4j.nn.layers.FrozenLayer) graph.getLayer("conv");
        assertNotNull(frozen.getInsideLayer().getHelper(), "the frozen convolution runs on oneDNN");
        assertNull(graph.getLayer("bn").getHelper(), "the trainable batch norm keeps DL4J's own code");
        // training steps move only the trainable layers, and match DL4J's own layers
        for (int step = 0; step < 3; step++) {
            DataSet s = batch(8, 16, 2, 20 + step);
            graph.fit(s);
            builtIn.fit(s);
        }
        double diff = graph.params().sub(builtIn.params()).amaxNumber().doubleValue();
        assertTrue(diff < 1e-4, "parameters after 3 steps differ by " + diff);
    }

    /** A small graph as fine-tuning builds it: a frozen convolution, then trainable convolutions and batch norm, a head. */
    private static org.deeplearning4j.nn.graph.ComputationGraph partlyFrozenGraph() {
        var act = org.nd4j.linalg.activations.Activation.RELU;
        var conf = new org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder().seed(5)
                .updater(new org.nd4j.linalg.learning.config.Adam(1e-3)).graphBuilder()
                .addInputs("in")
                .addLayer("stem", new org.deeplearning4j.nn.conf.layers.misc.FrozenLayer(new org.deeplearning4j.nn.conf.layers.ConvolutionLayer
                        .Builder(3, 3).nOut(8).convolutionMode(ConvolutionMode.Same).activation(act).build()), "in")
                .addLayer("conv1", new org.deeplearning4j.nn.conf.layers.ConvolutionLayer.Builder(3, 3).nOut(8)
                        .convolutionMode(ConvolutionMode.Same).activation(act).build(), "stem")
                .addLayer("bn", new org.deeplearning4j.nn.conf.layers.BatchNormalization.Builder().build(), "conv1")
                .addLayer("conv2", new org.deeplearning4j.nn.conf.layers.ConvolutionLayer.Builder(1, 1).nOut(12)
                        .activation(act).build(), "bn")
                .addLayer("gap", new org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer.Builder().build(), "conv2")
                .addLayer("out", new org.deeplearning4j.nn.conf.layers.OutputLayer.Builder().nOut(3)
                        .activation(org.nd4j.linalg.activations.Activation.SOFTMAX).build(), "gap")
                .setOutputs("out")
                .setInputTypes(org.deeplearning4j.nn.conf.inputs.InputType.convolutional(16, 16, 3))
                .build();
        var graph = new org.deeplearning4j.nn.graph.ComputationGraph(conf);
        graph.init();
        return graph;
    }

    @Test
    void aTrainingGraphRunsItsCheckedLayersOnOneDnnAndTrainsLikeDl4jsOwn() {
        assumeTrue(OneDnnLayers.available(), "the ND4J build on the class path has no oneDNN (or LEUKOLAB_ONEDNN=0)");
        var graph = partlyFrozenGraph();
        var builtIn = graph.clone();
        OneDnnLayers.Report r = OneDnnLayers.install(graph, batch(8, 16, 3, 7));
        assertEquals(List.of("stem", "conv1", "bn", "conv2"), r.onOneDnn(), r.toString());
        assertNotNull(graph.getLayer("conv1").getHelper(), "a trainable convolution runs on oneDNN");
        for (int step = 0; step < 3; step++) {
            DataSet s = batch(8, 16, 3, 30 + step);
            graph.fit(s);
            builtIn.fit(s);
        }
        double diff = graph.params().sub(builtIn.params()).amaxNumber().doubleValue();
        assertTrue(diff < 1e-4, "parameters after 3 steps differ by " + diff);
    }

    @Test
    void aGraphKernelThatDisagreesIsLeftOut() {
        DataSet probe = batch(4, 16, 3, 8);
        OneDnnLayers.Report genuine = OneDnnLayers.install(partlyFrozenGraph(), probe, l -> OneDnnLayers.oneDnnHelper(l, DataType.FLOAT));
        assertTrue(genuine.onOneDnn().contains("conv1"), "conv1's genuine kernel should pass: " + genuine);
        var graph = partlyFrozenGraph();
        Layer wrong = graph.getLayer("conv1");
        OneDnnLayers.Report r = OneDnnLayers.install(graph, probe, l -> {
            LayerHelper h = OneDnnLayers.oneDnnHelper(l, DataType.FLOAT);
            return l == wrong ? new ScaledWeightGradient((ConvolutionHelper) h, 1.02) : h;
        });
        assertTrue(r.builtIn().contains("conv1"), "the faulty kernel must be rejected: " + r);
        assertNull(graph.getLayer("conv1").getHelper());
        assertTrue(!r.onOneDnn().contains("conv1") && r.onOneDnn().size() >= genuine.onOneDnn().size() - 1, r.toString());
    }

    /**
     * MobileNet's pattern, as fine-tuning builds it: a frozen start (a convolution and a depthwise one), then trainable depthwise convolutions (one with stride 2, a multiplier of 2 and a bias,
     * one with a tanh and valid padding) between batch norm and 1x1 convolutions.
     */
    private static org.deeplearning4j.nn.graph.ComputationGraph depthwiseGraph() {
        return depthwiseGraph(3);
    }

    /** The same graph with {@code k}x{@code k} trainable depthwise kernels (5: EfficientNet's, wider than oneDNN's depthwise gradient takes). */
    private static org.deeplearning4j.nn.graph.ComputationGraph depthwiseGraph(int k) {
        var relu = org.nd4j.linalg.activations.Activation.RELU;
        var identity = org.nd4j.linalg.activations.Activation.IDENTITY;
        // SGD, not Adam: dw1's bias gradient is zero up to rounding (batch norm follows), and Adam turns rounding-sized
        // gradients into full-size steps in either direction
        var conf = new org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder().seed(9)
                .updater(new org.nd4j.linalg.learning.config.Sgd(0.1)).graphBuilder()
                .addInputs("in")
                .addLayer("stem", new org.deeplearning4j.nn.conf.layers.misc.FrozenLayer(new org.deeplearning4j.nn.conf.layers
                        .ConvolutionLayer.Builder(3, 3).nOut(6).convolutionMode(ConvolutionMode.Same).activation(relu).build()), "in")
                .addLayer("dw0", new org.deeplearning4j.nn.conf.layers.misc.FrozenLayer(new org.deeplearning4j.nn.conf.layers
                        .DepthwiseConvolution2D.Builder(3, 3).depthMultiplier(1).hasBias(false)
                        .convolutionMode(ConvolutionMode.Same).activation(identity).build()), "stem")
                .addLayer("dw1", new org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D.Builder(k, k).stride(2, 2)
                        .depthMultiplier(2).hasBias(true).convolutionMode(ConvolutionMode.Same).activation(identity).build(), "dw0")
                .addLayer("bn", new org.deeplearning4j.nn.conf.layers.BatchNormalization.Builder().build(), "dw1")
                .addLayer("pw", new org.deeplearning4j.nn.conf.layers.ConvolutionLayer.Builder(1, 1).nOut(10)
                        .activation(relu).build(), "bn")
                .addLayer("dw2", new org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D.Builder(k, k)
                        .depthMultiplier(1).hasBias(false).convolutionMode(ConvolutionMode.Truncate)
                        .activation(org.nd4j.linalg.activations.Activation.TANH).build(), "pw")
                .addLayer("gap", new org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer.Builder().build(), "dw2")
                .addLayer("out", new org.deeplearning4j.nn.conf.layers.OutputLayer.Builder().nOut(3)
                        .activation(org.nd4j.linalg.activations.Activation.SOFTMAX).build(), "gap")
                .setOutputs("out")
                .setInputTypes(org.deeplearning4j.nn.conf.inputs.InputType.convolutional(13, 13, 3))
                .build();
        var graph = new org.deeplearning4j.nn.graph.ComputationGraph(conf);
        graph.init();
        return graph;
    }

    @Test
    void depthwiseConvolutionsRunOnOneDnnAndTrainLikeDl4jsOwn() {
        assumeTrue(OneDnnLayers.available(), "the ND4J build on the class path has no oneDNN (or LEUKOLAB_ONEDNN=0)");
        var graph = depthwiseGraph();
        var builtIn = graph.clone();
        OneDnnLayers.Report r = OneDnnLayers.install(graph, batch(8, 13, 3, 11));
        assertTrue(r.onOneDnn().containsAll(List.of("dw0", "dw1", "dw2")) && r.builtIn().isEmpty(), r.toString());
        var frozen = (org.deeplearning4j.nn.layers.FrozenLayer) graph.getLayer("dw0");
        assertNotNull(((DepthwiseConvolutionLayer) frozen.getInsideLayer()).kernel(), "the frozen depthwise layer runs on oneDNN");
        assertNotNull(((DepthwiseConvolutionLayer) graph.getLayer("dw1")).kernel());
        assertTrue(java.util.Arrays.asList(graph.getLayers()).contains(graph.getLayer("dw2")), "the graph's layer list has the new layer");
        for (int step = 0; step < 3; step++) {
            DataSet s = batch(8, 13, 3, 40 + step);
            graph.fit(s);
            builtIn.fit(s);
        }
        double diff = graph.params().sub(builtIn.params()).amaxNumber().doubleValue();
        assertTrue(diff < 1e-4, "parameters after 3 steps differ by " + diff);
        INDArray x = batch(5, 13, 3, 50).getFeatures();
        double out = graph.outputSingle(false, x).sub(builtIn.outputSingle(false, x)).amaxNumber().doubleValue();
        assertTrue(out < 1e-4, "outputs differ by " + out);
        assertEquals(DepthwiseConvolution2DLayer.class, graph.clone().getLayer("dw1").getClass(), "a copy has DL4J's class again");
    }

    @Test
    void aDepthwiseKernelThatDisagreesIsLeftOut() {
        DataSet probe = batch(4, 13, 3, 12);
        var graph = depthwiseGraph();
        OneDnnLayers.Report r = installWithFaultyDepthwiseGradient(graph, probe, "dw1", w -> w.muli(1.02));
        assertTrue(r.builtIn().contains("dw1"), "the faulty depthwise kernel must be rejected: " + r);
        assertNull(((DepthwiseConvolutionLayer) graph.getLayer("dw1")).kernel());
        assertTrue(r.onOneDnn().containsAll(List.of("dw0", "dw2")), r.toString());
    }

    @Test
    void fiveByFiveDepthwiseGradientsComeFromTheJavaCodeAndTrainLikeDl4jsOwn() {
        assumeTrue(OneDnnLayers.available(), "the ND4J build on the class path has no oneDNN (or LEUKOLAB_ONEDNN=0)");
        assumeTrue(!"onednn".equalsIgnoreCase(System.getenv(OneDnnConvolution.DEPTHWISE_GRADIENT_ENV)),
                OneDnnConvolution.DEPTHWISE_GRADIENT_ENV + "=onednn");
        var graph = depthwiseGraph(5);
        var builtIn = graph.clone();
        OneDnnLayers.Report r = OneDnnLayers.install(graph, batch(8, 13, 3, 11));
        assertTrue(r.onOneDnn().containsAll(List.of("dw1", "dw2")) && r.builtIn().isEmpty(), r.toString());
        for (int step = 0; step < 3; step++) {
            DataSet s = batch(8, 13, 3, 40 + step);
            graph.fit(s);
            builtIn.fit(s);
        }
        for (String name : List.of("dw1", "dw2")) {
            String impl = ((DepthwiseConvolutionLayer) graph.getLayer(name)).kernel().implementations();
            assertTrue(impl.contains("weight gradient leukolab-java"), name + ": " + impl);
        }
        double diff = graph.params().sub(builtIn.params()).amaxNumber().doubleValue();
        assertTrue(diff < 1e-4, "parameters after 3 steps differ by " + diff);
    }

    @Test
    void aFiveByFiveDepthwiseGradientThatDisagreesIsLeftOut() {
        DataSet probe = batch(4, 13, 3, 12);
        var graph = depthwiseGraph(5);
        // one tap's gradient replaced by its neighbour's: the kind of slip an indexing error makes
        OneDnnLayers.Report r = installWithFaultyDepthwiseGradient(graph, probe, "dw2", w -> w.get(NDArrayIndex.point(0))
                .get(NDArrayIndex.point(0)).assign(w.get(NDArrayIndex.point(0)).get(NDArrayIndex.point(1))));
        assertTrue(r.builtIn().contains("dw2"), "the faulty depthwise gradient must be rejected: " + r);
        assertNull(((DepthwiseConvolutionLayer) graph.getLayer("dw2")).kernel());
        assertTrue(r.onOneDnn().contains("dw1"), r.toString());
    }

    /** The check with layer {@code layer}'s depthwise weight gradient changed by {@code fault} after it is computed. */
    private static OneDnnLayers.Report installWithFaultyDepthwiseGradient(org.deeplearning4j.nn.graph.ComputationGraph graph,
                                                                          DataSet probe, String layer,
                                                                          java.util.function.Consumer<INDArray> fault) {
        return OneDnnLayers.install(graph, probe, l -> {
            if (!l.conf().getLayer().getLayerName().equals(layer)) {
                return OneDnnLayers.oneDnnHelper(l, DataType.FLOAT);
            }
            return new OneDnnConvolution(true) {
                @Override
                public INDArray depthwiseBackward(INDArray input, INDArray weights, INDArray bias, INDArray delta, int[] kernel,
                                                  int[] strides, int[] pad, INDArray biasGradView, INDArray weightGradView,
                                                  ConvolutionMode mode, int[] dilation, CNN2DFormat format, LayerWorkspaceMgr mgr) {
                    INDArray dx = super.depthwiseBackward(input, weights, bias, delta, kernel, strides, pad, biasGradView,
                            weightGradView, mode, dilation, format, mgr);
                    fault.accept(weightGradView);
                    return dx;
                }
            };
        });
    }

    /** A deliberately wrong convolution helper: DL4J's oneDNN one with its weight gradient scaled. */
    private record ScaledWeightGradient(ConvolutionHelper inner, double factor) implements ConvolutionHelper {
        @Override
        public boolean checkSupported() {
            return true;
        }

        @Override
        public Map<String, Long> helperMemoryUse() {
            return inner.helperMemoryUse();
        }

        @Override
        public Pair<Gradient, INDArray> backpropGradient(INDArray input, INDArray weights, INDArray bias, INDArray delta,
                                                         int[] kernel, int[] strides, int[] pad, INDArray biasGradView,
                                                         INDArray weightGradView, IActivation afn, AlgoMode mode,
                                                         BwdFilterAlgo bwdFilterAlgo, BwdDataAlgo bwdDataAlgo,
                                                         ConvolutionMode convolutionMode, int[] dilation, CNN2DFormat format,
                                                         LayerWorkspaceMgr mgr) {
            Pair<Gradient, INDArray> p = inner.backpropGradient(input, weights, bias, delta, kernel, strides, pad, biasGradView,
                    weightGradView, afn, mode, bwdFilterAlgo, bwdDataAlgo, convolutionMode, dilation, format, mgr);
            p.getFirst().getGradientFor("W").muli(factor);
            return p;
        }

        @Override
        public INDArray preOutput(INDArray input, INDArray weights, INDArray bias, int[] kernel, int[] strides, int[] pad,
                                  AlgoMode mode, FwdAlgo fwdAlgo, ConvolutionMode convolutionMode, int[] dilation,
                                  CNN2DFormat format, LayerWorkspaceMgr mgr) {
            return inner.preOutput(input, weights, bias, kernel, strides, pad, mode, fwdAlgo, convolutionMode, dilation, format, mgr);
        }

        @Override
        public INDArray activate(INDArray z, IActivation afn, boolean training) {
            return inner.activate(z, afn, training);
        }
    }

    /**
     * Off ND4J's CPU backend (forced: no GPU runs here) nothing of leukolab's is put in place, on a network or a graph,
     * checked or unchecked, and the report (the trainer's log line) says why.
     */
    @Test
    void offTheCpuBackendEveryKernelStandsAside() {
        try {
            Kernels.forceCpuBackendForTests(false);
            assertFalse(OneDnnLayers.available());
            MultiLayerNetwork net = report000(32);
            OneDnnLayers.Report r = OneDnnLayers.install(net, batch(8, 32, 5, 1));
            assertFalse(r.active(), r.toString());
            assertTrue(r.toString().contains("not the CPU backend") && r.toString().contains("DL4J's own layers run"), r.toString());
            assertTrue(OneDnnLayers.installUnchecked(net).isEmpty());
            for (int i = 0; i < net.getnLayers(); i++) {
                assertNull(net.getLayer(i).getHelper(), "layer " + i + " has no helper");
                assertFalse(net.getLayer(i) instanceof ReluConvolutionLayer, "layer " + i + " is DL4J's own");
            }
            var graph = depthwiseGraph();
            assertFalse(OneDnnLayers.install(graph, batch(2, 16, 3, 1)).active(), "a graph too (the probe is never read)");
            assertTrue(OneDnnLayers.installUnchecked(graph).isEmpty());
        } finally {
            Kernels.forceCpuBackendForTests(null);
        }
        assertTrue(Kernels.allowed() || Kernels.turnedOff(), "asks ND4J again once the test is over");
    }
}

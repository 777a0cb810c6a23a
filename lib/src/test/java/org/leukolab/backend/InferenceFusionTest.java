package org.leukolab.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.ZeroPaddingLayer;
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

class InferenceFusionTest {
    private static final String NO_ONEDNN = "the ND4J build on the class path has no oneDNN (or LEUKOLAB_ONEDNN=0)";

    /**
     * The shapes of MobileNetV2's and EfficientNet's blocks on a small odd-sized input: convolution - batch norm - ReLU6,
     * a Keras-style asymmetric zero padding before a stride-2 depthwise convolution - batch norm - swish, a projection with
     * batch norm and no activation added to the block's input (a result read again several layers later), and a 1x1
     * convolution with a bias - batch norm - sigmoid at the end ({@code output}: the network's output, or global pooling).
     */
    private static ComputationGraph blocks(boolean pooled) {
        return blocks(pooled, false);
    }

    private static ComputationGraph blocks(boolean pooled, boolean withDense) {
        var g = new NeuralNetConfiguration.Builder().seed(11).updater(new Adam(1e-3)).graphBuilder().addInputs("in")
                .addLayer("c1", new ConvolutionLayer.Builder(3, 3).nOut(8).convolutionMode(ConvolutionMode.Same).hasBias(false)
                        .activation(Activation.IDENTITY).build(), "in")
                .addLayer("bn1", new BatchNormalization.Builder().eps(1e-3).useLogStd(false).build(), "c1")
                .addLayer("a1", new ActivationLayer.Builder().activation(Activation.RELU6).build(), "bn1")
                .addLayer("pad", new ZeroPaddingLayer.Builder(0, 1, 0, 1).build(), "a1")
                .addLayer("dw", new DepthwiseConvolution2D.Builder(3, 3).stride(2, 2).depthMultiplier(1).hasBias(false)
                        .convolutionMode(ConvolutionMode.Truncate).activation(Activation.IDENTITY).build(), "pad")
                .addLayer("bn2", new BatchNormalization.Builder().eps(1e-3).useLogStd(false).build(), "dw")
                .addLayer("a2", new ActivationLayer.Builder().activation(Activation.SWISH).build(), "bn2")
                .addLayer("pw", new ConvolutionLayer.Builder(1, 1).nOut(8).hasBias(false).activation(Activation.IDENTITY).build(), "a2")
                .addLayer("bn3", new BatchNormalization.Builder().eps(1e-3).useLogStd(false).build(), "pw")
                .addVertex("add", new ElementWiseVertex(ElementWiseVertex.Op.Add), "a2", "bn3")
                .addLayer("c5", new ConvolutionLayer.Builder(1, 1).nOut(12).hasBias(true).activation(Activation.IDENTITY).build(), "add")
                .addLayer("bn5", new BatchNormalization.Builder().eps(1e-3).useLogStd(false).build(), "c5")
                .addLayer("a5", new ActivationLayer.Builder().activation(Activation.SIGMOID).build(), "bn5");
        if (pooled) {
            g.addLayer("gap", new GlobalPoolingLayer.Builder().build(), "a5").setOutputs("gap");
        } else if (withDense) { // squeeze-and-excitation's two small dense layers on the pooled map
            g.addLayer("gap", new GlobalPoolingLayer.Builder().build(), "a5")
                    .addLayer("d1", new org.deeplearning4j.nn.conf.layers.DenseLayer.Builder().nOut(3).activation(Activation.RELU).build(), "gap")
                    .addLayer("d2", new org.deeplearning4j.nn.conf.layers.DenseLayer.Builder().nOut(12).activation(Activation.SIGMOID).build(), "d1")
                    .setOutputs("d2");
        } else {
            g.setOutputs("a5");
        }
        var graph = new ComputationGraph(g.setInputTypes(InputType.convolutional(17, 17, 3)).build());
        graph.init();
        // batch-norm statistics far from the identity, as a trained network has them
        for (String bn : new String[] {"bn1", "bn2", "bn3", "bn5"}) {
            var l = graph.getLayer(bn);
            long c = l.getParam("gamma").length();
            l.getParam("gamma").assign(SeededArrays.uniform(DataType.FLOAT, bn.hashCode(), 1, c).addi(0.5));
            l.getParam("beta").assign(SeededArrays.uniform(DataType.FLOAT, bn.hashCode() + 1, 1, c).subi(0.5));
            l.getParam("mean").assign(SeededArrays.uniform(DataType.FLOAT, bn.hashCode() + 2, 1, c).subi(0.5));
            l.getParam("var").assign(SeededArrays.uniform(DataType.FLOAT, bn.hashCode() + 3, 1, c).muli(1.5).addi(0.5));
        }
        return graph;
    }

    private static INDArray images(int n, long seed) {
        return SeededArrays.uniform(DataType.FLOAT, seed, n, 3, 17, 17).muli(2).subi(1);
    }

    private static double relativeDifference(INDArray a, INDArray b) {
        return a.sub(b).amaxNumber().doubleValue() / Math.max(1e-12, b.amaxNumber().doubleValue());
    }

    @Test
    void fusedChainsComputeWhatDl4jsLayersCompute() {
        assumeTrue(InferenceFusion.enabled(), NO_ONEDNN);
        ComputationGraph graph = blocks(true);
        ComputationGraph builtIn = graph.clone();
        INDArray x = images(12, 1);
        OneDnnLayers.Report r = OneDnnLayers.installForInference(graph, x);
        assertTrue(r.fused().startsWith("4 convolution + batch-norm chains fused"), r.toString());
        assertTrue(r.fused().contains("3 activations and 1 paddings"), r.fused());
        // c1's chain is read only by the depthwise convolution (through the folded padding): handed on in oneDNN's layout
        assertTrue(r.fused().contains("; 1 handed on in oneDNN's layout"), r.fused());
        assertEquals(FusedLayers.FoldedBatchNorm.class, graph.getLayer("bn1").getClass());
        // other batch sizes after the first (the buffers grow and shrink), and the first again
        for (int n : new int[] {12, 5, 33, 12}) {
            INDArray xs = images(n, 100 + n);
            double d = relativeDifference(graph.outputSingle(false, xs), builtIn.outputSingle(false, xs));
            assertTrue(d < 1e-5, "batch of " + n + ": fused output differs by " + d + " of its largest value");
        }
        // five input shapes (the check's, then four batches), one copy of each layer's weights in the kernel's layout
        int copies = 0;
        for (var l : graph.getLayers()) {
            if (l instanceof FusedLayers.Convolution c) {
                int k = c.chain().oneDnn.keptWeightCopies();
                assertTrue(k <= 1, l.conf().getLayer().getLayerName() + " keeps " + k + " copies of its weights");
                copies += k;
            }
        }
        assertTrue(copies > 0, "no fused convolution kept its weights in a blocked layout");
    }

    @Test
    void aResultLeftInOneDnnsLayoutIsConvertedWhereItLeavesTheFusedConvolutions() {
        assumeTrue(InferenceFusion.enabled(), NO_ONEDNN);
        ComputationGraph graph = blocks(true);
        ComputationGraph builtIn = graph.clone();
        OneDnnLayers.installForInference(graph, images(4, 30));
        InferenceFusion.Chain c1 = ((FusedLayers.Convolution) graph.getLayer("c1")).chain();
        assertTrue(c1.keepLayout, "c1's result should stay in the kernel's layout");
        assertSame(c1, ((DepthwiseConvolutionLayer) graph.getLayer("dw")).fused().from);
        INDArray x = images(5, 31);
        INDArray blocked = c1.forward(x);
        assertTrue(c1.layoutOf(blocked) != null);
        assertTrue(c1.layoutOf(blocked.dup()) == null, "a copy is not the chain's result");
        INDArray expected = builtIn.feedForward(x, false).get("a1");
        INDArray nchw = c1.nchw(blocked, org.deeplearning4j.nn.workspace.LayerWorkspaceMgr.noWorkspaces());
        assertTrue(relativeDifference(nchw, expected) < 1e-5, "converted: " + relativeDifference(nchw, expected));
        INDArray again = c1.nchw(c1.forward(x), org.deeplearning4j.nn.workspace.LayerWorkspaceMgr.noWorkspaces());
        assertTrue(relativeDifference(again, expected) < 1e-5, "converted again (the kept conversion)");
        // the kernel's layout is not NCHW (8 channels in blocks of 8 or 16): read as NCHW, the values are elsewhere
        assertTrue(relativeDifference(blocked, expected) > 1e-2, "the kept result should not be NCHW");
        // and the whole graph still computes DL4J's output, batch after batch
        for (int n : new int[] {5, 9, 5}) {
            INDArray xs = images(n, 40 + n);
            assertTrue(relativeDifference(graph.outputSingle(false, xs), builtIn.outputSingle(false, xs)) < 1e-5);
        }
    }

    @Test
    void smallFrozenDenseLayersRunInJavaWithTheSameResult() {
        assumeTrue(InferenceFusion.enabled(), NO_ONEDNN);
        ComputationGraph graph = blocks(false, true);
        ComputationGraph builtIn = graph.clone();
        OneDnnLayers.Report r = OneDnnLayers.installForInference(graph, images(8, 12));
        assertTrue(r.fused().endsWith("2 small dense layers in plain Java"), r.toString());
        assertEquals(FusedLayers.SmallDense.class, graph.getLayer("d2").getClass());
        INDArray x = images(6, 13);
        assertTrue(relativeDifference(graph.outputSingle(false, x), builtIn.outputSingle(false, x)) < 1e-5);
    }

    @Test
    void largerFrozenDenseLayersUseBlasWithTheSameResult() {
        // squeeze-and-excitation's layers of EfficientNetV2 (1,536 x 64): from 2^16 multiply-adds a call one BLAS product
        assumeTrue(InferenceFusion.enabled(), NO_ONEDNN);
        var conf = new NeuralNetConfiguration.Builder().seed(5).graphBuilder().addInputs("in")
                .addLayer("d", new org.deeplearning4j.nn.conf.layers.DenseLayer.Builder().nIn(256).nOut(64)
                        .activation(Activation.SIGMOID).build(), "in")
                .setOutputs("d").build();
        ComputationGraph graph = new ComputationGraph(conf);
        graph.init();
        graph.getLayer("d").getParam("b").assign(SeededArrays.uniform(DataType.FLOAT, 6, 1, 64).subi(0.5));
        ComputationGraph builtIn = graph.clone();
        InferenceFusion.Applied applied = InferenceFusion.apply(graph, false);
        assertEquals(1, applied.smallDense);
        assertEquals(FusedLayers.SmallDense.class, graph.getLayer("d").getClass());
        for (int n : new int[] {8, 2}) { // 131,072 multiply-adds (BLAS) and 32,768 (the Java loop)
            assertTrue((long) n * 256 * 64 >= FusedLayers.SmallDense.BLAS_MULTIPLY_ADDS == (n == 8));
            INDArray x = SeededArrays.uniform(DataType.FLOAT, 7 + n, n, 256).subi(0.5);
            double d = relativeDifference(graph.outputSingle(false, x), builtIn.outputSingle(false, x));
            assertTrue(d < 1e-5, n + " rows: differs by " + d);
        }
    }

    @Test
    void parametersRestoredIntoAFusedGraphAreFoldedAgain() {
        assumeTrue(InferenceFusion.enabled(), NO_ONEDNN);
        ComputationGraph graph = blocks(false, true);
        OneDnnLayers.installForInference(graph, images(8, 14));
        ComputationGraph other = blocks(false, true);
        other.getLayer("bn2").getParam("gamma").muli(3); // other batch-norm statistics and other dense weights
        other.getLayer("d1").getParam("W").muli(-2);
        graph.setParams(other.params());
        InferenceFusion.refold(graph);
        INDArray x = images(5, 15);
        assertTrue(relativeDifference(graph.outputSingle(false, x), other.outputSingle(false, x)) < 1e-5,
                "the fused graph computes with the restored parameters");
    }

    @Test
    void aFusedChainAtTheNetworksOutputHandsBackItsOwnArray() {
        assumeTrue(InferenceFusion.enabled(), NO_ONEDNN);
        ComputationGraph graph = blocks(false);
        ComputationGraph builtIn = graph.clone();
        OneDnnLayers.Report r = OneDnnLayers.installForInference(graph, images(8, 2));
        assertTrue(r.fused().startsWith("4 convolution"), r.toString());
        INDArray first = graph.outputSingle(false, images(8, 3));
        INDArray kept = first.dup();
        graph.outputSingle(false, images(8, 4)); // must not overwrite the first result
        assertEquals(0.0, first.sub(kept).amaxNumber().doubleValue());
        assertTrue(relativeDifference(first, builtIn.outputSingle(false, images(8, 3))) < 1e-5);
    }

    @Test
    void aFusionThatDisagreesIsLeftOutAndTheGraphRestored() {
        assumeTrue(InferenceFusion.enabled(), NO_ONEDNN);
        ComputationGraph graph = blocks(true);
        ComputationGraph builtIn = graph.clone();
        INDArray x = images(8, 5);
        OneDnnLayers.Report r = OneDnnLayers.installInference(graph, x, false, 1.02); // weights 2% off
        assertTrue(r.fused().contains("left out"), r.toString());
        assertSame(org.deeplearning4j.nn.layers.normalization.BatchNormalization.class, graph.getLayer("bn1").getClass());
        assertSame(org.deeplearning4j.nn.layers.convolution.ZeroPaddingLayer.class, graph.getLayer("pad").getClass());
        assertTrue(r.active(), "the unfused kernels still pass: " + r);
        assertTrue(relativeDifference(graph.outputSingle(false, x), builtIn.outputSingle(false, x)) < 1e-5);
    }

    @Test
    void aFrozenBackboneUnderATrainedHeadTrainsAsWithDl4jsLayers() {
        assumeTrue(InferenceFusion.enabled(), NO_ONEDNN);
        ComputationGraph backbone = blocks(true);
        ComputationGraph graph = new TransferLearning.GraphBuilder(backbone).setFeatureExtractor("a5")
                .addLayer("out", new OutputLayer.Builder().nIn(12).nOut(3).activation(Activation.SOFTMAX).build(), "gap")
                .setOutputs("out").build();
        ComputationGraph builtIn = graph.clone();
        INDArray x = images(8, 6);
        OneDnnLayers.Report r = OneDnnLayers.installOnFrozenLayers(graph, x);
        assertTrue(r.fused().startsWith("4 convolution"), r.toString());
        for (int step = 0; step < 3; step++) {
            INDArray y = Nd4j.zeros(DataType.FLOAT, 8, 3);
            for (int i = 0; i < 8; i++) {
                y.putScalar(i, (i + step) % 3, 1f);
            }
            DataSet s = new DataSet(images(8, 40 + step), y);
            graph.fit(s);
            builtIn.fit(s);
        }
        double diff = graph.params().sub(builtIn.params()).amaxNumber().doubleValue();
        assertTrue(diff < 1e-5, "parameters after 3 steps differ by " + diff);
    }

    /** The backbone frozen under a trainable head, as report 003's heads and fine-tuning build it. */
    private static ComputationGraph frozenUnderHead() {
        return new TransferLearning.GraphBuilder(blocks(true)).setFeatureExtractor("a5")
                .addLayer("out", new OutputLayer.Builder().nIn(12).nOut(3).activation(Activation.SOFTMAX).build(), "gap")
                .setOutputs("out").build();
    }

    private static DataSet labelled(int n, long seed) {
        INDArray y = Nd4j.zeros(DataType.FLOAT, n, 3);
        for (int i = 0; i < n; i++) {
            y.putScalar(i, (i + seed) % 3, 1f);
        }
        return new DataSet(images(n, seed), y);
    }

    @Test
    void theTrainersCheckFusesTheFrozenChainsAndTrainsAsWithDl4jsLayers() {
        // what Trainer.installFastKernels calls for a graph: every kernel checked by gradients, then the frozen chains fused
        assumeTrue(InferenceFusion.enabled(), NO_ONEDNN);
        ComputationGraph graph = frozenUnderHead();
        ComputationGraph builtIn = graph.clone();
        OneDnnLayers.Report r = OneDnnLayers.install(graph, labelled(8, 8));
        assertTrue(r.fused().startsWith("4 convolution"), r.toString());
        assertTrue(r.toString().contains(r.fused()), "the training line says so: " + r);
        for (int step = 0; step < 3; step++) {
            DataSet s = labelled(8, 50 + step);
            graph.fit(s);
            builtIn.fit(s);
        }
        double diff = graph.params().sub(builtIn.params()).amaxNumber().doubleValue();
        assertTrue(diff < 1e-5, "parameters after 3 steps differ by " + diff);
    }

    @Test
    void theTrainersCheckLeavesOutAFusionThatDisagrees() {
        assumeTrue(InferenceFusion.enabled(), NO_ONEDNN);
        ComputationGraph graph = frozenUnderHead();
        DataType dt = graph.params().dataType();
        OneDnnLayers.Report r = OneDnnLayers.install(graph, labelled(8, 9), l -> OneDnnLayers.oneDnnHelper(l, dt), 1.02);
        assertTrue(r.fused().contains("left out"), r.toString());
        assertSame(org.deeplearning4j.nn.layers.normalization.BatchNormalization.class,
                ((org.deeplearning4j.nn.layers.FrozenLayer) graph.getLayer("bn1")).getInsideLayer().getClass());
    }

    /** Every layer trainable (nothing to fuse): three activation layers and two small dense layers before the output. */
    private static ComputationGraph trainableWithDense() {
        ComputationGraph g = blocks(false, true);
        return new TransferLearning.GraphBuilder(g)
                .addLayer("out", new OutputLayer.Builder().nIn(12).nOut(3).activation(Activation.SOFTMAX).build(), "d2")
                .setOutputs("out").build();
    }

    @Test
    void trainableActivationAndDenseLayersTrainAsWithDl4jsAndAFaultyOneIsLeftOut() {
        assumeTrue(InferenceFusion.enabled(), NO_ONEDNN);
        ComputationGraph graph = trainableWithDense();
        ComputationGraph builtIn = graph.clone();
        OneDnnLayers.Report r = OneDnnLayers.install(graph, labelled(8, 10));
        assertTrue(r.fused().contains("3 swish/sigmoid/ReLU6 activation layers on oneDNN"), r.toString());
        assertTrue(r.fused().contains("2 small trainable dense layers in plain Java"), r.toString());
        assertSame(EltwiseActivationLayer.class, graph.getLayer("a2").getClass());
        assertSame(SmallDenseLayer.class, graph.getLayer("d1").getClass());
        for (int step = 0; step < 3; step++) {
            DataSet s = labelled(8, 60 + step);
            graph.fit(s);
            builtIn.fit(s);
        }
        double diff = graph.params().sub(builtIn.params()).amaxNumber().doubleValue();
        assertTrue(diff < 1e-5, "parameters after 3 steps differ by " + diff);

        ComputationGraph faulty = trainableWithDense();
        DataType dt = faulty.params().dataType();
        OneDnnLayers.Report bad = OneDnnLayers.install(faulty, labelled(8, 11), l -> OneDnnLayers.oneDnnHelper(l, dt), 1.02);
        assertTrue(bad.fused().contains("left out"), bad.toString());
        assertSame(org.deeplearning4j.nn.layers.ActivationLayer.class, faulty.getLayer("a2").getClass());
        assertSame(org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer.class, faulty.getLayer("d1").getClass());
    }

    @Test
    void layerByLayerActivationsOfAFusedGraphAreNotTheLayersOwn() {
        // why InferenceFusion.fused exists: a fused convolution's activation is its chain's result (Grad-CAM copies)
        assumeTrue(InferenceFusion.enabled(), NO_ONEDNN);
        ComputationGraph graph = blocks(true);
        ComputationGraph builtIn = graph.clone();
        assertTrue(!InferenceFusion.fused(graph));
        OneDnnLayers.installForInference(graph, images(4, 16));
        assertTrue(InferenceFusion.fused(graph));
        INDArray x = images(4, 17);
        var fused = graph.feedForward(x, false);
        var own = builtIn.feedForward(x, false);
        assertTrue(relativeDifference(fused.get("gap"), own.get("gap")) < 1e-5, "the output is the same");
        assertTrue(relativeDifference(fused.get("c1"), own.get("c1")) > 1e-2, "the convolution's entry is not its own output");
    }

    @Test
    void aFusedLayerRefusesToTrain() {
        assumeTrue(InferenceFusion.enabled(), NO_ONEDNN);
        ComputationGraph graph = blocks(true);
        OneDnnLayers.installForInference(graph, images(4, 7));
        var e = assertThrows(IllegalStateException.class,
                () -> graph.getLayer("bn1").backpropGradient(Nd4j.ones(DataType.FLOAT, 4, 8, 17, 17), null));
        assertTrue(e.getMessage().contains("fused for inference"), e.getMessage());
    }

    @Test
    void foldingIsBatchNormOfTheConvolution() {
        // the fold alone, in float64 terms: w' = w * gamma / sqrt(var + eps), b' = beta + (b - mean) * that scale
        assumeTrue(InferenceFusion.enabled(), NO_ONEDNN);
        ComputationGraph graph = blocks(true);
        var conv = graph.getLayer("c5");
        var bn = graph.getLayer("bn5");
        INDArray[] f = InferenceFusion.fold(conv, false, true, bn, 1e-3, 1.0);
        double gamma = bn.getParam("gamma").getDouble(2);
        double scale = gamma / Math.sqrt(bn.getParam("var").getDouble(2) + 1e-3);
        double expectedW = conv.getParam("W").getDouble(2, 5, 0, 0) * scale;
        double expectedB = bn.getParam("beta").getDouble(2)
                + (conv.getParam("b").getDouble(2) - bn.getParam("mean").getDouble(2)) * scale;
        assertEquals(expectedW, f[0].getDouble(2, 5, 0, 0), 1e-6);
        assertEquals(expectedB, f[1].getDouble(2), 1e-6);
    }
}

package org.leukolab.models.backbones;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import java.util.function.Supplier;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.leukolab.backend.OneDnnLayers;
import org.leukolab.system.SeededArrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/** The depthwise backbones fused for feature extraction compute what DL4J's own layers compute (random weights). */
class FusedBackbonesTest {
    /** Batch-norm statistics far from the identity, as in a trained network (a fresh one has mean 0, variance 1). */
    private static void trainedLookingBatchNorm(ComputationGraph g) {
        int k = 0;
        for (var l : g.getLayers()) {
            var inner = l instanceof org.deeplearning4j.nn.layers.FrozenLayer f ? f.getInsideLayer() : l;
            if (inner.conf().getLayer() instanceof org.deeplearning4j.nn.conf.layers.BatchNormalization && inner.getParam("var") != null) {
                long c = inner.getParam("var").length();
                inner.getParam("gamma").assign(SeededArrays.uniform(DataType.FLOAT, ++k, 1, c).addi(0.5).reshape(inner.getParam("gamma").shape()));
                inner.getParam("beta").assign(SeededArrays.uniform(DataType.FLOAT, ++k, 1, c).subi(0.5).reshape(inner.getParam("beta").shape()));
                inner.getParam("mean").assign(SeededArrays.uniform(DataType.FLOAT, ++k, 1, c).subi(0.5).muli(0.2).reshape(inner.getParam("mean").shape()));
                inner.getParam("var").assign(SeededArrays.uniform(DataType.FLOAT, ++k, 1, c).addi(0.5).reshape(inner.getParam("var").shape()));
            }
        }
    }

    private static void check(String name, Supplier<Backbone> make, int size) {
        Backbone b = make.get();
        ComputationGraph graph = b.graph();
        trainedLookingBatchNorm(graph);
        ComputationGraph builtIn = graph.clone();
        INDArray x = b.preprocessing().apply(SeededArrays.uniform(DataType.FLOAT, 3, 4, 3, size, size).muli(255));
        OneDnnLayers.Report r = OneDnnLayers.installForInference(graph, x);
        assertTrue(r.fused().contains("chains fused"), name + ": " + r);
        assertFalse(r.fused().contains("left out"), name + ": " + r);
        INDArray got = graph.outputSingle(false, x);
        INDArray want = builtIn.outputSingle(false, x);
        double d = got.sub(want).amaxNumber().doubleValue() / want.amaxNumber().doubleValue();
        assertTrue(d < 1e-4, name + ": fused features differ by " + d + " of the largest; " + r);
    }

    @Test
    void mobileNetV2() {
        assumeTrue(OneDnnLayers.available(), "no oneDNN");
        check("MobileNetV2 0.35", () -> Backbones.mobileNetV2(0.35, 64, false), 64);
    }

    @Test
    void mobileNetV3LargeWithHardSwish() {
        assumeTrue(OneDnnLayers.available(), "no oneDNN");
        check("MobileNetV3Large", () -> Backbones.mobileNetV3Large(64, false), 64);
    }

    @Test
    void efficientNetB0WithSqueezeAndExcitation() {
        assumeTrue(OneDnnLayers.available(), "no oneDNN");
        check("EfficientNetB0", () -> Backbones.efficientNetB0(64, false), 64);
    }
}

package org.leukolab.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Test;
import org.leukolab.system.SeededArrays;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

class EltwiseActivationLayerTest {
    private static org.deeplearning4j.nn.layers.ActivationLayer layer(ActivationLayer conf) {
        var c = new NeuralNetConfiguration.Builder().layer(conf).build();
        return (org.deeplearning4j.nn.layers.ActivationLayer) conf.instantiate(c, null, 0, null, false, DataType.FLOAT);
    }

    private static double relative(INDArray got, INDArray expected) {
        return got.sub(expected).norm2Number().doubleValue() / expected.norm2Number().doubleValue();
    }

    @Test
    void swishAndSigmoidAsDl4jComputesThem() {
        assumeTrue(OneDnnLayers.available(), "no oneDNN in this ND4J build");
        for (Activation a : new Activation[] {Activation.SWISH, Activation.SIGMOID, Activation.RELU6}) {
            var dl4j = layer(new ActivationLayer.Builder().activation(a).build());
            var ours = EltwiseActivationLayer.of(dl4j);
            assertNotNull(ours, a.toString());
            INDArray x = SeededArrays.uniform(DataType.FLOAT, 3, 4, 6, 9, 9).muli(16).subi(8);
            INDArray eps = SeededArrays.uniform(DataType.FLOAT, 4, 4, 6, 9, 9).subi(0.5);
            LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();
            dl4j.setInput(x.dup(), mgr);
            ours.setInput(x.dup(), mgr);
            INDArray y1 = dl4j.activate(true, mgr);
            INDArray y2 = ours.activate(true, mgr);
            assertEquals(0, relative(y2, y1), 1e-6, a + " forward");
            INDArray d1 = dl4j.backpropGradient(eps.dup(), mgr).getSecond();
            INDArray d2 = ours.backpropGradient(eps.dup(), mgr).getSecond();
            assertEquals(0, relative(d2, d1), 1e-6, a + " gradient");
            assertEquals(x, ours.input(), "input left as it was");
        }
    }

    @Test
    void relu6sKinksFollowNd4jsConvention() {
        assumeTrue(OneDnnLayers.available(), "no oneDNN in this ND4J build");
        var dl4j = layer(new ActivationLayer.Builder().activation(Activation.RELU6).build());
        var ours = EltwiseActivationLayer.of(dl4j);
        INDArray x = org.nd4j.linalg.factory.Nd4j.createFromArray(new float[] {-1f, -0f, 0f, 1e-30f, 3f, 5.9999995f, 6f, 6.0000005f, 7f})
                .reshape(1, 9, 1, 1);
        INDArray eps = org.nd4j.linalg.factory.Nd4j.createFromArray(new float[] {1, 2, 3, 4, 5, 6, 7, 8, 9}).reshape(1, 9, 1, 1);
        LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();
        dl4j.setInput(x.dup(), mgr);
        ours.setInput(x.dup(), mgr);
        assertEquals(dl4j.activate(true, mgr), ours.activate(true, mgr), "forward, bit for bit");
        assertEquals(dl4j.backpropGradient(eps.dup(), mgr).getSecond(), ours.backpropGradient(eps.dup(), mgr).getSecond(),
                "gradient at and around 0 and 6, bit for bit");
    }

    @Test
    void leavesOtherActivationsAndDropoutToDl4j() {
        assertNull(EltwiseActivationLayer.of(layer(new ActivationLayer.Builder().activation(Activation.TANH).build())));
        assertNull(EltwiseActivationLayer.of(layer(new ActivationLayer.Builder().activation(Activation.SWISH).dropOut(0.5).build())));
    }
}

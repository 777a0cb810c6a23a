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
        for (Activation a : new Activation[] {Activation.SWISH, Activation.SIGMOID}) {
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
    void leavesOtherActivationsAndDropoutToDl4j() {
        assertNull(EltwiseActivationLayer.of(layer(new ActivationLayer.Builder().activation(Activation.RELU6).build())),
                "a kink (ReLU6 at 0 and 6) where oneDNN's gradient convention may differ from ND4J's");
        assertNull(EltwiseActivationLayer.of(layer(new ActivationLayer.Builder().activation(Activation.SWISH).dropOut(0.5).build())));
    }
}

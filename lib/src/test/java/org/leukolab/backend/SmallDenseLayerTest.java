package org.leukolab.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.junit.jupiter.api.Test;
import org.leukolab.system.SeededArrays;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class SmallDenseLayerTest {
    /** A DL4J dense layer with its own parameter and gradient arrays, as a network would give it. */
    private static org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer layer(DenseLayer conf) {
        var c = new NeuralNetConfiguration.Builder().seed(5).layer(conf).build();
        long n = conf.initializer().numParams(c);
        INDArray params = Nd4j.create(DataType.FLOAT, 1, n);
        var l = (org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer) conf.instantiate(c, null, 0, params, true, DataType.FLOAT);
        l.setBackpropGradientsViewArray(Nd4j.create(DataType.FLOAT, 1, n));
        l.getParam(DefaultParamInitializer.BIAS_KEY).assign(SeededArrays.uniform(DataType.FLOAT, 9, 1, conf.getNOut()).subi(0.5));
        return l;
    }

    private static double relative(INDArray got, INDArray expected) {
        return got.sub(expected).norm2Number().doubleValue() / expected.norm2Number().doubleValue();
    }

    @Test
    void computesWhatDl4jsDenseLayerComputes() {
        for (Activation a : new Activation[] {Activation.SWISH, Activation.SIGMOID, Activation.IDENTITY}) {
            for (long[] shape : new long[][] {{672, 28}, {28, 672}, {5, 3}}) {
                var dl4j = layer(new DenseLayer.Builder().nIn(shape[0]).nOut(shape[1]).activation(a).build());
                var ours = SmallDenseLayer.of(dl4j, 1 << 18);
                assertNotNull(ours);
                INDArray x = SeededArrays.uniform(DataType.FLOAT, 3, 32, shape[0]).subi(0.5).muli(4);
                INDArray eps = SeededArrays.uniform(DataType.FLOAT, 4, 32, shape[1]).subi(0.5);
                LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();
                String what = a + " " + shape[0] + "x" + shape[1];
                dl4j.setInput(x.dup(), mgr);
                INDArray y1 = dl4j.activate(true, mgr).dup();
                var g1 = dl4j.backpropGradient(eps.dup(), mgr);
                INDArray dw1 = g1.getFirst().getGradientFor("W").dup();
                INDArray db1 = g1.getFirst().getGradientFor("b").dup();
                INDArray e1 = g1.getSecond().dup();
                ours.setInput(x.dup(), mgr);
                INDArray y2 = ours.activate(true, mgr);
                var g2 = ours.backpropGradient(eps.dup(), mgr);
                assertEquals(0, relative(y2, y1), 1e-6, what + " output");
                assertEquals(0, relative(g2.getFirst().getGradientFor("W"), dw1), 1e-5, what + " weight gradient");
                assertEquals(0, relative(g2.getFirst().getGradientFor("b"), db1), 1e-5, what + " bias gradient");
                assertEquals(0, relative(g2.getSecond(), e1), 1e-5, what + " input gradient");
                INDArray view = ours.getGradientsViewArray();
                INDArray w = g2.getFirst().getGradientFor("W");
                assertEquals(view.data().address() + view.offset() * 4, w.data().address() + w.offset() * 4,
                        what + ": written into the network's gradient array (weights first)");
            }
        }
    }

    @Test
    void leavesDropoutAndLargeLayersToDl4j() {
        assertNull(SmallDenseLayer.of(layer(new DenseLayer.Builder().nIn(8).nOut(4).dropOut(0.5).build()), 1 << 18));
        assertNull(SmallDenseLayer.of(layer(new DenseLayer.Builder().nIn(8).nOut(4).build()), 16), "more weights than allowed");
    }
}

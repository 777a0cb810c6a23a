package org.leukolab.models;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

class OptimizerTest {
    static MultiLayerNetwork net(Optimizer o) {
        MultiLayerNetwork n = new MultiLayerNetwork(o.applyTo(o.configure(new NeuralNetConfiguration.Builder().seed(3)
                .weightInit(WeightInit.XAVIER_UNIFORM).biasInit(0.1).dataType(DataType.DOUBLE)).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(3).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(3).nOut(2).activation(Activation.SOFTMAX).build())
                .build()));
        n.init();
        return n;
    }

    static DataSet batch() {
        INDArray x = Nd4j.create(new double[][] {{0.1, -0.2, 0.3, 0.5}, {1.0, 0.4, -0.7, 0.2}, {-0.3, 0.8, 0.1, -0.6}});
        INDArray y = Nd4j.create(new double[][] {{1, 0}, {0, 1}, {1, 0}});
        return new DataSet(x, y);
    }

    @Test
    void adamWIsAdamPlusDecoupledDecayOfEveryWeightAndBias() {
        double lr = 0.01;
        double wd = 0.05;
        MultiLayerNetwork plain = net(Optimizer.adam(lr));
        MultiLayerNetwork decayed = net(Optimizer.adamW(lr, wd));
        INDArray p0 = plain.params().dup();
        assertEquals(p0, decayed.params());
        plain.fit(batch());
        decayed.fit(batch());
        // Keras: w <- w - lr * wd * w (pre-step weights), then the Adam step; the Adam step is the same
        INDArray expected = plain.params().sub(p0.mul(lr * wd));
        double diff = expected.sub(decayed.params()).amaxNumber().doubleValue();
        assertTrue(diff < 1e-12, "max difference " + diff);
        // and the decay really happened on every parameter (biases are 0.1, weights non-zero)
        assertTrue(p0.mul(lr * wd).minNumber().doubleValue() != 0 || p0.mul(lr * wd).maxNumber().doubleValue() != 0);
        double moved = plain.params().sub(decayed.params()).amaxNumber().doubleValue();
        assertTrue(moved > 1e-6, "decay changed the parameters by " + moved);
    }

    @Test
    void theDecayIsOnEveryLayerOnce() {
        var conf = CustomCnns.report000(32, 5, Optimizer.adamW(1e-3), 1, org.deeplearning4j.nn.conf.CNN2DFormat.NCHW)
                .getLayerWiseConfigurations();
        int withWeights = 0;
        for (var c : conf.getConfs()) {
            if (c.getLayer() instanceof org.deeplearning4j.nn.conf.layers.ConvolutionLayer
                    || c.getLayer() instanceof org.deeplearning4j.nn.conf.layers.DenseLayer
                    || c.getLayer() instanceof org.deeplearning4j.nn.conf.layers.OutputLayer) {
                var bl = (org.deeplearning4j.nn.conf.layers.BaseLayer) c.getLayer();
                assertEquals(1, bl.getRegularization().size(), c.getLayer().getLayerName());
                assertEquals(1, bl.getRegularizationBias().size(), c.getLayer().getLayerName());
                withWeights++;
            }
        }
        assertEquals(7, withWeights);
    }

    @Test
    void kerasDefaults() {
        Optimizer o = Optimizer.adamW(1e-3);
        assertEquals(0.004, o.weightDecay());
        Adam a = (Adam) o.updater();
        assertEquals(1e-7, a.getEpsilon());
        assertEquals(0.9, a.getBeta1());
        assertEquals(0.999, a.getBeta2());
        assertEquals(1e-3, o.learningRate());
        assertEquals("AdamW(lr=0.001, weight_decay=0.004)", o.toString());
    }
}

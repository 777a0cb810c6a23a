package org.leukolab.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.leukolab.balancing.ClassBalancer;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** Keras' class_weight: loss = (1/n) sum_i w[y_i] * (-log p_i[y_i]); its gradient w[y_i] (p_i - y_i) / n per logit. */
class ClassWeightsTest {
    private static final double[][] X = {{1.0, -0.5, 0.3}, {0.2, 0.4, -1.0}, {-0.7, 0.1, 0.9}, {0.5, 0.5, 0.5}};
    private static final int[] Y = {0, 2, 1, 2};
    private static final double[] W = {0.5, 2.0, 1.0 / 3};
    private static final double[][] KERNEL = {{0.1, -0.2, 0.3}, {0.4, 0.0, -0.1}, {-0.3, 0.2, 0.05}};
    private static final double[] BIAS = {0.01, -0.02, 0.03};

    private static MultiLayerNetwork softmaxLayer(double lr) {
        MultiLayerNetwork n = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(1).updater(new Sgd(lr))
                .dataType(DataType.DOUBLE).list()
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(3).nOut(3).activation(Activation.SOFTMAX).build())
                .build());
        n.init();
        n.getLayer(0).setParam("W", Nd4j.create(KERNEL));
        n.getLayer(0).setParam("b", Nd4j.create(new double[][] {BIAS}));
        return n;
    }

    private static DataSet batch() {
        INDArray y = Nd4j.zeros(DataType.DOUBLE, 4, 3);
        for (int i = 0; i < 4; i++) {
            y.putScalar(i, Y[i], 1);
        }
        return new DataSet(Nd4j.create(X), y);
    }

    /** Softmax of x W + b, by hand. */
    private static double[][] probabilities() {
        double[][] p = new double[4][3];
        for (int i = 0; i < 4; i++) {
            double[] z = new double[3];
            double max = Double.NEGATIVE_INFINITY;
            for (int k = 0; k < 3; k++) {
                z[k] = BIAS[k];
                for (int j = 0; j < 3; j++) {
                    z[k] += X[i][j] * KERNEL[j][k];
                }
                max = Math.max(max, z[k]);
            }
            double sum = 0;
            for (int k = 0; k < 3; k++) {
                p[i][k] = Math.exp(z[k] - max);
                sum += p[i][k];
            }
            for (int k = 0; k < 3; k++) {
                p[i][k] /= sum;
            }
        }
        return p;
    }

    @Test
    void weightedLossAndOneSgdStepEqualTheHandComputation() {
        double[][] p = probabilities();
        double loss = 0;
        double[][] dz = new double[4][3];
        for (int i = 0; i < 4; i++) {
            loss += -W[Y[i]] * Math.log(p[i][Y[i]]);
            for (int k = 0; k < 3; k++) {
                dz[i][k] = W[Y[i]] * (p[i][k] - (k == Y[i] ? 1 : 0)) / 4;
            }
        }
        loss /= 4;
        double lr = 0.7;
        MultiLayerNetwork n = softmaxLayer(lr);
        Network net = Network.of(n);
        net.setClassWeights(W);
        assertEquals(loss, n.score(batch(), true), 1e-12, "weighted cross-entropy, mean over the batch");
        n.fit(batch());
        INDArray kernel = n.getLayer(0).getParam("W");
        INDArray bias = n.getLayer(0).getParam("b");
        for (int j = 0; j < 3; j++) {
            for (int k = 0; k < 3; k++) {
                double g = 0;
                for (int i = 0; i < 4; i++) {
                    g += X[i][j] * dz[i][k];
                }
                assertEquals(KERNEL[j][k] - lr * g, kernel.getDouble(j, k), 1e-12, "W[" + j + "][" + k + "] after one step");
            }
        }
        for (int k = 0; k < 3; k++) {
            double g = 0;
            for (int i = 0; i < 4; i++) {
                g += dz[i][k];
            }
            assertEquals(BIAS[k] - lr * g, bias.reshape(-1).getDouble(k), 1e-12, "b[" + k + "] after one step");
        }
    }

    @Test
    void unitWeightsChangeNothing() {
        MultiLayerNetwork a = softmaxLayer(0.5);
        MultiLayerNetwork b = softmaxLayer(0.5);
        Network.of(b).setClassWeights(new double[] {1, 1, 1});
        a.fit(batch());
        b.fit(batch());
        assertEquals(a.params(), b.params());
    }

    @Test
    void balancedWeightsAreKerasAndScikitLearns() {
        // n / (k n_c): 10 examples, classes of 5, 3 and 2
        double[] w = ClassBalancer.classWeights(new int[] {0, 0, 0, 0, 0, 1, 1, 1, 2, 2}, 3);
        assertEquals(10.0 / (3 * 5), w[0], 1e-12);
        assertEquals(10.0 / (3 * 3), w[1], 1e-12);
        assertEquals(10.0 / (3 * 2), w[2], 1e-12);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Network.of(softmaxLayer(0.1)).setClassWeights(new double[] {1, 2}));
        assertTrue(e.getMessage().contains("2 class weights"), e.getMessage());
    }

    @Test
    void theTrainerPutsTheWeightsIntoTheSignature() {
        Trainer.Builder b = Trainer.builder("w").epochs(1).batchSize(4).progress(false).classWeights(W);
        MultiLayerNetwork n = softmaxLayer(0.1);
        b.build().fit(Network.of(n), batch(), null);
        assertTrue(Network.of(n).configurationJson().contains("weights"), "the weighted loss is part of the configuration");
    }
}

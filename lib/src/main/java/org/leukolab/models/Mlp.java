package org.leukolab.models;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * A multilayer perceptron on images: Flatten, one Dense ReLU layer, softmax. The MLP of report 001's literature
 * table (Veloz, 2025: Flatten, Dense 128 ReLU, Dense 8 softmax, Adam 0.001, cross-entropy), Keras' default
 * initialisation (Glorot uniform, zero biases).
 */
public final class Mlp {
    private Mlp() {}

    /** Flatten of an {@code size x size x 3} image, Dense {@code hidden} ReLU, softmax over {@code classes}. */
    public static MultiLayerNetwork oneHidden(int size, int hidden, int classes, Optimizer optimizer, long seed) {
        MultiLayerNetwork n = new MultiLayerNetwork(optimizer.applyTo(optimizer.configure(new NeuralNetConfiguration.Builder()
                        .seed(seed).weightInit(WeightInit.XAVIER_UNIFORM).biasInit(0.0)).list()
                .layer(new DenseLayer.Builder().nOut(hidden).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(classes).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(size, size, 3)).build()));
        n.init();
        return n;
    }
}

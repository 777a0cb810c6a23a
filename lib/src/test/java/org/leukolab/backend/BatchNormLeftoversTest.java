package org.leukolab.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.layers.FrozenLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/** DL4J's own batch normalisation keeps its normalised input after an inference pass; {@link BatchNormLeftovers} drops it. */
class BatchNormLeftoversTest {
    private static MultiLayerNetwork net(DataType type) {
        MultiLayerNetwork net = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(3).dataType(type).list()
                .layer(new ConvolutionLayer.Builder(3, 3).convolutionMode(ConvolutionMode.Same).nOut(4).activation(Activation.RELU).build())
                .layer(new BatchNormalization.Builder().build())
                .layer(new ConvolutionLayer.Builder(3, 3).convolutionMode(ConvolutionMode.Same).nOut(4).activation(Activation.RELU).build())
                .layer(new BatchNormalization.Builder().build())
                .layer(new GlobalPoolingLayer.Builder().build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(2).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(8, 8, 3))
                .build());
        net.init();
        return net;
    }

    @Test
    void anInferencePassLeavesTheNormalisedInputAndDropClearsIt() {
        for (DataType type : new DataType[] {DataType.FLOAT, DataType.DOUBLE}) {
            MultiLayerNetwork net = net(type);
            INDArray x = org.leukolab.system.SeededArrays.uniform(type, 1, 5, 3, 8, 8);
            INDArray before = net.output(x, false).dup();
            net.clear();
            // xMu, xHat and std of both batch-normalisation layers are still there after DL4J's own clear()
            assertEquals(6, BatchNormLeftovers.drop(net.getLayers()), type + ": arrays dropped");
            assertEquals(0, BatchNormLeftovers.drop(net.getLayers()), type + ": nothing left to drop");
            INDArray after = net.output(x, false);
            assertTrue(before.equalsWithEps(after, 0), type + ": the next pass gives the same output");
            assertEquals(6, BatchNormLeftovers.drop(net.getLayers()), type + ": the next pass keeps them again");
        }
    }

    @Test
    void looksInsideFrozenLayers() {
        MultiLayerNetwork net = net(DataType.FLOAT);
        net.output(org.leukolab.system.SeededArrays.uniform(DataType.FLOAT, 2, 2, 3, 8, 8), false);
        Layer bn = net.getLayer(1);
        assertEquals(3, BatchNormLeftovers.drop(new FrozenLayer(bn)));
        assertEquals(0, BatchNormLeftovers.drop(net.getLayers()[1]));
    }
}

package org.leukolab.models;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.CacheMode;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * The custom convolutional networks of the source reports, layer for layer.
 *
 * <p>Weights are initialised as Keras does by default (Glorot uniform kernels, zero biases), and the
 * batch-norm and dropout layers use Keras semantics (see {@link Layers}).
 */
public final class CustomCnns {
    private CustomCnns() {}

    /**
     * Report 002's network: five 3x3 'same' ReLU convolutions with 64, 128, 256, 256 and 512 filters,
     * each followed by batch normalisation, with 2x2 max-pooling after the 1st, 2nd, 4th and 5th;
     * then two Dense 1024 ReLU layers each followed by Dropout 0.5, and a softmax output.
     * At 128x128 inputs and 4 classes it has 36.8 M parameters.
     */
    public static MultiLayerNetwork report002(int size, int classes, IUpdater updater, long seed,
                                              CNN2DFormat format) {
        return report002(size, classes, Optimizer.of(updater), seed, format);
    }

    public static MultiLayerNetwork report002(int size, int classes, Optimizer optimizer, long seed,
                                              CNN2DFormat format) {
        int[] filters = {64, 128, 256, 256, 512};
        boolean[] poolAfter = {true, true, false, true, true};
        NeuralNetConfiguration.ListBuilder b = base(seed, optimizer).list();
        for (int i = 0; i < filters.length; i++) {
            b.layer(conv(filters[i], 1, format));
            b.layer(Layers.kerasBatchNorm());
            if (poolAfter[i]) {
                b.layer(new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX)
                        .kernelSize(2, 2).stride(2, 2).dataFormat(format).build());
            }
        }
        for (int i = 0; i < 2; i++) {
            b.layer(new DenseLayer.Builder().nOut(1024).activation(Activation.RELU).build());
            b.layer(Layers.dropout(0.5));
        }
        b.layer(softmax(classes));
        b.setInputType(InputType.convolutional(size, size, 3, format));
        return init(optimizer.applyTo(b.build()));
    }

    /**
     * Report 000's final network: five 3x3 stride-2 'same' ReLU convolutions with 4, 8, 16, 32 and 64
     * filters, each followed by batch normalisation; Flatten; Dense 8 ReLU; batch normalisation;
     * softmax output. The report used 350x350 inputs and 5 classes.
     */
    public static MultiLayerNetwork report000(int size, int classes, IUpdater updater, long seed,
                                              CNN2DFormat format) {
        return report000(size, classes, Optimizer.of(updater), seed, format);
    }

    /**
     * Report 000's network with its optimiser ({@code Optimizer.adamW(1e-3)} for the report's AdamW). The
     * report's {@code Rescaling(1/255)} layer has no weights; leukolab applies it to the input batches
     * instead (see {@code Report000}), which is the same function.
     */
    public static MultiLayerNetwork report000(int size, int classes, Optimizer optimizer, long seed,
                                              CNN2DFormat format) {
        NeuralNetConfiguration.ListBuilder b = base(seed, optimizer).list();
        for (int f : new int[] {4, 8, 16, 32, 64}) {
            b.layer(conv(f, 2, format));
            b.layer(Layers.kerasBatchNorm());
        }
        b.layer(new DenseLayer.Builder().nOut(8).activation(Activation.RELU).build());
        b.layer(Layers.kerasBatchNorm());
        b.layer(softmax(classes));
        b.setInputType(InputType.convolutional(size, size, 3, format));
        return init(optimizer.applyTo(b.build()));
    }

    private static NeuralNetConfiguration.Builder base(long seed, Optimizer optimizer) {
        return optimizer.configure(new NeuralNetConfiguration.Builder()
                .seed(seed)
                // keep each convolution's pre-activation from the forward pass for the backward pass instead of
                // computing the convolution again (DL4J's default); same numbers, faster (BENCHMARKS.md)
                .cacheMode(CacheMode.DEVICE)
                .weightInit(WeightInit.XAVIER_UNIFORM)
                .biasInit(0.0));
    }

    private static ConvolutionLayer conv(int filters, int stride, CNN2DFormat format) {
        return new ConvolutionLayer.Builder(3, 3)
                .stride(stride, stride)
                .nOut(filters)
                .convolutionMode(ConvolutionMode.Same)
                .activation(Activation.RELU)
                .dataFormat(format)
                .build();
    }

    private static OutputLayer softmax(int classes) {
        return new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT)
                .nOut(classes).activation(Activation.SOFTMAX).build();
    }

    private static MultiLayerNetwork init(MultiLayerConfiguration conf) {
        MultiLayerNetwork net = new MultiLayerNetwork(conf);
        net.init();
        return net;
    }
}

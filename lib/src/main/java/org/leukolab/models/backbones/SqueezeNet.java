package org.leukolab.models.backbones;

import org.leukolab.preprocessing.KerasPreprocessing;
import org.nd4j.linalg.activations.Activation;

/**
 * SqueezeNet 1.1 (Iandola et al., 2016) as the keras-squeezenet project builds it (github.com/rcmalli/keras-squeezenet,
 * MIT licence; its ImageNet weights are DeepScale's Caffe weights): a strided 3x3 convolution, max-pooling, and eight
 * "fire" modules (a 1x1 squeeze convolution, then 1x1 and 3x3 expand convolutions concatenated), all with ReLU.
 * Inputs of at least 32x32 here (the pooling needs room), Caffe-style preprocessing (BGR, ImageNet means subtracted).
 */
public final class SqueezeNet {
    /** The keras-squeezenet project's file without the top. */
    public static final String WEIGHT_FILE_NO_TOP = "squeezenet_weights_tf_dim_ordering_tf_kernels_notop.h5";
    public static final String WEIGHT_FILE = "squeezenet_weights_tf_dim_ordering_tf_kernels.h5";

    private SqueezeNet() {}

    public static Backbone build(int size, boolean includeTop, int classes, boolean softmax, long seed) {
        Backbones.checkSize("SqueezeNet", size, 32);
        KerasGraph g = new KerasGraph(seed, size, size);
        String x = g.conv("conv1", g.last(), 64, 3, 2, KerasGraph.Pad.VALID, true, Activation.IDENTITY);
        x = g.activation("relu_conv1", x, Activation.RELU);
        x = g.maxPool("pool1", x, 3, 2);
        x = fire(g, x, 2, 16, 64);
        x = fire(g, x, 3, 16, 64);
        x = g.maxPool("pool3", x, 3, 2);
        x = fire(g, x, 4, 32, 128);
        x = fire(g, x, 5, 32, 128);
        x = g.maxPool("pool5", x, 3, 2);
        x = fire(g, x, 6, 48, 192);
        x = fire(g, x, 7, 48, 192);
        x = fire(g, x, 8, 64, 256);
        x = fire(g, x, 9, 64, 256);
        String features = x;
        if (includeTop) {
            x = g.dropout("drop9", x, 0.5);
            x = g.conv("conv10", x, classes, 1, 1, KerasGraph.Pad.VALID, true, Activation.IDENTITY);
            x = g.activation("relu_conv10", x, Activation.RELU);
            x = g.globalAveragePool("global_average_pooling2d", x);
            if (softmax) {
                x = g.activation("loss", x, Activation.SOFTMAX);
            }
        }
        return new Backbone("SqueezeNet 1.1", g.build(x), size, includeTop, KerasPreprocessing.CAFFE, features,
                includeTop ? WEIGHT_FILE : WEIGHT_FILE_NO_TOP, g.mapped(), "random initialisation");
    }

    /** keras-squeezenet's fire_module: squeeze 1x1 + ReLU, then [expand 1x1 + ReLU, expand 3x3 'same' + ReLU] concatenated. */
    private static String fire(KerasGraph g, String in, int id, int squeeze, int expand) {
        String p = "fire" + id + "/";
        String x = g.conv(p + "squeeze1x1", in, squeeze, 1, 1, KerasGraph.Pad.VALID, true, Activation.IDENTITY);
        x = g.activation(p + "relu_squeeze1x1", x, Activation.RELU);
        String left = g.conv(p + "expand1x1", x, expand, 1, 1, KerasGraph.Pad.VALID, true, Activation.IDENTITY);
        String right = g.conv(p + "expand3x3", x, expand, 3, 1, KerasGraph.Pad.SAME, true, Activation.IDENTITY);
        left = g.activation(p + "relu_expand1x1", left, Activation.RELU);
        right = g.activation(p + "relu_expand3x3", right, Activation.RELU);
        return g.concat(p + "concat", left, right);
    }
}

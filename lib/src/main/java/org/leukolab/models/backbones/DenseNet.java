package org.leukolab.models.backbones;

import java.util.List;
import java.util.Locale;
import org.leukolab.preprocessing.KerasPreprocessing;
import org.nd4j.linalg.activations.Activation;

/**
 * DenseNet (Huang et al., 2017) as Keras Applications builds it ({@code keras.applications.DenseNet121/169/201}):
 * a 7x7 stem, four dense blocks (each layer: BN, ReLU, 1x1 convolution to 128 channels, BN, ReLU, 3x3 convolution
 * to 32, concatenated onto its input) joined by transitions that halve channels and size, and a final BN + ReLU.
 * Layer names are Keras' ({@code conv2_block1_1_conv}, {@code conv1/conv}), so the official files load by name.
 * Inputs of at least 32x32, Keras' 'torch' preprocessing.
 */
public final class DenseNet {
    private static final double EPS = 1.001e-5;
    private static final double MOMENTUM = 0.99;

    private DenseNet() {}

    /** The four dense blocks' lengths of DenseNet121, 169 and 201. */
    static int[] blocks(int depth) {
        return switch (depth) {
            case 121 -> new int[] {6, 12, 24, 16};
            case 169 -> new int[] {6, 12, 32, 32};
            case 201 -> new int[] {6, 12, 48, 32};
            default -> throw new IllegalArgumentException("DenseNet depth must be 121, 169 or 201, got " + depth);
        };
    }

    /** The official file name, e.g. {@code densenet121_weights_tf_dim_ordering_tf_kernels_notop.h5}. */
    public static String weightFile(int depth, boolean includeTop) {
        return String.format(Locale.ROOT, "densenet%d_weights_tf_dim_ordering_tf_kernels%s.h5", depth, includeTop ? "" : "_notop");
    }

    public static Backbone build(int depth, int size, boolean includeTop, int classes, boolean softmax, long seed) {
        Backbones.checkSize("DenseNet", size, 32);
        int[] blocks = blocks(depth);
        KerasGraph g = new KerasGraph(seed, size, size);
        String x = g.zeroPad("zero_padding2d", g.last(), 3, 3, 3, 3);
        x = g.conv("conv1/conv", x, 64, 7, 2, KerasGraph.Pad.VALID, false, Activation.IDENTITY);
        x = g.batchNorm("conv1/bn", x, EPS, MOMENTUM);
        x = g.activation("conv1/relu", x, Activation.RELU);
        x = g.zeroPad("zero_padding2d_1", x, 1, 1, 1, 1);
        x = g.maxPool("pool1", x, 3, 2);
        for (int b = 0; b < 4; b++) {
            x = denseBlock(g, x, blocks[b], "conv" + (b + 2));
            if (b < 3) {
                x = transition(g, x, "pool" + (b + 2));
            }
        }
        x = g.batchNorm("bn", x, EPS, MOMENTUM);
        x = g.activation("relu", x, Activation.RELU);
        String features = x;
        if (includeTop) {
            x = g.globalAveragePool("avg_pool", x);
            x = g.dense("predictions", x, classes, softmax ? Activation.SOFTMAX : Activation.IDENTITY);
        }
        return new Backbone("DenseNet" + depth, g.build(x), size, includeTop, KerasPreprocessing.TORCH, features,
                weightFile(depth, includeTop), g.mapped(), "random initialisation");
    }

    private static String denseBlock(KerasGraph g, String in, int layers, String name) {
        String x = in;
        for (int i = 1; i <= layers; i++) {
            String p = name + "_block" + i;
            String y = g.batchNorm(p + "_0_bn", x, EPS, MOMENTUM);
            y = g.activation(p + "_0_relu", y, Activation.RELU);
            y = g.conv(p + "_1_conv", y, 128, 1, 1, KerasGraph.Pad.VALID, false, Activation.IDENTITY);
            y = g.batchNorm(p + "_1_bn", y, EPS, MOMENTUM);
            y = g.activation(p + "_1_relu", y, Activation.RELU);
            y = g.conv(p + "_2_conv", y, 32, 3, 1, KerasGraph.Pad.SAME, false, Activation.IDENTITY);
            x = g.concat(p + "_concat", List.of(x, y));
        }
        return x;
    }

    private static String transition(KerasGraph g, String in, String name) {
        String x = g.batchNorm(name + "_bn", in, EPS, MOMENTUM);
        x = g.activation(name + "_relu", x, Activation.RELU);
        x = g.conv(name + "_conv", x, g.channels(x) / 2, 1, 1, KerasGraph.Pad.VALID, false, Activation.IDENTITY);
        return g.avgPool(name + "_pool", x, 2, 2, KerasGraph.Pad.VALID);
    }
}

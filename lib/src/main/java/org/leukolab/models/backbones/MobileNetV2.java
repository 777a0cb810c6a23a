package org.leukolab.models.backbones;

import java.util.Locale;
import org.leukolab.preprocessing.KerasPreprocessing;
import org.nd4j.linalg.activations.Activation;

/**
 * MobileNetV2 as Keras Applications builds it (Sandler et al., 2018), for any width multiplier
 * {@code alpha}. Inputs of at least 32x32; ImageNet weights exist for alpha 0.35, 0.5, 0.75, 1.0, 1.3, 1.4
 * at 96, 128, 160, 192 and 224 pixels (the no-top files work at any size).
 */
public final class MobileNetV2 {
    private static final double EPS = 1e-3;
    private static final double MOMENTUM = 0.999;

    private MobileNetV2() {}

    /** The official file name, e.g. {@code mobilenet_v2_weights_tf_dim_ordering_tf_kernels_0.35_224_no_top.h5}. */
    public static String weightFile(double alpha, int rows, boolean includeTop) {
        return String.format(Locale.ROOT, "mobilenet_v2_weights_tf_dim_ordering_tf_kernels_%s_%d%s.h5",
                Double.toString(alpha), rows, includeTop ? "" : "_no_top");
    }

    /** Keras' _make_divisible: round to a multiple of 8, never more than 10% down. */
    static int makeDivisible(double v, int divisor) {
        int newV = Math.max(divisor, (int) (v + divisor / 2.0) / divisor * divisor);
        if (newV < 0.9 * v) {
            newV += divisor;
        }
        return newV;
    }

    public static Backbone build(double alpha, int size, boolean includeTop, int classes, boolean softmax, long seed) {
        Backbones.checkSize("MobileNetV2", size, 32);
        if (!(alpha > 0)) {
            throw new IllegalArgumentException("alpha must be positive, got " + alpha);
        }
        KerasGraph g = new KerasGraph(seed, size, size);
        String x = g.conv("Conv1", g.last(), makeDivisible(32 * alpha, 8), 3, 2, KerasGraph.Pad.SAME, false, Activation.IDENTITY);
        x = g.batchNorm("bn_Conv1", x, EPS, MOMENTUM);
        x = g.activation("Conv1_relu", x, Activation.RELU6);
        int[][] blocks = { // filters, stride, expansion
            {16, 1, 1}, {24, 2, 6}, {24, 1, 6}, {32, 2, 6}, {32, 1, 6}, {32, 1, 6}, {64, 2, 6}, {64, 1, 6},
            {64, 1, 6}, {64, 1, 6}, {96, 1, 6}, {96, 1, 6}, {96, 1, 6}, {160, 2, 6}, {160, 1, 6}, {160, 1, 6},
            {320, 1, 6}};
        for (int id = 0; id < blocks.length; id++) {
            x = invertedResidual(g, x, blocks[id][0], alpha, blocks[id][1], blocks[id][2], id);
        }
        int last = alpha > 1.0 ? makeDivisible(1280 * alpha, 8) : 1280;
        x = g.conv("Conv_1", x, last, 1, 1, KerasGraph.Pad.VALID, false, Activation.IDENTITY);
        x = g.batchNorm("Conv_1_bn", x, EPS, MOMENTUM);
        x = g.activation("out_relu", x, Activation.RELU6);
        String features = x;
        if (includeTop) {
            x = g.globalAveragePool("global_average_pooling2d", x);
            x = g.dense("predictions", x, classes, softmax ? Activation.SOFTMAX : Activation.IDENTITY);
        }
        String name = String.format(Locale.ROOT, "MobileNetV2 (alpha %s)", Double.toString(alpha));
        int rows = size == 96 || size == 128 || size == 160 || size == 192 ? size : 224;
        return new Backbone(name, g.build(x), size, includeTop, KerasPreprocessing.TF, features,
                weightFile(alpha, rows, includeTop), g.mapped(), "random initialisation");
    }

    private static String invertedResidual(KerasGraph g, String in, int filters, double alpha, int stride,
                                           int expansion, int id) {
        int inChannels = g.channels(in);
        int pointwise = makeDivisible((int) (filters * alpha), 8);
        String prefix = id == 0 ? "expanded_conv_" : "block_" + id + "_";
        String x = in;
        if (id != 0) {
            x = g.conv(prefix + "expand", x, expansion * inChannels, 1, 1, KerasGraph.Pad.VALID, false, Activation.IDENTITY);
            x = g.batchNorm(prefix + "expand_BN", x, EPS, MOMENTUM);
            x = g.activation(prefix + "expand_relu", x, Activation.RELU6);
        }
        if (stride == 2) {
            int[] p = Backbones.correctPad(g.shape(x), 3);
            x = g.zeroPad(prefix + "pad", x, p[0], p[1], p[2], p[3]);
        }
        x = g.depthwise(prefix + "depthwise", x, 3, stride, stride == 1 ? KerasGraph.Pad.SAME : KerasGraph.Pad.VALID,
                false, Activation.IDENTITY);
        x = g.batchNorm(prefix + "depthwise_BN", x, EPS, MOMENTUM);
        x = g.activation(prefix + "depthwise_relu", x, Activation.RELU6);
        x = g.conv(prefix + "project", x, pointwise, 1, 1, KerasGraph.Pad.VALID, false, Activation.IDENTITY);
        x = g.batchNorm(prefix + "project_BN", x, EPS, MOMENTUM);
        if (inChannels == pointwise && stride == 1) {
            return g.add(prefix + "add", in, x);
        }
        return x;
    }
}

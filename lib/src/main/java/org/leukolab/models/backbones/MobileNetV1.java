package org.leukolab.models.backbones;

import java.util.Locale;
import org.leukolab.preprocessing.KerasPreprocessing;
import org.nd4j.linalg.activations.Activation;

/**
 * MobileNet (version 1; Howard et al., 2017) as Keras Applications builds it ({@code keras.applications.MobileNet}),
 * for any width multiplier {@code alpha}: a 3x3 convolution, then 13 depthwise-separable blocks (depthwise 3x3 +
 * pointwise 1x1, each with batch normalisation and ReLU6). Inputs of at least 32x32, Keras' 'tf' preprocessing
 * ([-1, 1]). ImageNet weights exist for alpha 0.25, 0.5, 0.75, 1.0 at 128, 160, 192 and 224 pixels.
 */
public final class MobileNetV1 {
    private static final double EPS = 1e-3;
    private static final double MOMENTUM = 0.99;

    private MobileNetV1() {}

    /** The official file name, e.g. {@code mobilenet_2_5_224_tf_no_top.h5} for alpha 0.25 at 224. */
    public static String weightFile(double alpha, int rows, boolean includeTop) {
        String a = alpha == 1.0 ? "1_0" : alpha == 0.75 ? "7_5" : alpha == 0.5 ? "5_0" : alpha == 0.25 ? "2_5"
                : Double.toString(alpha).replace('.', '_');
        return String.format(Locale.ROOT, "mobilenet_%s_%d_tf%s.h5", a, rows, includeTop ? "" : "_no_top");
    }

    public static Backbone build(double alpha, int size, boolean includeTop, int classes, boolean softmax, long seed) {
        Backbones.checkSize("MobileNet", size, 32);
        if (!(alpha > 0)) {
            throw new IllegalArgumentException("alpha must be positive, got " + alpha);
        }
        KerasGraph g = new KerasGraph(seed, size, size);
        String x = g.conv("conv1", g.last(), (int) (32 * alpha), 3, 2, KerasGraph.Pad.SAME, false, Activation.IDENTITY);
        x = g.batchNorm("conv1_bn", x, EPS, MOMENTUM);
        x = g.activation("conv1_relu", x, Activation.RELU6);
        int[][] blocks = {{64, 1}, {128, 2}, {128, 1}, {256, 2}, {256, 1}, {512, 2}, {512, 1}, {512, 1}, {512, 1}, {512, 1},
            {512, 1}, {1024, 2}, {1024, 1}};
        for (int i = 0; i < blocks.length; i++) {
            x = separable(g, x, (int) (blocks[i][0] * alpha), blocks[i][1], i + 1);
        }
        String features = x;
        if (includeTop) {
            x = g.globalAveragePool("global_average_pooling2d", x);
            x = g.dropout("dropout", x, 1e-3);
            x = g.denseFrom1x1Conv("conv_preds", x, classes, softmax ? Activation.SOFTMAX : Activation.IDENTITY);
        }
        String name = String.format(Locale.ROOT, "MobileNet (alpha %s)", Double.toString(alpha));
        int rows = size == 128 || size == 160 || size == 192 ? size : 224;
        return new Backbone(name, g.build(x), size, includeTop, KerasPreprocessing.TF, features,
                weightFile(alpha, rows, includeTop), g.mapped(), "random initialisation");
    }

    /** Keras' _depthwise_conv_block: (pad) depthwise 3x3, BN, ReLU6, pointwise 1x1, BN, ReLU6. */
    private static String separable(KerasGraph g, String in, int pointwise, int stride, int id) {
        String x = in;
        if (stride == 2) {
            x = g.zeroPad("conv_pad_" + id, x, 0, 1, 0, 1);
        }
        x = g.depthwise("conv_dw_" + id, x, 3, stride, stride == 1 ? KerasGraph.Pad.SAME : KerasGraph.Pad.VALID, false,
                Activation.IDENTITY);
        x = g.batchNorm("conv_dw_" + id + "_bn", x, EPS, MOMENTUM);
        x = g.activation("conv_dw_" + id + "_relu", x, Activation.RELU6);
        x = g.conv("conv_pw_" + id, x, pointwise, 1, 1, KerasGraph.Pad.SAME, false, Activation.IDENTITY);
        x = g.batchNorm("conv_pw_" + id + "_bn", x, EPS, MOMENTUM);
        return g.activation("conv_pw_" + id + "_relu", x, Activation.RELU6);
    }
}

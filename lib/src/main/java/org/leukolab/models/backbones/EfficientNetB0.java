package org.leukolab.models.backbones;

import org.leukolab.preprocessing.KerasPreprocessing;
import org.nd4j.linalg.activations.Activation;

/**
 * EfficientNetB0 as Keras Applications builds it (Tan and Le, 2019), including its input stem
 * (rescaling to [0, 1] and ImageNet normalisation), so it takes raw 0..255 pixels. Inputs of at least
 * 32x32.
 *
 * <p>One training-time difference from Keras: the stochastic depth ("drop connect", a per-sample
 * dropout before each residual addition, rate rising to 0.2) is not reproduced; inference is identical.
 */
public final class EfficientNetB0 {
    public static final String WEIGHTS_TOP = "efficientnetb0.h5";
    public static final String WEIGHTS_NO_TOP = "efficientnetb0_notop.h5";
    /** Keras applies a further 1/sqrt(std) after its Normalization layer with ImageNet weights. */
    public static final double[] IMAGENET_STDDEV_RGB = {0.229, 0.224, 0.225};
    private static final double EPS = 1e-3;
    private static final double MOMENTUM = 0.99;

    private EfficientNetB0() {}

    public static Backbone build(int size, boolean includeTop, int classes, boolean softmax, long seed) {
        Backbones.checkSize("EfficientNetB0", size, 32);
        KerasGraph g = new KerasGraph(seed, size, size);
        String x = g.normalization("normalization", g.last(), IMAGENET_STDDEV_RGB);
        int[] p = Backbones.correctPad(g.shape(x), 3);
        x = g.zeroPad("stem_conv_pad", x, p[0], p[1], p[2], p[3]);
        x = g.conv("stem_conv", x, 32, 3, 2, KerasGraph.Pad.VALID, false, Activation.IDENTITY);
        x = g.batchNorm("stem_bn", x, EPS, MOMENTUM);
        x = g.activation("stem_activation", x, Activation.SWISH);
        int[][] stages = { // kernel, repeats, in, out, expansion, stride
            {3, 1, 32, 16, 1, 1}, {3, 2, 16, 24, 6, 2}, {5, 2, 24, 40, 6, 2}, {3, 3, 40, 80, 6, 2},
            {5, 3, 80, 112, 6, 1}, {5, 4, 112, 192, 6, 2}, {3, 1, 192, 320, 6, 1}};
        for (int i = 0; i < stages.length; i++) {
            int[] s = stages[i];
            for (int j = 0; j < s[1]; j++) {
                String name = "block" + (i + 1) + (char) ('a' + j) + "_";
                x = block(g, x, name, j == 0 ? s[2] : s[3], s[3], s[0], j == 0 ? s[5] : 1, s[4]);
            }
        }
        x = g.conv("top_conv", x, 1280, 1, 1, KerasGraph.Pad.VALID, false, Activation.IDENTITY);
        x = g.batchNorm("top_bn", x, EPS, MOMENTUM);
        x = g.activation("top_activation", x, Activation.SWISH);
        String features = x;
        if (includeTop) {
            x = g.globalAveragePool("avg_pool", x);
            x = g.dropout("top_dropout", x, 0.2);
            x = g.dense("predictions", x, classes, softmax ? Activation.SOFTMAX : Activation.IDENTITY);
        }
        return new Backbone("EfficientNetB0", g.build(x), size, includeTop, KerasPreprocessing.NONE, features,
                includeTop ? WEIGHTS_TOP : WEIGHTS_NO_TOP, g.mapped(), "random initialisation");
    }

    private static String block(KerasGraph g, String in, String name, int filtersIn, int filtersOut, int kernel,
                                int stride, int expand) {
        int filters = filtersIn * expand;
        String x = in;
        if (expand != 1) {
            x = g.conv(name + "expand_conv", x, filters, 1, 1, KerasGraph.Pad.VALID, false, Activation.IDENTITY);
            x = g.batchNorm(name + "expand_bn", x, EPS, MOMENTUM);
            x = g.activation(name + "expand_activation", x, Activation.SWISH);
        }
        if (stride == 2) {
            int[] p = Backbones.correctPad(g.shape(x), kernel);
            x = g.zeroPad(name + "dwconv_pad", x, p[0], p[1], p[2], p[3]);
        }
        x = g.depthwise(name + "dwconv", x, kernel, stride, stride == 2 ? KerasGraph.Pad.VALID : KerasGraph.Pad.SAME,
                false, Activation.IDENTITY);
        x = g.batchNorm(name + "bn", x, EPS, MOMENTUM);
        x = g.activation(name + "activation", x, Activation.SWISH);
        int se = Math.max(1, (int) (filtersIn * 0.25));
        x = g.squeezeExcite(x, se, filters, Activation.SWISH.getActivationFunction(), Activation.SIGMOID.getActivationFunction(),
                name + "se_squeeze", name + "se_reduce", name + "se_expand", name + "se_excite");
        x = g.conv(name + "project_conv", x, filtersOut, 1, 1, KerasGraph.Pad.VALID, false, Activation.IDENTITY);
        x = g.batchNorm(name + "project_bn", x, EPS, MOMENTUM);
        if (stride == 1 && filtersIn == filtersOut) {
            x = g.add(name + "add", x, in);
        }
        return x;
    }
}

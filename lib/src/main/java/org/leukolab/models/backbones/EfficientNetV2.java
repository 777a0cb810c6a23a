package org.leukolab.models.backbones;

import java.util.Locale;
import org.leukolab.preprocessing.KerasPreprocessing;
import org.nd4j.linalg.activations.Activation;

/**
 * EfficientNetV2 S, M and L (Tan and Le, 2021) as Keras Applications builds them
 * ({@code keras.applications.EfficientNetV2S/M/L}): the model's own input rescaling ({@code x / 128 - 1}, so it takes
 * raw 0..255 pixels), a 3x3 stem, stages of fused MBConv blocks (one regular convolution in place of expansion +
 * depthwise) and then MBConv blocks with squeeze-and-excitation, a 1x1 convolution to 1,280 channels. Swish
 * activations, batch normalisation with momentum 0.9. Inputs of at least 32x32.
 *
 * <p>As for {@link EfficientNetB0}, the stochastic depth of training (a per-sample dropout of each residual branch)
 * is not reproduced; inference, which is all a frozen backbone does, is identical.
 */
public final class EfficientNetV2 {
    private static final double EPS = 1e-3;
    private static final double MOMENTUM = 0.9;

    private EfficientNetV2() {}

    /** One stage: kernel, repeats, input and output filters, expansion, SE ratio (x100), stride, fused (1) or not. */
    private record Stage(int kernel, int repeats, int in, int out, int expand, int seRatioPercent, int stride, boolean fused) {}

    private static Stage[] stages(String variant) {
        return switch (variant) {
            case "S" -> new Stage[] {new Stage(3, 2, 24, 24, 1, 0, 1, true), new Stage(3, 4, 24, 48, 4, 0, 2, true),
                new Stage(3, 4, 48, 64, 4, 0, 2, true), new Stage(3, 6, 64, 128, 4, 25, 2, false),
                new Stage(3, 9, 128, 160, 6, 25, 1, false), new Stage(3, 15, 160, 256, 6, 25, 2, false)};
            case "M" -> new Stage[] {new Stage(3, 3, 24, 24, 1, 0, 1, true), new Stage(3, 5, 24, 48, 4, 0, 2, true),
                new Stage(3, 5, 48, 80, 4, 0, 2, true), new Stage(3, 7, 80, 160, 4, 25, 2, false),
                new Stage(3, 14, 160, 176, 6, 25, 1, false), new Stage(3, 18, 176, 304, 6, 25, 2, false),
                new Stage(3, 5, 304, 512, 6, 25, 1, false)};
            case "L" -> new Stage[] {new Stage(3, 4, 32, 32, 1, 0, 1, true), new Stage(3, 7, 32, 64, 4, 0, 2, true),
                new Stage(3, 7, 64, 96, 4, 0, 2, true), new Stage(3, 10, 96, 192, 4, 25, 2, false),
                new Stage(3, 19, 192, 224, 6, 25, 1, false), new Stage(3, 25, 224, 384, 6, 25, 2, false),
                new Stage(3, 7, 384, 640, 6, 25, 1, false)};
            default -> throw new IllegalArgumentException("EfficientNetV2 variant must be S, M or L, got " + variant);
        };
    }

    /** The official file name, e.g. {@code efficientnetv2-m_notop.h5}. */
    public static String weightFile(String variant, boolean includeTop) {
        return "efficientnetv2-" + variant.toLowerCase(Locale.ROOT) + (includeTop ? ".h5" : "_notop.h5");
    }

    public static Backbone build(String variant, int size, boolean includeTop, int classes, boolean softmax, long seed) {
        Backbones.checkSize("EfficientNetV2" + variant, size, 32);
        Stage[] stages = stages(variant);
        KerasGraph g = new KerasGraph(seed, size, size);
        String x = g.rescaling("rescaling", g.last(), 1.0 / 128.0, -1.0);
        x = g.conv("stem_conv", x, stages[0].in(), 3, 2, KerasGraph.Pad.SAME, false, Activation.IDENTITY);
        x = g.batchNorm("stem_bn", x, EPS, MOMENTUM);
        x = g.activation("stem_activation", x, Activation.SWISH);
        for (int i = 0; i < stages.length; i++) {
            Stage s = stages[i];
            for (int j = 0; j < s.repeats(); j++) {
                String name = "block" + (i + 1) + (char) ('a' + j) + "_";
                int in = j == 0 ? s.in() : s.out();
                int stride = j == 0 ? s.stride() : 1;
                x = s.fused() ? fused(g, x, name, in, s.out(), s.kernel(), stride, s.expand())
                        : mbConv(g, x, name, in, s.out(), s.kernel(), stride, s.expand(), s.seRatioPercent());
            }
        }
        x = g.conv("top_conv", x, 1280, 1, 1, KerasGraph.Pad.SAME, false, Activation.IDENTITY);
        x = g.batchNorm("top_bn", x, EPS, MOMENTUM);
        x = g.activation("top_activation", x, Activation.SWISH);
        String features = x;
        if (includeTop) {
            x = g.globalAveragePool("avg_pool", x);
            x = g.dropout("top_dropout", x, variant.equals("S") ? 0.2 : variant.equals("M") ? 0.3 : 0.4);
            x = g.dense("predictions", x, classes, softmax ? Activation.SOFTMAX : Activation.IDENTITY);
        }
        return new Backbone("EfficientNetV2" + variant, g.build(x), size, includeTop, KerasPreprocessing.NONE, features,
                weightFile(variant, includeTop), g.mapped(), "random initialisation");
    }

    /** Keras' FusedMBConvBlock (these stages have no squeeze-and-excitation). */
    private static String fused(KerasGraph g, String in, String name, int filtersIn, int filtersOut, int kernel, int stride,
                                int expand) {
        String x = in;
        if (expand != 1) {
            x = g.conv(name + "expand_conv", x, filtersIn * expand, kernel, stride, KerasGraph.Pad.SAME, false, Activation.IDENTITY);
            x = g.batchNorm(name + "expand_bn", x, EPS, MOMENTUM);
            x = g.activation(name + "expand_activation", x, Activation.SWISH);
        }
        x = g.conv(name + "project_conv", x, filtersOut, expand != 1 ? 1 : kernel, expand != 1 ? 1 : stride, KerasGraph.Pad.SAME,
                false, Activation.IDENTITY);
        x = g.batchNorm(name + "project_bn", x, EPS, MOMENTUM);
        if (expand == 1) {
            x = g.activation(name + "project_activation", x, Activation.SWISH);
        }
        if (stride == 1 && filtersIn == filtersOut) {
            x = g.add(name + "add", x, in);
        }
        return x;
    }

    /** Keras' MBConvBlock: 1x1 expansion, depthwise convolution, squeeze-and-excitation, 1x1 projection. */
    private static String mbConv(KerasGraph g, String in, String name, int filtersIn, int filtersOut, int kernel, int stride,
                                 int expand, int seRatioPercent) {
        int filters = filtersIn * expand;
        String x = in;
        if (expand != 1) {
            x = g.conv(name + "expand_conv", x, filters, 1, 1, KerasGraph.Pad.SAME, false, Activation.IDENTITY);
            x = g.batchNorm(name + "expand_bn", x, EPS, MOMENTUM);
            x = g.activation(name + "expand_activation", x, Activation.SWISH);
        }
        x = g.depthwise(name + "dwconv2", x, kernel, stride, KerasGraph.Pad.SAME, false, Activation.IDENTITY);
        x = g.batchNorm(name + "bn", x, EPS, MOMENTUM);
        x = g.activation(name + "activation", x, Activation.SWISH);
        if (seRatioPercent > 0) {
            int se = Math.max(1, filtersIn * seRatioPercent / 100);
            x = g.squeezeExcite(x, se, filters, Activation.SWISH.getActivationFunction(), Activation.SIGMOID.getActivationFunction(),
                    name + "se_squeeze", name + "se_reduce", name + "se_expand", name + "se_excite");
        }
        x = g.conv(name + "project_conv", x, filtersOut, 1, 1, KerasGraph.Pad.SAME, false, Activation.IDENTITY);
        x = g.batchNorm(name + "project_bn", x, EPS, MOMENTUM);
        if (stride == 1 && filtersIn == filtersOut) {
            x = g.add(name + "add", x, in);
        }
        return x;
    }
}

package org.leukolab.models.backbones;

import java.util.Locale;
import org.leukolab.models.HardSwish;
import org.leukolab.preprocessing.KerasPreprocessing;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;

/**
 * MobileNetV3 Large (Howard et al., 2019) as Keras Applications builds it ({@code keras.applications.MobileNetV3Large},
 * width 1.0, not minimalistic): the model's own input rescaling ({@code x / 127.5 - 1}, so it takes raw 0..255
 * pixels), inverted residual blocks with ReLU or hard swish and, in some, squeeze-and-excitation gated by a hard
 * sigmoid, then a 1x1 convolution to 960 channels. Layer names are Keras' ({@code expanded_conv_3/squeeze_excite/Conv}).
 * Inputs of at least 32x32.
 */
public final class MobileNetV3 {
    private static final double EPS = 1e-3;
    private static final double MOMENTUM = 0.999;

    private MobileNetV3() {}

    /** The official file name of the large model at width 1.0. */
    public static String weightFile(boolean includeTop) {
        return "weights_mobilenet_v3_large_224_1.0_float" + (includeTop ? ".h5" : "_no_top_v2.h5");
    }

    /** Keras' _depth: a multiple of 8, at least 8, never more than 10% below v. */
    static int depth(double v) {
        int d = Math.max(8, (int) (v + 4) / 8 * 8);
        return d < 0.9 * v ? d + 8 : d;
    }

    public static Backbone large(int size, boolean includeTop, int classes, boolean softmax, long seed) {
        Backbones.checkSize("MobileNetV3Large", size, 32);
        KerasGraph g = new KerasGraph(seed, size, size);
        IActivation hs = new HardSwish();
        IActivation relu = Activation.RELU.getActivationFunction();
        String x = g.rescaling("rescaling", g.last(), 1.0 / 127.5, -1.0);
        x = g.conv("Conv", x, 16, 3, 2, KerasGraph.Pad.SAME, false, Activation.IDENTITY);
        x = g.batchNorm("Conv/BatchNorm", x, EPS, MOMENTUM);
        x = g.activation("Conv/hard_swish", x, hs);
        // expansion, filters, kernel, stride, squeeze-and-excitation, hard swish (else ReLU), as MobileNetV3Large's stack_fn
        double[][] blocks = {{1, 16, 3, 1, 0, 0}, {4, 24, 3, 2, 0, 0}, {3, 24, 3, 1, 0, 0}, {3, 40, 5, 2, 1, 0},
            {3, 40, 5, 1, 1, 0}, {3, 40, 5, 1, 1, 0}, {6, 80, 3, 2, 0, 1}, {2.5, 80, 3, 1, 0, 1}, {2.3, 80, 3, 1, 0, 1},
            {2.3, 80, 3, 1, 0, 1}, {6, 112, 3, 1, 1, 1}, {6, 112, 3, 1, 1, 1}, {6, 160, 5, 2, 1, 1}, {6, 160, 5, 1, 1, 1},
            {6, 160, 5, 1, 1, 1}};
        for (int i = 0; i < blocks.length; i++) {
            double[] b = blocks[i];
            x = block(g, x, b[0], depth(b[1]), (int) b[2], (int) b[3], b[4] > 0, b[5] > 0 ? hs : relu, i);
        }
        x = g.conv("Conv_1", x, depth(g.channels(x) * 6), 1, 1, KerasGraph.Pad.SAME, false, Activation.IDENTITY);
        x = g.batchNorm("Conv_1/BatchNorm", x, EPS, MOMENTUM);
        x = g.activation("Conv_1/hard_swish", x, hs);
        String features = x;
        if (includeTop) {
            x = g.globalAveragePool("global_average_pooling2d", x);
            x = g.denseFrom1x1Conv("Conv_2", x, 1280, hs);
            x = g.dropout("dropout", x, 0.2);
            x = g.denseFrom1x1Conv("Logits", x, classes, softmax ? Activation.SOFTMAX : Activation.IDENTITY);
        }
        return new Backbone("MobileNetV3Large", g.build(x), size, includeTop, KerasPreprocessing.NONE, features,
                weightFile(includeTop), g.mapped(), "random initialisation");
    }

    /** Keras' _inverted_res_block. */
    private static String block(KerasGraph g, String in, double expansion, int filters, int kernel, int stride, boolean se,
                                IActivation act, int id) {
        String prefix = id == 0 ? "expanded_conv/" : String.format(Locale.ROOT, "expanded_conv_%d/", id);
        int inFilters = g.channels(in);
        String x = in;
        if (id > 0) {
            x = g.conv(prefix + "expand", x, depth(inFilters * expansion), 1, 1, KerasGraph.Pad.SAME, false, Activation.IDENTITY);
            x = g.batchNorm(prefix + "expand/BatchNorm", x, EPS, MOMENTUM);
            x = g.activation(prefix + "expand/" + act, x, act);
        }
        if (stride == 2) {
            int[] p = Backbones.correctPad(g.shape(x), kernel);
            x = g.zeroPad(prefix + "depthwise/pad", x, p[0], p[1], p[2], p[3]);
        }
        x = g.depthwise(prefix + "depthwise", x, kernel, stride, stride == 1 ? KerasGraph.Pad.SAME : KerasGraph.Pad.VALID, false,
                Activation.IDENTITY);
        x = g.batchNorm(prefix + "depthwise/BatchNorm", x, EPS, MOMENTUM);
        x = g.activation(prefix + "depthwise/" + act, x, act);
        if (se) {
            int channels = depth(inFilters * expansion);
            x = g.squeezeExcite(x, depth(channels * 0.25), channels, Activation.RELU.getActivationFunction(), HardSwish.gateOnly(),
                    prefix + "squeeze_excite/AvgPool", prefix + "squeeze_excite/Conv", prefix + "squeeze_excite/Conv_1",
                    prefix + "squeeze_excite/Mul");
        }
        x = g.conv(prefix + "project", x, filters, 1, 1, KerasGraph.Pad.SAME, false, Activation.IDENTITY);
        x = g.batchNorm(prefix + "project/BatchNorm", x, EPS, MOMENTUM);
        if (stride == 1 && inFilters == filters) {
            x = g.add(prefix + "Add", in, x);
        }
        return x;
    }
}

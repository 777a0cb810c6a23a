package org.leukolab.models.backbones;

import java.util.List;
import org.leukolab.preprocessing.KerasPreprocessing;
import org.nd4j.linalg.activations.Activation;

/**
 * Inception v3 (Szegedy et al., 2016) as Keras Applications builds it ({@code keras.applications.InceptionV3}): a
 * convolution stem, three 35x35-type blocks ({@code mixed0-2}), a reduction ({@code mixed3}), four blocks with
 * factorised 7x7 convolutions ({@code mixed4-7}), a reduction ({@code mixed8}) and two expanded blocks
 * ({@code mixed9-10}); every convolution is followed by batch normalisation without a scale and ReLU. Inputs of at
 * least 75x75, Keras' 'tf' preprocessing ([-1, 1]).
 *
 * <p>Keras names these layers automatically ({@code conv2d}, {@code conv2d_1}, ..., {@code batch_normalization_93}),
 * in the order the code creates them; the graph uses the same names. The official files were written by an older
 * Keras that counted from 1 ({@code conv2d_1}): {@link KerasWeightLoader} matches those by shifting the count.
 */
public final class InceptionV3 {
    public static final String WEIGHTS_TOP = "inception_v3_weights_tf_dim_ordering_tf_kernels.h5";
    public static final String WEIGHTS_NO_TOP = "inception_v3_weights_tf_dim_ordering_tf_kernels_notop.h5";
    private static final double EPS = 1e-3;
    private static final double MOMENTUM = 0.99;

    private InceptionV3() {}

    /** Keras' automatic layer names, counted per kind as the code creates layers. */
    private static final class Names {
        int conv;
        int bn;
        int act;
        int pool;
        int avg;
        int concat;

        static String of(String base, int n) {
            return n == 0 ? base : base + "_" + n;
        }
    }

    public static Backbone build(int size, boolean includeTop, int classes, boolean softmax, long seed) {
        Backbones.checkSize("InceptionV3", size, 75);
        KerasGraph g = new KerasGraph(seed, size, size);
        Names n = new Names();
        String x = convBn(g, n, g.last(), 32, 3, 3, 2, KerasGraph.Pad.VALID);
        x = convBn(g, n, x, 32, 3, 3, 1, KerasGraph.Pad.VALID);
        x = convBn(g, n, x, 64, 3, 3, 1, KerasGraph.Pad.SAME);
        x = g.maxPool(Names.of("max_pooling2d", n.pool++), x, 3, 2);
        x = convBn(g, n, x, 80, 1, 1, 1, KerasGraph.Pad.VALID);
        x = convBn(g, n, x, 192, 3, 3, 1, KerasGraph.Pad.VALID);
        x = g.maxPool(Names.of("max_pooling2d", n.pool++), x, 3, 2);
        // mixed 0, 1, 2: 35 x 35 x 256, 288, 288
        for (int i = 0; i < 3; i++) {
            String b1 = convBn(g, n, x, 64, 1, 1, 1, KerasGraph.Pad.SAME);
            String b5 = convBn(g, n, x, 48, 1, 1, 1, KerasGraph.Pad.SAME);
            b5 = convBn(g, n, b5, 64, 5, 5, 1, KerasGraph.Pad.SAME);
            String b3 = convBn(g, n, x, 64, 1, 1, 1, KerasGraph.Pad.SAME);
            b3 = convBn(g, n, b3, 96, 3, 3, 1, KerasGraph.Pad.SAME);
            b3 = convBn(g, n, b3, 96, 3, 3, 1, KerasGraph.Pad.SAME);
            String bp = g.avgPool(Names.of("average_pooling2d", n.avg++), x, 3, 1, KerasGraph.Pad.SAME);
            bp = convBn(g, n, bp, i == 0 ? 32 : 64, 1, 1, 1, KerasGraph.Pad.SAME);
            x = g.concat("mixed" + i, List.of(b1, b5, b3, bp));
        }
        // mixed 3: 17 x 17 x 768
        String r3 = convBn(g, n, x, 384, 3, 3, 2, KerasGraph.Pad.VALID);
        String r3d = convBn(g, n, x, 64, 1, 1, 1, KerasGraph.Pad.SAME);
        r3d = convBn(g, n, r3d, 96, 3, 3, 1, KerasGraph.Pad.SAME);
        r3d = convBn(g, n, r3d, 96, 3, 3, 2, KerasGraph.Pad.VALID);
        String rp = g.maxPool(Names.of("max_pooling2d", n.pool++), x, 3, 2);
        x = g.concat("mixed3", List.of(r3, r3d, rp));
        // mixed 4 to 7: 17 x 17 x 768, the 7x7 convolutions factorised into 1x7 and 7x1
        int[] widths = {128, 160, 160, 192};
        for (int i = 0; i < 4; i++) {
            int c = widths[i];
            String b1 = convBn(g, n, x, 192, 1, 1, 1, KerasGraph.Pad.SAME);
            String b7 = convBn(g, n, x, c, 1, 1, 1, KerasGraph.Pad.SAME);
            b7 = convBn(g, n, b7, c, 1, 7, 1, KerasGraph.Pad.SAME);
            b7 = convBn(g, n, b7, 192, 7, 1, 1, KerasGraph.Pad.SAME);
            String b7d = convBn(g, n, x, c, 1, 1, 1, KerasGraph.Pad.SAME);
            b7d = convBn(g, n, b7d, c, 7, 1, 1, KerasGraph.Pad.SAME);
            b7d = convBn(g, n, b7d, c, 1, 7, 1, KerasGraph.Pad.SAME);
            b7d = convBn(g, n, b7d, c, 7, 1, 1, KerasGraph.Pad.SAME);
            b7d = convBn(g, n, b7d, 192, 1, 7, 1, KerasGraph.Pad.SAME);
            String bp = g.avgPool(Names.of("average_pooling2d", n.avg++), x, 3, 1, KerasGraph.Pad.SAME);
            bp = convBn(g, n, bp, 192, 1, 1, 1, KerasGraph.Pad.SAME);
            x = g.concat("mixed" + (4 + i), List.of(b1, b7, b7d, bp));
        }
        // mixed 8: 8 x 8 x 1280
        String r8 = convBn(g, n, x, 192, 1, 1, 1, KerasGraph.Pad.SAME);
        r8 = convBn(g, n, r8, 320, 3, 3, 2, KerasGraph.Pad.VALID);
        String r8x = convBn(g, n, x, 192, 1, 1, 1, KerasGraph.Pad.SAME);
        r8x = convBn(g, n, r8x, 192, 1, 7, 1, KerasGraph.Pad.SAME);
        r8x = convBn(g, n, r8x, 192, 7, 1, 1, KerasGraph.Pad.SAME);
        r8x = convBn(g, n, r8x, 192, 3, 3, 2, KerasGraph.Pad.VALID);
        String r8p = g.maxPool(Names.of("max_pooling2d", n.pool++), x, 3, 2);
        x = g.concat("mixed8", List.of(r8, r8x, r8p));
        // mixed 9, 10: 8 x 8 x 2048
        for (int i = 0; i < 2; i++) {
            String b1 = convBn(g, n, x, 320, 1, 1, 1, KerasGraph.Pad.SAME);
            String b3 = convBn(g, n, x, 384, 1, 1, 1, KerasGraph.Pad.SAME);
            String b3a = convBn(g, n, b3, 384, 1, 3, 1, KerasGraph.Pad.SAME);
            String b3b = convBn(g, n, b3, 384, 3, 1, 1, KerasGraph.Pad.SAME);
            b3 = g.concat("mixed9_" + i, List.of(b3a, b3b));
            String bd = convBn(g, n, x, 448, 1, 1, 1, KerasGraph.Pad.SAME);
            bd = convBn(g, n, bd, 384, 3, 3, 1, KerasGraph.Pad.SAME);
            String bda = convBn(g, n, bd, 384, 1, 3, 1, KerasGraph.Pad.SAME);
            String bdb = convBn(g, n, bd, 384, 3, 1, 1, KerasGraph.Pad.SAME);
            bd = g.concat(Names.of("concatenate", n.concat++), List.of(bda, bdb));
            String bp = g.avgPool(Names.of("average_pooling2d", n.avg++), x, 3, 1, KerasGraph.Pad.SAME);
            bp = convBn(g, n, bp, 192, 1, 1, 1, KerasGraph.Pad.SAME);
            x = g.concat("mixed" + (9 + i), List.of(b1, b3, bd, bp));
        }
        String features = x;
        if (includeTop) {
            x = g.globalAveragePool("avg_pool", x);
            x = g.dense("predictions", x, classes, softmax ? Activation.SOFTMAX : Activation.IDENTITY);
        }
        return new Backbone("InceptionV3", g.build(x), size, includeTop, KerasPreprocessing.TF, features,
                includeTop ? WEIGHTS_TOP : WEIGHTS_NO_TOP, g.mapped(), "random initialisation");
    }

    /** Keras' conv2d_bn: convolution without bias, batch normalisation without scale, ReLU. */
    private static String convBn(KerasGraph g, Names n, String in, int filters, int kh, int kw, int stride, KerasGraph.Pad pad) {
        String x = g.conv(Names.of("conv2d", n.conv++), in, filters, kh, kw, stride, pad, false, Activation.IDENTITY);
        x = g.batchNorm(Names.of("batch_normalization", n.bn++), x, EPS, MOMENTUM);
        return g.activation(Names.of("activation", n.act++), x, Activation.RELU);
    }
}

package org.leukolab.models.backbones;

import org.leukolab.preprocessing.KerasPreprocessing;
import org.nd4j.linalg.activations.Activation;

/** ResNet50 (v1) as Keras Applications builds it (He et al., 2016). Inputs of at least 32x32. */
public final class ResNet50 {
    public static final String WEIGHTS_TOP = "resnet50_weights_tf_dim_ordering_tf_kernels.h5";
    public static final String WEIGHTS_NO_TOP = "resnet50_weights_tf_dim_ordering_tf_kernels_notop.h5";
    private static final double EPS = 1.001e-5;
    private static final double MOMENTUM = 0.99;

    private ResNet50() {}

    public static Backbone build(int size, boolean includeTop, int classes, boolean softmax, long seed) {
        Backbones.checkSize("ResNet50", size, 32);
        KerasGraph g = new KerasGraph(seed, size, size);
        String x = g.zeroPad("conv1_pad", g.last(), 3, 3, 3, 3);
        x = g.conv("conv1_conv", x, 64, 7, 2, KerasGraph.Pad.VALID, true, Activation.IDENTITY);
        x = g.batchNorm("conv1_bn", x, EPS, MOMENTUM);
        x = g.activation("conv1_relu", x, Activation.RELU);
        x = g.zeroPad("pool1_pad", x, 1, 1, 1, 1);
        x = g.maxPool("pool1_pool", x, 3, 2);
        x = stack(g, x, 64, 3, 1, "conv2");
        x = stack(g, x, 128, 4, 2, "conv3");
        x = stack(g, x, 256, 6, 2, "conv4");
        x = stack(g, x, 512, 3, 2, "conv5");
        String features = x;
        if (includeTop) {
            x = g.globalAveragePool("avg_pool", x);
            x = g.dense("predictions", x, classes, softmax ? Activation.SOFTMAX : Activation.IDENTITY);
        }
        return new Backbone("ResNet50", g.build(x), size, includeTop, KerasPreprocessing.CAFFE, features,
                includeTop ? WEIGHTS_TOP : WEIGHTS_NO_TOP, g.mapped(), "random initialisation");
    }

    private static String stack(KerasGraph g, String x, int filters, int blocks, int stride, String name) {
        x = block(g, x, filters, stride, true, name + "_block1");
        for (int i = 2; i <= blocks; i++) {
            x = block(g, x, filters, 1, false, name + "_block" + i);
        }
        return x;
    }

    /** The bottleneck block: 1x1, 3x3, 1x1 (4 x filters), plus a shortcut (1x1 projection in the first block). */
    private static String block(KerasGraph g, String in, int filters, int stride, boolean convShortcut, String name) {
        String shortcut = in;
        if (convShortcut) {
            shortcut = g.conv(name + "_0_conv", in, 4 * filters, 1, stride, KerasGraph.Pad.VALID, true, Activation.IDENTITY);
            shortcut = g.batchNorm(name + "_0_bn", shortcut, EPS, MOMENTUM);
        }
        String x = g.conv(name + "_1_conv", in, filters, 1, stride, KerasGraph.Pad.VALID, true, Activation.IDENTITY);
        x = g.batchNorm(name + "_1_bn", x, EPS, MOMENTUM);
        x = g.activation(name + "_1_relu", x, Activation.RELU);
        x = g.conv(name + "_2_conv", x, filters, 3, 1, KerasGraph.Pad.SAME, true, Activation.IDENTITY);
        x = g.batchNorm(name + "_2_bn", x, EPS, MOMENTUM);
        x = g.activation(name + "_2_relu", x, Activation.RELU);
        x = g.conv(name + "_3_conv", x, 4 * filters, 1, 1, KerasGraph.Pad.VALID, true, Activation.IDENTITY);
        x = g.batchNorm(name + "_3_bn", x, EPS, MOMENTUM);
        x = g.add(name + "_add", shortcut, x);
        return g.activation(name + "_out", x, Activation.RELU);
    }
}

package org.leukolab.models.backbones;

import org.leukolab.preprocessing.KerasPreprocessing;
import org.nd4j.linalg.activations.Activation;

/** VGG16 as Keras Applications builds it (Simonyan and Zisserman, 2015). Inputs of at least 32x32. */
public final class Vgg16 {
    public static final String WEIGHTS_TOP = "vgg16_weights_tf_dim_ordering_tf_kernels.h5";
    public static final String WEIGHTS_NO_TOP = "vgg16_weights_tf_dim_ordering_tf_kernels_notop.h5";

    private Vgg16() {}

    /** {@code classes} and the softmax only matter with the top; {@code softmax=false} gives logits. */
    public static Backbone build(int size, boolean includeTop, int classes, boolean softmax, long seed) {
        Backbones.checkSize("VGG16", size, 32);
        KerasGraph g = new KerasGraph(seed, size, size);
        String x = g.last();
        int[][] blocks = {{64, 2}, {128, 2}, {256, 3}, {512, 3}, {512, 3}};
        for (int b = 0; b < blocks.length; b++) {
            for (int i = 1; i <= blocks[b][1]; i++) {
                x = g.conv("block" + (b + 1) + "_conv" + i, x, blocks[b][0], 3, 1, KerasGraph.Pad.SAME, true, Activation.RELU);
            }
            x = g.maxPool("block" + (b + 1) + "_pool", x, 2, 2);
        }
        String features = x;
        if (includeTop) {
            x = g.dense("fc1", x, 4096, Activation.RELU);
            x = g.dense("fc2", x, 4096, Activation.RELU);
            x = g.dense("predictions", x, classes, softmax ? Activation.SOFTMAX : Activation.IDENTITY);
        }
        return new Backbone("VGG16", g.build(x), size, includeTop, KerasPreprocessing.CAFFE, features,
                includeTop ? WEIGHTS_TOP : WEIGHTS_NO_TOP, g.mapped(), "random initialisation");
    }
}

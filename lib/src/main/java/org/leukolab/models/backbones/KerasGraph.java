package org.leukolab.models.backbones;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.dropout.Dropout;
import org.deeplearning4j.nn.conf.graph.ElementWiseVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.layers.SubsamplingLayer;
import org.deeplearning4j.nn.conf.layers.ZeroPaddingLayer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.nd4j.linalg.activations.Activation;

/**
 * Builds a DL4J {@link ComputationGraph} layer by layer the way Keras Applications code builds its
 * models: every layer gets its Keras name, spatial sizes are tracked so Keras' padding is reproduced
 * exactly ('same' with stride 2 becomes TensorFlow's asymmetric zero padding, then a 'valid'
 * convolution), and every layer that carries weights is recorded, in creation order, with how its Keras
 * arrays map onto DL4J's. Layouts are NCHW.
 */
final class KerasGraph {
    /** How a Keras layer's arrays become DL4J parameters. */
    enum Kind {
        /** Conv2D: kernel (kh, kw, in, out) -> W (out, in, kh, kw); bias. */
        CONV,
        /** DepthwiseConv2D: depthwise_kernel (kh, kw, in, mult) -> W of the same layout; bias. */
        DEPTHWISE,
        /** Dense: kernel (in, out) -> W (in, out); bias. */
        DENSE,
        /** Dense after Flatten of an (h, w, c) map: kernel rows reordered from h,w,c to c,h,w. */
        DENSE_AFTER_FLATTEN,
        /** A 1x1 Conv2D on a 1x1 map (squeeze-and-excitation), built as Dense: kernel (1, 1, in, out) -> (in, out). */
        DENSE_FROM_1X1_CONV,
        /** BatchNormalization: gamma, beta, moving_mean, moving_variance. */
        BATCH_NORM,
        /** Keras Rescaling(1/255) + Normalization(mean, variance) [+ Rescaling(1/sqrt(std))], folded into a frozen batch norm. */
        NORMALIZATION
    }

    /** A weighted layer: Keras name (= DL4J vertex name), mapping, and extra data the mapping needs. */
    record Mapped(String name, Kind kind, int[] flattenHwc, double[] extraScale, double epsilon) {}

    enum Pad { SAME, VALID }

    private final ComputationGraphConfiguration.GraphBuilder b;
    private final Map<String, int[]> shapes = new HashMap<>(); // vertex -> {h, w, c}, or {n} after pooling/dense
    private final List<Mapped> mapped = new ArrayList<>();
    private String last;

    KerasGraph(long seed, int height, int width) {
        b = new NeuralNetConfiguration.Builder()
                .seed(seed)
                .weightInit(WeightInit.XAVIER_UNIFORM) // Keras' default (glorot_uniform) for random starts
                .biasInit(0.0)
                .convolutionMode(ConvolutionMode.Truncate)
                .graphBuilder()
                .addInputs("input")
                .setInputTypes(InputType.convolutional(height, width, 3));
        shapes.put("input", new int[] {height, width, 3});
        last = "input";
    }

    String last() {
        return last;
    }

    int[] shape(String vertex) {
        return shapes.get(vertex).clone();
    }

    int channels(String vertex) {
        int[] s = shapes.get(vertex);
        return s[s.length - 1];
    }

    List<Mapped> mapped() {
        return List.copyOf(mapped);
    }

    /** TensorFlow's 'same' padding: total = max((ceil(n/s) - 1) * s + k - n, 0), the odd pixel at the end. */
    static int[] tfSamePadding(int n, int k, int s) {
        int out = (n + s - 1) / s;
        int total = Math.max((out - 1) * s + k - n, 0);
        return new int[] {total / 2, total - total / 2};
    }

    private String put(String name, org.deeplearning4j.nn.conf.layers.Layer layer, int[] shape, String... inputs) {
        b.addLayer(name, layer, inputs);
        shapes.put(name, shape);
        last = name;
        return name;
    }

    String zeroPad(String name, String in, int top, int bottom, int left, int right) {
        int[] s = shape(in);
        return put(name, new ZeroPaddingLayer.Builder(top, bottom, left, right).build(),
                new int[] {s[0] + top + bottom, s[1] + left + right, s[2]}, in);
    }

    /** Stride > 1 with 'same': an explicit TensorFlow-style padding vertex first (not a Keras layer). */
    private String samePadIfStrided(String name, String in, int k, int stride, Pad pad) {
        if (pad == Pad.SAME && stride > 1) {
            int[] s = shape(in);
            int[] ph = tfSamePadding(s[0], k, stride);
            int[] pw = tfSamePadding(s[1], k, stride);
            return zeroPad(name + "__tf_same_pad", in, ph[0], ph[1], pw[0], pw[1]);
        }
        return in;
    }

    private int[] outShape(int[] in, int k, int stride, Pad pad, int channels) {
        if (pad == Pad.SAME && stride == 1) {
            return new int[] {in[0], in[1], channels};
        }
        return new int[] {(in[0] - k) / stride + 1, (in[1] - k) / stride + 1, channels};
    }

    String conv(String name, String in, int filters, int k, int stride, Pad pad, boolean bias, Activation act) {
        return conv(name, in, filters, k, k, stride, pad, bias, act);
    }

    /** A convolution with a kh x kw kernel (InceptionV3's 1x7 and 7x1); 'same' with stride 1, or 'valid'. */
    String conv(String name, String in, int filters, int kh, int kw, int stride, Pad pad, boolean bias, Activation act) {
        if (kh != kw) {
            if (pad == Pad.SAME && stride != 1) {
                throw new IllegalArgumentException("rectangular kernels are built with stride 1 or 'valid' padding");
            }
            int[] s = shape(in);
            ConvolutionLayer layer = new ConvolutionLayer.Builder(kh, kw).stride(stride, stride).nOut(filters).hasBias(bias)
                    .activation(act).convolutionMode(pad == Pad.SAME ? ConvolutionMode.Same : ConvolutionMode.Truncate).build();
            mapped.add(new Mapped(name, Kind.CONV, null, null, 0));
            int[] out = pad == Pad.SAME ? new int[] {s[0], s[1], filters}
                    : new int[] {(s[0] - kh) / stride + 1, (s[1] - kw) / stride + 1, filters};
            return put(name, layer, out, in);
        }
        int k = kh;
        String src = samePadIfStrided(name, in, k, stride, pad);
        int[] s = shape(src);
        ConvolutionLayer layer = new ConvolutionLayer.Builder(k, k)
                .stride(stride, stride)
                .nOut(filters)
                .hasBias(bias)
                .activation(act)
                .convolutionMode(pad == Pad.SAME && stride == 1 ? ConvolutionMode.Same : ConvolutionMode.Truncate)
                .build();
        mapped.add(new Mapped(name, Kind.CONV, null, null, 0));
        return put(name, layer, outShape(s, k, stride, pad == Pad.SAME && stride > 1 ? Pad.VALID : pad, filters), src);
    }

    String depthwise(String name, String in, int k, int stride, Pad pad, boolean bias, Activation act) {
        String src = samePadIfStrided(name, in, k, stride, pad);
        int[] s = shape(src);
        DepthwiseConvolution2D layer = new DepthwiseConvolution2D.Builder(k, k)
                .stride(stride, stride)
                .depthMultiplier(1)
                .hasBias(bias)
                .activation(act)
                .convolutionMode(pad == Pad.SAME && stride == 1 ? ConvolutionMode.Same : ConvolutionMode.Truncate)
                .build();
        mapped.add(new Mapped(name, Kind.DEPTHWISE, null, null, 0));
        return put(name, layer, outShape(s, k, stride, pad == Pad.SAME && stride > 1 ? Pad.VALID : pad, s[2]), src);
    }

    String batchNorm(String name, String in, double epsilon, double momentum) {
        BatchNormalization layer = new BatchNormalization.Builder()
                .eps(epsilon).decay(momentum).useLogStd(false).build();
        mapped.add(new Mapped(name, Kind.BATCH_NORM, null, null, epsilon));
        return put(name, layer, shape(in), in);
    }

    /**
     * EfficientNet's input stem: x/255, then (x - mean)/sqrt(variance) from the weight file, then for the
     * ImageNet weights a further per-channel 1/sqrt(std) (Keras' fix for tensorflow issue 49930). Folded
     * into a batch normalisation over raw 0..255 input that always runs in inference mode.
     */
    String normalization(String name, String in, double[] extraScale) {
        mapped.add(new Mapped(name, Kind.NORMALIZATION, null, extraScale, 1e-12));
        return put(name, new org.deeplearning4j.nn.conf.layers.misc.FrozenLayerWithBackprop(
                new org.leukolab.models.FrozenBatchNorm(3, 1e-12, 0.99, true)), shape(in), in);
    }

    String activation(String name, String in, Activation act) {
        return put(name, new ActivationLayer.Builder().activation(act).build(), shape(in), in);
    }

    /** An activation DL4J's enum lacks (e.g. MobileNetV3's hard swish). */
    String activation(String name, String in, org.nd4j.linalg.activations.IActivation act) {
        return put(name, new ActivationLayer.Builder().activation(act).build(), shape(in), in);
    }

    /** Keras Rescaling(scale, offset): x * scale + offset, no weights (EfficientNetV2's and MobileNetV3's first layer). */
    String rescaling(String name, String in, double scale, double offset) {
        b.addVertex(name + "__scale", new org.deeplearning4j.nn.conf.graph.ScaleVertex(scale), in);
        b.addVertex(name, new org.deeplearning4j.nn.conf.graph.ShiftVertex(offset), name + "__scale");
        shapes.put(name + "__scale", shape(in));
        shapes.put(name, shape(in));
        last = name;
        return name;
    }

    /** Element-wise product of two maps of the same shape (Keras Multiply). */
    String multiply(String name, String a, String c) {
        b.addVertex(name, new ElementWiseVertex(ElementWiseVertex.Op.Product), a, c);
        shapes.put(name, shape(a));
        last = name;
        return name;
    }

    String maxPool(String name, String in, int k, int stride) {
        int[] s = shape(in);
        return put(name, new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX)
                        .kernelSize(k, k).stride(stride, stride).convolutionMode(ConvolutionMode.Truncate).build(),
                new int[] {(s[0] - k) / stride + 1, (s[1] - k) / stride + 1, s[2]}, in);
    }

    /**
     * Keras AveragePooling2D: 'valid', or 'same' with stride 1 where, as in Keras, the padded border is not counted
     * in the average.
     */
    String avgPool(String name, String in, int k, int stride, Pad pad) {
        int[] s = shape(in);
        boolean same = pad == Pad.SAME;
        if (same && stride != 1) {
            throw new IllegalArgumentException("'same' average pooling is only built with stride 1");
        }
        return put(name, new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.AVG)
                        .kernelSize(k, k).stride(stride, stride).avgPoolIncludePadInDivisor(false)
                        .convolutionMode(same ? ConvolutionMode.Same : ConvolutionMode.Truncate).build(),
                same ? s.clone() : new int[] {(s[0] - k) / stride + 1, (s[1] - k) / stride + 1, s[2]}, in);
    }

    /** Keras MaxPooling2D with 'same' padding and stride 1 (the map keeps its size). */
    String maxPoolSame(String name, String in, int k) {
        return put(name, new SubsamplingLayer.Builder(SubsamplingLayer.PoolingType.MAX)
                .kernelSize(k, k).stride(1, 1).convolutionMode(ConvolutionMode.Same).build(), shape(in), in);
    }

    /** Keras' concatenate of several maps along channels, in the order given. */
    String concat(String name, List<String> inputs) {
        b.addVertex(name, new org.deeplearning4j.nn.conf.graph.MergeVertex(), inputs.toArray(String[]::new));
        int[] first = shape(inputs.get(0));
        int c = inputs.stream().mapToInt(this::channels).sum();
        shapes.put(name, new int[] {first[0], first[1], c});
        last = name;
        return name;
    }

    String globalAveragePool(String name, String in) {
        return put(name, new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), new int[] {channels(in)}, in);
    }

    String globalMaxPool(String name, String in) {
        return put(name, new GlobalPoolingLayer.Builder(PoolingType.MAX).build(), new int[] {channels(in)}, in);
    }

    String add(String name, String a, String c) {
        b.addVertex(name, new ElementWiseVertex(ElementWiseVertex.Op.Add), a, c);
        shapes.put(name, shape(a));
        last = name;
        return name;
    }

    /** Keras' concatenate along channels (DL4J's MergeVertex joins NCHW maps on dimension 1). */
    String concat(String name, String a, String c) {
        b.addVertex(name, new org.deeplearning4j.nn.conf.graph.MergeVertex(), a, c);
        int[] sa = shape(a);
        shapes.put(name, new int[] {sa[0], sa[1], sa[2] + channels(c)});
        last = name;
        return name;
    }

    String dense(String name, String in, int units, Activation act) {
        int[] s = shape(in);
        boolean flatten = s.length == 3 && s[0] * s[1] > 1;
        mapped.add(new Mapped(name, flatten ? Kind.DENSE_AFTER_FLATTEN : Kind.DENSE, flatten ? s : null, null, 0));
        return put(name, new DenseLayer.Builder().nOut(units).activation(act).build(), new int[] {units}, in);
    }

    /** A 1x1 convolution applied to a pooled (1x1) map, as Keras' squeeze-and-excitation does; built as Dense. */
    String denseFrom1x1Conv(String name, String in, int units, Activation act) {
        return denseFrom1x1Conv(name, in, units, act.getActivationFunction());
    }

    String denseFrom1x1Conv(String name, String in, int units, org.nd4j.linalg.activations.IActivation act) {
        mapped.add(new Mapped(name, Kind.DENSE_FROM_1X1_CONV, null, null, 0));
        return put(name, new DenseLayer.Builder().nOut(units).activation(act).build(), new int[] {units}, in);
    }

    /** Multiplies each channel of the map {@code x} by the matching entry of the vector {@code scale}. */
    String scaleChannels(String name, String x, String scale) {
        b.addVertex(name, new ChannelScaleVertex(), x, scale);
        shapes.put(name, shape(x));
        last = name;
        return name;
    }

    /**
     * Squeeze-and-excitation as Keras builds it: global average pool (layer {@code names[0]}), a 1x1 convolution down
     * to {@code reduced} channels ({@code names[1]}, {@code reduceAct}), one back up to {@code channels} ({@code names[2]},
     * {@code gate}), and the map {@code x} scaled channel by channel ({@code names[3]}). Returns the scaled map.
     */
    String squeezeExcite(String x, int reduced, int channels, org.nd4j.linalg.activations.IActivation reduceAct,
                         org.nd4j.linalg.activations.IActivation gate, String... names) {
        String s = globalAveragePool(names[0], x);
        s = denseFrom1x1Conv(names[1], s, reduced, reduceAct);
        s = denseFrom1x1Conv(names[2], s, channels, gate);
        return scaleChannels(names[3], x, s);
    }

    /** Keras Dropout(rate): drops {@code rate} of the inputs while training. */
    String dropout(String name, String in, double rate) {
        return put(name, new DropoutLayer.Builder().dropOut(new Dropout(1.0 - rate)).build(), shape(in), in);
    }

    ComputationGraph build(String output) {
        b.setOutputs(output);
        ComputationGraph g = new ComputationGraph(b.build());
        g.init();
        return g;
    }
}

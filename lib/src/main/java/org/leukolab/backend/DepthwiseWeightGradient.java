package org.leukolab.backend;

import static org.bytedeco.dnnl.global.dnnl.dnnl_nchw;
import static org.bytedeco.dnnl.global.dnnl.dnnl_nhwc;

import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.stream.IntStream;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.Pointer;
import org.leukolab.backend.Dnnl.Memory;
import org.leukolab.backend.Dnnl.Primitive;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The weight and bias gradients of a depthwise convolution, computed in Java, for the kernels oneDNN 2.x's depthwise
 * code does not take: its weight-gradient kernel ({@code jit_uni_dw_conv_bwd_weights}) accepts kernels at most 3
 * wide, and for EfficientNet's 5x5 depthwise layers oneDNN falls back to a per-channel GEMM on plain layouts (at 96x96,
 * about 100 ms of an EfficientNetB0 fine-tuning step of 440 ms on an AMD EPYC, 85 ms on an Intel Xeon: oneDNN's own
 * log, docs/speed-depthwise.md).
 *
 * <p>The weight gradient of output channel {@code o} (input channel {@code o / multiplier}) at tap {@code (a, b)} is the
 * sum over examples and output positions of {@code x[n, o / m, oh*sh + a - top, ow*sw + b - left] * dz[n, o, oh, ow]}
 * (no term where that falls outside the input). The input and the output gradient are first put channels-last by
 * oneDNN's reorder (NCHW to NHWC, into the working buffers of {@link Dnnl.Scratch}); then, for every output position
 * and tap, the products of all channels at once are one element-wise multiply-add over a contiguous run of channels,
 * which the JIT vectorises, and the result lands where DL4J keeps it ({@code [kH, kW, channels, multiplier]} is
 * channels-last too). The examples are split between the machine's cores; each example's sums are made in float32 and
 * added up in float64. Checked against float64 like every other kernel (DepthwiseWeightGradientTest, and the layer
 * check of {@link OneDnnLayers} in a real network, which rejects a faulty gradient).
 */
final class DepthwiseWeightGradient {
    private final long[] src;
    private final long[] dst;
    private final int kh;
    private final int kw;
    private final int sh;
    private final int sw;
    private final int top;
    private final int left;
    private final Primitive srcToNhwc;
    private final Primitive dstToNhwc;
    private final Memory srcNchw;
    private final Memory srcNhwc;
    private final Memory dstNchw;
    private final Memory dstNhwc;

    /**
     * For input {@code src} and output {@code dst} (NCHW dims), a {@code kernel} of {kH, kW}, {@code strides} and {@code
     * pad} = {rows of zeros above, columns left of the input} (those after it follow from the shapes).
     */
    DepthwiseWeightGradient(long[] src, long[] dst, int[] kernel, long[] strides, long[] pad) {
        if (src.length != 4 || dst.length != 4 || src[0] != dst[0] || dst[1] % src[1] != 0) {
            throw new IllegalArgumentException("a depthwise weight gradient needs NCHW shapes with as many examples and a whole "
                    + "number of output channels per input channel, got input " + Arrays.toString(src) + ", output "
                    + Arrays.toString(dst));
        }
        this.src = src.clone();
        this.dst = dst.clone();
        this.kh = kernel[0];
        this.kw = kernel[1];
        this.sh = Math.toIntExact(strides[0]);
        this.sw = Math.toIntExact(strides[1]);
        this.top = Math.toIntExact(pad[0]);
        this.left = Math.toIntExact(pad[1]);
        srcNchw = Dnnl.wrapper(Dnnl.desc(src, dnnl_nchw));
        srcNhwc = Dnnl.wrapper(Dnnl.desc(src, dnnl_nhwc));
        dstNchw = Dnnl.wrapper(Dnnl.desc(dst, dnnl_nchw));
        dstNhwc = Dnnl.wrapper(Dnnl.desc(dst, dnnl_nhwc));
        srcToNhwc = Dnnl.reorder(srcNchw.md, srcNhwc.md);
        dstToNhwc = Dnnl.reorder(dstNchw.md, dstNhwc.md);
    }

    /** One call without keeping anything (tests): see {@link #compute(INDArray, INDArray, INDArray, INDArray)}. */
    static void compute(INDArray x, INDArray dz, int[] kernel, long[] strides, long[] pad, INDArray weightGrad,
                        INDArray biasGrad) {
        new DepthwiseWeightGradient(x.shape(), dz.shape(), kernel, strides, pad).compute(x, dz, weightGrad, biasGrad);
    }

    /**
     * Writes the weight gradient into {@code weightGrad} (DL4J's depthwise layout {@code [kH, kW, channels, multiplier]},
     * contiguous) and, when {@code biasGrad} is not null, the bias gradient (one value per output channel); {@code x} is
     * the layer's input and {@code dz} the gradient at the convolution's output, both contiguous NCHW float32 of the
     * shapes this object was made for.
     */
    void compute(INDArray x, INDArray dz, INDArray weightGrad, INDArray biasGrad) {
        int outChannels = Math.toIntExact(dst[1]);
        if (!Arrays.equals(x.shape(), src) || !Arrays.equals(dz.shape(), dst)
                || weightGrad.length() != (long) kh * kw * outChannels || (biasGrad != null && biasGrad.length() != outChannels)
                || !Dnnl.plain(weightGrad) || (biasGrad != null && !Dnnl.plain(biasGrad))) {
            throw new IllegalArgumentException("a depthwise weight gradient for input " + Arrays.toString(src) + " and output "
                    + Arrays.toString(dst) + " got input " + Arrays.toString(x.shape()) + ", output gradient "
                    + Arrays.toString(dz.shape()) + ", a weight gradient of " + weightGrad.length() + " values");
        }
        FloatBuffer xs = channelsLast(srcToNhwc, x, srcNchw.point(x), srcNhwc, "src");
        FloatBuffer zs = channelsLast(dstToNhwc, dz, dstNchw.point(dz), dstNhwc, "diff_dst");
        int n = Math.toIntExact(src[0]);
        int parts = Math.max(1, Math.min(n, Runtime.getRuntime().availableProcessors()));
        double[][] weightSums = new double[parts][];
        double[][] biasSums = new double[parts][];
        IntStream.range(0, parts).parallel().forEach(p -> {
            Worker w = new Worker();
            for (int e = p * n / parts; e < (p + 1) * n / parts; e++) {
                w.add(xs, zs, e, biasGrad != null);
            }
            weightSums[p] = w.weightTotal;
            biasSums[p] = w.biasTotal;
        });
        float[] weights = new float[kh * kw * outChannels];
        for (int i = 0; i < weights.length; i++) {
            double t = 0;
            for (double[] s : weightSums) {
                t += s[i];
            }
            weights[i] = (float) t;
        }
        SmallDenseLayer.write(weightGrad, weights);
        if (biasGrad != null) {
            float[] bias = new float[outChannels];
            for (int o = 0; o < outChannels; o++) {
                double t = 0;
                for (double[] s : biasSums) {
                    t += s[o];
                }
                bias[o] = (float) t;
            }
            SmallDenseLayer.write(biasGrad, bias);
        }
    }

    /**
     * {@code a} (NCHW, {@code nchw} pointed at it) reordered to channels-last in this thread's working buffer for {@code
     * role}, as floats; {@code a}'s own floats where both layouts are the same bytes (one channel, or 1x1 planes).
     */
    private static FloatBuffer channelsLast(Primitive reorder, INDArray a, Memory nchw, Memory nhwc, String role) {
        if (reorder == null) {
            return floats(a);
        }
        long bytes = org.bytedeco.dnnl.global.dnnl.dnnl_memory_desc_get_size(nhwc.md);
        Pointer buffer = Dnnl.Scratch.get(role, bytes);
        Dnnl.reorder(reorder, nchw, nhwc.scratch(role));
        return new FloatPointer(buffer).position(0).capacity(bytes / 4).limit(bytes / 4).asBuffer();
    }

    private static FloatBuffer floats(INDArray a) {
        return a.data().asNioFloat().position((int) a.offset()).slice();
    }

    /**
     * One thread's buffers: an example's input and output gradient (channels-last, one array per position), its sums (one
     * array per tap), and the running totals. One array per row, not one flat array with offsets: the JIT of JDK 17
     * vectorises {@code acc[i] += a[i] * b[i]} over separate arrays, but not the same loop with a different offset into
     * each of three float arrays (it cannot tell they do not overlap): 8.6 against 1.0 GMAC/s on one core.
     */
    private final class Worker {
        final int c = Math.toIntExact(src[1]);
        final int h = Math.toIntExact(src[2]);
        final int w = Math.toIntExact(src[3]);
        final int oc = Math.toIntExact(dst[1]);
        final int oh = Math.toIntExact(dst[2]);
        final int ow = Math.toIntExact(dst[3]);
        final int multiplier = oc / c;
        final float[] inputRow = new float[c];
        /** Per input position, its channels (each repeated {@code multiplier} times). */
        final float[][] input = new float[h * w][oc];
        final float[][] grad = new float[oh * ow][oc];
        final float[][] sums = new float[kh * kw][oc];
        final float[] biasSums = new float[oc];
        final double[] weightTotal = new double[kh * kw * oc];
        final double[] biasTotal = new double[oc];

        void add(FloatBuffer xs, FloatBuffer zs, int example, boolean bias) {
            long at = (long) example * h * w * c;
            for (int i = 0; i < input.length; i++, at += c) {
                if (multiplier == 1) {
                    xs.get(Math.toIntExact(at), input[i]);
                } else {
                    xs.get(Math.toIntExact(at), inputRow);
                    for (int k = 0, o = 0; k < c; k++) {
                        for (int j = 0; j < multiplier; j++) {
                            input[i][o++] = inputRow[k];
                        }
                    }
                }
            }
            at = (long) example * oh * ow * oc;
            for (int i = 0; i < grad.length; i++, at += oc) {
                zs.get(Math.toIntExact(at), grad[i]);
            }
            for (float[] s : sums) {
                Arrays.fill(s, 0f);
            }
            for (int r = 0; r < oh; r++) {
                for (int q = 0; q < ow; q++) {
                    float[] g = grad[r * ow + q];
                    for (int a = 0; a < kh; a++) {
                        int row = r * sh + a - top;
                        if (row < 0 || row >= h) {
                            continue;
                        }
                        for (int b = 0; b < kw; b++) {
                            int col = q * sw + b - left;
                            if (col >= 0 && col < w) {
                                multiplyAdd(sums[a * kw + b], input[row * w + col], g, oc);
                            }
                        }
                    }
                }
            }
            for (int t = 0; t < sums.length; t++) {
                for (int o = 0; o < oc; o++) {
                    weightTotal[t * oc + o] += sums[t][o];
                }
            }
            if (bias) {
                Arrays.fill(biasSums, 0f);
                for (float[] g : grad) {
                    addInto(biasSums, g, oc);
                }
                for (int o = 0; o < oc; o++) {
                    biasTotal[o] += biasSums[o];
                }
            }
        }
    }

    /** {@code acc[i] += a[i] * b[i]} for i below {@code count}: one loop the JIT vectorises. */
    private static void multiplyAdd(float[] acc, float[] a, float[] b, int count) {
        for (int i = 0; i < count; i++) {
            acc[i] += a[i] * b[i];
        }
    }

    /** {@code acc[i] += a[i]} for i below {@code count}. */
    private static void addInto(float[] acc, float[] a, int count) {
        for (int i = 0; i < count; i++) {
            acc[i] += a[i];
        }
    }
}

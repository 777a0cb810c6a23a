package org.leukolab.backend;

import static org.bytedeco.dnnl.global.dnnl.*;

import java.util.Arrays;
import java.util.Map;
import org.bytedeco.dnnl.dnnl_convolution_desc_t;
import org.bytedeco.dnnl.dnnl_eltwise_desc_t;
import org.bytedeco.dnnl.dnnl_memory_desc_t;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer.AlgoMode;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer.BwdDataAlgo;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer.BwdFilterAlgo;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer.FwdAlgo;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.convolution.ConvolutionHelper;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.leukolab.backend.Dnnl.Memory;
import org.leukolab.backend.Dnnl.Primitive;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A 2-D convolution (NCHW, float32) on oneDNN kernels called directly, for DL4J's {@code ConvolutionLayer}: the same
 * place in DL4J as its own oneDNN helper ({@code MKLDNNConvHelper}), without the work that helper adds.
 *
 * <p>DL4J's helper runs libnd4j's {@code conv2d_bp}, which (oneDNN trace of report 000's CNN, BENCHMARKS.md) always
 * computes the gradient for the layer's input, also for a network's first layer where nobody uses it (for report 000
 * a 32x3x350x350 array, computed in a blocked layout and converted back); converts the not-yet-computed input
 * gradient into oneDNN's layout before the kernel overwrites it; and converts the output gradient twice. Here the
 * backward pass converts each array at most once, and a helper made with {@code inputGradient = false} computes only
 * the weight and bias gradients and returns no input gradient (DL4J's {@code MultiLayerNetwork} and
 * {@code ComputationGraph} accept that for a layer that reads the network's input).
 *
 * <p>Primitives are made once per input shape and kept (a training run sees one or two shapes: the batch and the
 * last, smaller batch); arrays in the kernels' layouts live in working buffers shared by all layers of a thread
 * ({@code Dnnl.Scratch}), so a network holds its largest layer's buffers once rather than every layer's. Anything other than NCHW float32 returns null, which makes DL4J use its
 * built-in code for that call. Like every kernel {@link OneDnnLayers} installs, this one is checked against a float64
 * computation on a real batch before it is used.
 */
public class OneDnnConvolution implements ConvolutionHelper {
    private static final int MAX_PLANS = 4;
    /**
     * Environment variable: {@code blocked} lets oneDNN choose the layout of a 1x1 convolution's activations as for every
     * other convolution (its blocked layout, converted to and from NCHW at each call), {@code plain} (the default) keeps
     * them in DL4J's NCHW.
     */
    public static final String POINTWISE_ENV = "LEUKOLAB_POINTWISE_LAYOUT";
    private static final boolean POINTWISE_PLAIN = !"blocked".equalsIgnoreCase(System.getenv(POINTWISE_ENV));
    /**
     * Environment variable choosing who computes a depthwise convolution's weight gradient: {@code auto} (the default)
     * leukolab's Java code ({@link DepthwiseWeightGradient}) where oneDNN has no depthwise kernel for it (kernels wider
     * than 3: oneDNN falls back to a per-channel GEMM), oneDNN elsewhere; {@code onednn} always oneDNN (for A/B runs);
     * {@code java} the Java code for every depthwise convolution (for comparisons).
     */
    public static final String DEPTHWISE_GRADIENT_ENV = "LEUKOLAB_DEPTHWISE_GRADIENT";
    private static final String DEPTHWISE_GRADIENT = System.getenv().getOrDefault(DEPTHWISE_GRADIENT_ENV, "auto").toLowerCase();
    private final boolean pointwisePlain;
    private final boolean inputGradient;
    private final boolean relu;
    /** The element-wise function computed inside the kernel after the convolution (null: none). */
    private final Dnnl.Eltwise post;
    /**
     * The weights handed in never change (a folded, frozen convolution's: {@link InferenceFusion}): they are converted to
     * a kernel's layout once and that copy is kept, shared by the plans that use the same layout ({@link KeptWeights}).
     */
    private final boolean constantWeights;
    /** The constant weights in the kernels' layouts, shared by this layer's plans (see {@link KeptWeights}). */
    private final KeptWeights keptWeights = new KeptWeights();
    private final Map<String, Plan> plans = Dnnl.recentlyUsed(MAX_PLANS);

    /**
     * @param inputGradient whether the backward pass computes the gradient for the layer's input; false only for a
     *                      layer whose input is the network's input (nothing upstream needs it)
     */
    public OneDnnConvolution(boolean inputGradient) {
        this(inputGradient, false);
    }

    /**
     * @param inputGradient as {@link #OneDnnConvolution(boolean)}
     * @param relu          the layer's activation is a plain ReLU ({@link #plainRelu}) and is computed inside the
     *                      convolution kernel: {@link #preOutput} returns the rectified output and {@link #activate}
     *                      hands it back as it is. DL4J's backward pass then takes the ReLU's derivative at the
     *                      rectified output, which is the same (positive exactly where the pre-activation is).
     */
    public OneDnnConvolution(boolean inputGradient, boolean relu) {
        this(inputGradient, relu, POINTWISE_PLAIN);
    }

    /**
     * @param pointwisePlain a 1x1 convolution (stride 1, no padding) reads and writes NCHW as it is (oneDNN's GEMM
     *                       kernels), without converting its activations to and from a blocked layout; a speed choice,
     *                       the same values (default: {@value #POINTWISE_ENV})
     */
    OneDnnConvolution(boolean inputGradient, boolean relu, boolean pointwisePlain) {
        this.inputGradient = inputGradient;
        this.relu = relu;
        this.pointwisePlain = pointwisePlain;
        this.post = relu ? Dnnl.Eltwise.RELU : null;
        this.constantWeights = false;
    }

    /**
     * An inference-only kernel for {@link InferenceFusion}: {@code post} (null: none) is computed inside the kernel, and
     * the weights handed to {@link #fusedForward} are taken to be the same array every call (converted once per layout).
     */
    OneDnnConvolution(Dnnl.Eltwise post) {
        this.inputGradient = false;
        this.relu = false;
        // blocked even for 1x1: inference-only, the weights converted once; MobileNetV2 0.5's fused pass at 96x96 took
        // 30 ms a batch with oneDNN's blocked 1x1 kernels against 68 ms with its GEMM kernels on NCHW (Xeon, 2026-12-07)
        this.pointwisePlain = false;
        this.post = post;
        this.constantWeights = true;
    }

    /** DL4J's ReLU with its defaults (no cap, threshold 0, no negative slope): the activation the kernel can fuse. */
    public static boolean plainRelu(IActivation a) {
        return a instanceof ActivationReLU && a.equals(new ActivationReLU());
    }

    /** Whether the layer's ReLU is computed inside the convolution kernel. */
    public boolean fusedRelu() {
        return relu;
    }

    public boolean inputGradient() {
        return inputGradient;
    }

    @Override
    public boolean checkSupported() {
        return true;
    }

    @Override
    public INDArray preOutput(INDArray input, INDArray weights, INDArray bias, int[] kernel, int[] strides, int[] pad,
                              AlgoMode mode, FwdAlgo fwdAlgo, ConvolutionMode convolutionMode, int[] dilation,
                              CNN2DFormat format, LayerWorkspaceMgr mgr) {
        return forward(plan(input, weights, bias, kernel, strides, pad, convolutionMode, dilation, format), input, weights,
                bias, mgr);
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray input, INDArray weights, INDArray bias, INDArray delta,
                                                     int[] kernel, int[] strides, int[] pad, INDArray biasGradView,
                                                     INDArray weightGradView, IActivation afn, AlgoMode mode,
                                                     BwdFilterAlgo bwdFilterAlgo, BwdDataAlgo bwdDataAlgo,
                                                     ConvolutionMode convolutionMode, int[] dilation, CNN2DFormat format,
                                                     LayerWorkspaceMgr mgr) {
        Plan p = plan(input, weights, bias, kernel, strides, pad, convolutionMode, dilation, format);
        if (p == null || !Dnnl.plain(weightGradView) || (bias != null && !Dnnl.plain(biasGradView))) {
            return null;
        }
        INDArray x = plain(input);
        INDArray dz = plain(delta);
        p.backwardWeights(x, dz, weightGradView, bias == null ? null : biasGradView);
        INDArray dx = null;
        if (inputGradient) {
            dx = mgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT, input.shape());
            p.backwardData(plain(weights), dz, dx);
        }
        Gradient g = new DefaultGradient();
        if (bias != null) {
            g.gradientForVariable().put("b", biasGradView);
        }
        g.gradientForVariable().put("W", weightGradView);
        return new Pair<>(g, dx);
    }

    /**
     * A depthwise convolution's output (DL4J's {@code DepthwiseConvolution2D}: weights {@code [kH, kW, channels,
     * multiplier]}, output channel {@code c * multiplier + j} from input channel {@code c}), before the activation; null
     * for anything but NCHW float32 (DL4J's own code then runs). Used by {@link DepthwiseConvolutionLayer}.
     */
    public INDArray depthwiseForward(INDArray input, INDArray weights, INDArray bias, int[] kernel, int[] strides, int[] pad,
                                     ConvolutionMode convolutionMode, int[] dilation, CNN2DFormat format, LayerWorkspaceMgr mgr) {
        if (relu) {
            throw new IllegalStateException("a depthwise convolution's kernel computes no ReLU");
        }
        return forward(depthwisePlan(input, weights, bias, kernel, strides, pad, convolutionMode, dilation, format), input,
                weights, bias, mgr);
    }

    /**
     * A depthwise convolution's backward pass from {@code delta} (the gradient at its pre-activation output): writes the
     * weight and bias gradients into the views and returns the input gradient, or null (nothing written) where
     * {@link #depthwiseForward} would return null.
     */
    public INDArray depthwiseBackward(INDArray input, INDArray weights, INDArray bias, INDArray delta, int[] kernel,
                                      int[] strides, int[] pad, INDArray biasGradView, INDArray weightGradView,
                                      ConvolutionMode convolutionMode, int[] dilation, CNN2DFormat format, LayerWorkspaceMgr mgr) {
        Plan p = depthwisePlan(input, weights, bias, kernel, strides, pad, convolutionMode, dilation, format);
        if (p == null || !Dnnl.plain(weightGradView) || (bias != null && !Dnnl.plain(biasGradView))
                || !Arrays.equals(delta.shape(), p.dst)) {
            return null;
        }
        INDArray dz = plain(delta);
        if (p.javaDepthwiseWeights()) {
            p.javaGradient().compute(plain(input), dz, weightGradView, bias == null ? null : biasGradView);
        } else {
            p.backwardWeights(plain(input), dz, weightGradView, bias == null ? null : biasGradView);
        }
        INDArray dx = mgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT, input.shape());
        p.backwardData(plain(weights), dz, dx);
        return dx;
    }

    @Override
    public INDArray activate(INDArray z, IActivation afn, boolean training) {
        if (!relu) {
            return afn.getActivation(z, training);
        }
        if (!plainRelu(afn)) {
            throw new IllegalStateException("this convolution kernel computes a ReLU, but the layer's activation is " + afn);
        }
        return z; // rectified by the kernel already
    }

    /**
     * The gradient at a ReLU's input from the gradient at its output: {@code out} = {@code eps} where {@code rectified}
     * (the ReLU's output) is positive, else 0; the same as DL4J's {@code ActivationReLU.backprop} at the rectified output
     * (positive exactly where the pre-activation is), in one vectorised oneDNN pass (DL4J's runs a per-element
     * {@code std::function} in libnd4j, 8% of report 000's training step in a {@code perf} profile). All three arrays
     * are contiguous float32 of one shape; {@code out} may be {@code eps}.
     */
    public void reluBackward(INDArray rectified, INDArray eps, INDArray out) {
        long n = rectified.length();
        if (!Dnnl.plain(rectified) || !Dnnl.plain(eps) || !Dnnl.plain(out) || eps.length() != n || out.length() != n) {
            throw new IllegalArgumentException("reluBackward needs three contiguous float32 arrays of one size, got "
                    + rectified.shapeInfoToString() + ", " + eps.shapeInfoToString() + ", " + out.shapeInfoToString());
        }
        ReluBackward r;
        synchronized (reluPlans) {
            r = reluPlans.computeIfAbsent(n, ReluBackward::new);
        }
        r.run(rectified, eps, out);
    }

    private final Map<Long, ReluBackward> reluPlans = Dnnl.recentlyUsed(MAX_PLANS);

    /** oneDNN's ReLU backward (computed from the ReLU's output) over a flat array of one length. */
    private static final class ReluBackward {
        final Primitive bwd;
        final Memory dst;
        final Memory diffDst;
        final Memory diffSrc;

        ReluBackward(long n) {
            long[] dims = {n};
            dnnl_eltwise_desc_t fd = new dnnl_eltwise_desc_t();
            Dnnl.check(dnnl_eltwise_forward_desc_init(fd, dnnl_forward_training, dnnl_eltwise_relu_use_dst_for_bwd,
                    Dnnl.desc(dims, dnnl_a), 0f, 0f), "describe a ReLU");
            Primitive hint = Dnnl.primitive(fd, null, "a ReLU");
            dnnl_eltwise_desc_t bd = new dnnl_eltwise_desc_t();
            Dnnl.check(dnnl_eltwise_backward_desc_init(bd, dnnl_eltwise_relu_use_dst_for_bwd, Dnnl.desc(dims, dnnl_a),
                    Dnnl.desc(dims, dnnl_a), 0f, 0f), "describe a ReLU's gradient");
            bwd = Dnnl.primitive(bd, hint, "a ReLU's gradient");
            dst = Dnnl.wrapper(Dnnl.desc(dims, dnnl_a));
            diffDst = Dnnl.wrapper(Dnnl.desc(dims, dnnl_a));
            diffSrc = Dnnl.wrapper(Dnnl.desc(dims, dnnl_a));
        }

        synchronized void run(INDArray rectified, INDArray eps, INDArray out) {
            bwd.execute(DNNL_ARG_DST, dst.point(rectified), DNNL_ARG_DIFF_DST, diffDst.point(eps),
                    DNNL_ARG_DIFF_SRC, diffSrc.point(out));
        }
    }

    /** Makes every plan convert the (constant) weights again on its next call: they were changed in place. */
    void forgetWeights() {
        synchronized (plans) {
            plans.values().forEach(p -> p.keptWeights = null);
            keptWeights.clear();
        }
    }

    @Override
    public Map<String, Long> helperMemoryUse() {
        return Map.of();
    }

    /** The oneDNN implementations chosen for the shapes seen so far (for logs and BENCHMARKS.md). */
    public String implementations() {
        StringBuilder b = new StringBuilder();
        synchronized (plans) {
            plans.forEach((k, p) -> b.append(k).append(": ").append(p.describe()).append('\n'));
        }
        return b.toString();
    }

    private static INDArray plain(INDArray a) {
        return Dnnl.plain(a) ? a : a.dup('c');
    }

    /** What the kernels take: NCHW float32 input and rank-4 float32 weights. */
    private static boolean nchwFloat(INDArray input, INDArray weights, CNN2DFormat format) {
        return format == CNN2DFormat.NCHW && input.rank() == 4 && input.dataType() == DataType.FLOAT
                && weights.dataType() == DataType.FLOAT && weights.rank() == 4;
    }

    /** The output of {@code p} (null if there is no plan), in an activations array of {@code mgr}. */
    private static INDArray forward(Plan p, INDArray input, INDArray weights, INDArray bias, LayerWorkspaceMgr mgr) {
        if (p == null) {
            return null;
        }
        INDArray z = mgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT, p.dst);
        p.forward(plain(input), plain(weights), bias == null ? null : plain(bias), z);
        return z;
    }

    private Plan plan(INDArray input, INDArray weights, INDArray bias, int[] kernel, int[] strides, int[] pad,
                      ConvolutionMode convolutionMode, int[] dilation, CNN2DFormat format) {
        if (!nchwFloat(input, weights, format)) {
            return null;
        }
        long[] x = input.shape();
        long[] w = weights.shape();
        if (w[1] != x[1]) {
            return null;                                   // grouped/depthwise weights: not this layer type
        }
        return plan("conv", x, w, null, w[0], bias != null, kernel, strides, pad, convolutionMode, dilation, NO_PAD);
    }

    private static final int[] NO_PAD = {0, 0, 0, 0};

    /**
     * A depthwise convolution's plan: DL4J's weights {@code [kH, kW, channels, multiplier]} are oneDNN's grouped
     * weights {@code [groups = channels, multiplier, 1, kH, kW]} read with permuted strides (no copy of DL4J's array).
     */
    private Plan depthwisePlan(INDArray input, INDArray weights, INDArray bias, int[] kernel, int[] strides, int[] pad,
                               ConvolutionMode convolutionMode, int[] dilation, CNN2DFormat format) {
        return depthwisePlan(input, weights, bias, kernel, strides, pad, convolutionMode, dilation, format, NO_PAD, "", null, false);
    }

    private Plan depthwisePlan(INDArray input, INDArray weights, INDArray bias, int[] kernel, int[] strides, int[] pad,
                               ConvolutionMode convolutionMode, int[] dilation, CNN2DFormat format, int[] zeroPad,
                               String layouts, dnnl_memory_desc_t inputLayout, boolean keepLayout) {
        if (!nchwFloat(input, weights, format)) {
            return null;
        }
        long[] x = input.shape();
        long[] w = weights.shape();
        if (w[2] != x[1] || w[0] != kernel[0] || w[1] != kernel[1]) {
            return null;
        }
        long c = w[2];
        long m = w[3];
        long[] grouped = {c, m, 1, w[0], w[1]};
        long[] byStrides = {m, 1, w[0] * w[1] * c * m, w[1] * c * m, c * m};
        return plan(layouts + "depthwise", x, grouped, byStrides, c * m, bias != null, kernel, strides, pad,
                convolutionMode, dilation, zeroPad, inputLayout, keepLayout);
    }

    /**
     * The output of a convolution (or, with {@code depthwise}, a depthwise convolution in DL4J's weight layout) of
     * {@code input} after zero padding of {@code zeroPad} = {top, bottom, left, right} rows and columns (a Keras
     * {@code ZeroPadding2D} layer before it, done inside the kernel instead of by a copy), with this kernel's post-op
     * applied; null for anything but NCHW float32. Inference only: {@link InferenceFusion} calls it with its folded
     * weights, which this kernel converts to its layout once and keeps (one copy per layout, whatever the input shapes).
     * {@code inputLayout} non-null says that {@code input}'s buffer holds the output of another fused convolution in that
     * (oneDNN's blocked) layout, not NCHW; with {@code keepLayout} the result is left in this kernel's own layout
     * ({@link #lastOutputLayout}) instead of being converted to NCHW. The result is written into
     * {@code output.apply(shape, bytes)}: an array of the NCHW shape on a buffer of at least the bytes the result needs
     * (more than the shape's elements when the blocked layout pads the channels). Between two fused convolutions keeping
     * the layout saves two conversions.
     */
    INDArray fusedForward(INDArray input, dnnl_memory_desc_t inputLayout, boolean keepLayout, INDArray weights, INDArray bias,
                          boolean depthwise, int[] kernel, int[] strides, int[] pad, ConvolutionMode convolutionMode,
                          int[] dilation, int[] zeroPad, java.util.function.BiFunction<long[], Long, INDArray> output) {
        Plan p;
        String layouts = (inputLayout == null ? "" : "blocked-in ") + (keepLayout ? "blocked-out " : "");
        if (depthwise) {
            p = depthwisePlan(input, weights, bias, kernel, strides, pad, convolutionMode, dilation, CNN2DFormat.NCHW, zeroPad,
                    layouts, inputLayout, keepLayout);
        } else if (!nchwFloat(input, weights, CNN2DFormat.NCHW) || weights.size(1) != input.size(1)) {
            p = null;
        } else {
            long[] w = weights.shape();
            p = plan(layouts + "conv", input.shape(), w, null, w[0], bias != null, kernel, strides, pad, convolutionMode,
                    dilation, zeroPad, inputLayout, keepLayout);
        }
        if (p == null) {
            return null;
        }
        if (inputLayout != null && !Dnnl.same(inputLayout, p.srcF.user.md)) {
            throw new IllegalStateException("a fused convolution's input came in another layout than its plan was made for");
        }
        INDArray z = output.apply(p.dst, dnnl_memory_desc_get_size(p.dstF.user.md));
        p.forward(plain(input), plain(weights), bias == null ? null : plain(bias), z);
        lastOutputLayout = keepLayout ? p.dstF.user.md : null;
        return z;
    }

    /** The layout of the last {@link #fusedForward} result left in the kernel's own layout (null: it was NCHW). */
    private dnnl_memory_desc_t lastOutputLayout;

    dnnl_memory_desc_t lastOutputLayout() {
        return lastOutputLayout;
    }

    /** The conversions {@link #toNchw} made, per output shape (each a reorder and its two memory objects, made once). */
    private final Map<String, Memory[]> conversions = Dnnl.recentlyUsed(MAX_PLANS);
    private final Map<String, Primitive> conversionReorders = Dnnl.recentlyUsed(MAX_PLANS);

    /**
     * Converts {@code blocked}, a result this kernel left in layout {@code layout} ({@link #lastOutputLayout}), into
     * {@code nchw} (a contiguous float32 array of the same NCHW shape).
     */
    void toNchw(INDArray blocked, dnnl_memory_desc_t layout, INDArray nchw) {
        if (Dnnl.same(layout, Dnnl.desc(nchw.shape(), dnnl_nchw))) { // the kernel chose NCHW itself: a plain copy
            nchw.assign(blocked);
            return;
        }
        String key = Arrays.toString(nchw.shape());
        synchronized (conversions) {
            Memory[] m = conversions.get(key);
            Primitive r = conversionReorders.get(key);
            if (m == null || r == null || !Dnnl.same(m[0].md, layout)) {
                dnnl_memory_desc_t plain = Dnnl.desc(nchw.shape(), dnnl_nchw);
                m = new Memory[] {Dnnl.wrapper(layout), Dnnl.wrapper(plain)};
                r = Dnnl.reorder(layout, plain);
                conversions.put(key, m);
                conversionReorders.put(key, r);
            }
            Dnnl.reorder(r, m[0].point(blocked), m[1].point(nchw));
        }
    }

    /**
     * The plan for weights of oneDNN's dims {@code wei} (grouped if five), held by DL4J in oihw order or, given
     * {@code weiStrides}, with those strides; {@code zeroPad} rows and columns {top, bottom, left, right} of zeros
     * added around the input first. Null for a shape it cannot take.
     */
    private Plan plan(String kind, long[] x, long[] wei, long[] weiStrides, long outChannels, boolean hasBias,
                      int[] kernel, int[] strides, int[] pad, ConvolutionMode convolutionMode, int[] dilation,
                      int[] zeroPad) {
        return plan(kind, x, wei, weiStrides, outChannels, hasBias, kernel, strides, pad, convolutionMode, dilation, zeroPad,
                null, false);
    }

    /**
     * As above; {@code inputLayout} (null: NCHW) is the layout the input arrives in, and {@code keepLayout} leaves the
     * output in the kernel's layout (both part of {@code kind}, which keys the plan).
     */
    private Plan plan(String kind, long[] x, long[] wei, long[] weiStrides, long outChannels, boolean hasBias,
                      int[] kernel, int[] strides, int[] pad, ConvolutionMode convolutionMode, int[] dilation,
                      int[] zeroPad, dnnl_memory_desc_t inputLayout, boolean keepLayout) {
        long[] out = new long[2];
        long[] padL = new long[2];
        long[] padR = new long[2];
        for (int d = 0; d < 2; d++) {
            long before = zeroPad[2 * d];
            long after = zeroPad[2 * d + 1];
            long in = x[2 + d] + before + after;
            long k = (kernel[d] - 1L) * dilation[d] + 1;
            long s = strides[d];
            if (convolutionMode == ConvolutionMode.Same) {
                out[d] = (in + s - 1) / s;
                long total = Math.max(0, (out[d] - 1) * s + k - in);
                padL[d] = total / 2;
                padR[d] = total - padL[d];
            } else {
                padL[d] = pad[d];
                out[d] = (in + 2L * pad[d] - k) / s + 1;
                padR[d] = Math.max(0, (out[d] - 1) * s + k - in - pad[d]);
                if ((in - k + padL[d] + padR[d]) / s + 1 != out[d]) {
                    return null;
                }
            }
            if (out[d] <= 0) {
                return null;
            }
            padL[d] += before;
            padR[d] += after;
        }
        String key = kind + Arrays.toString(x) + Arrays.toString(wei) + hasBias + Arrays.toString(strides)
                + Arrays.toString(padL) + Arrays.toString(padR) + Arrays.toString(dilation);
        synchronized (plans) {
            Plan p = plans.get(key);
            if (p == null) {
                p = new Plan(x, wei, weiStrides == null ? Dnnl.desc(wei, dnnl_oihw) : Dnnl.desc(wei, weiStrides), outChannels, hasBias, new long[] {strides[0], strides[1]},
                        new long[] {dilation[0] - 1L, dilation[1] - 1L}, padL, padR, out, post, pointwisePlain,
                        constantWeights ? keptWeights : null, inputLayout, keepLayout);
                plans.put(key, p);
            }
            return p;
        }
    }

    /** Everything oneDNN needs for one shape: primitives, layouts, the reorders between ND4J's NCHW and the kernels'. */
    private static final class Plan {
        final long[] src;
        final long[] wei;
        final long[] dst;
        final long[] biasDims;
        final long[] strides;
        final long[] dilation;
        final long[] padL;
        final long[] padR;
        final boolean hasBias;
        // forward
        final Primitive fwd;
        final Port srcF;
        final Port weiF;
        final Port dstF;
        final Memory biasUser;
        // backward, made on first use
        Primitive bwdW;
        Port srcW;
        Port diffDstW;
        Port diffWei;
        Memory diffBias;
        Primitive bwdD;
        Port weiD;
        Port diffDstD;
        Port diffSrc;

        final boolean plainActivations;
        /** The weights as DL4J holds them (oihw, or a depthwise layer's permuted layout). */
        final dnnl_memory_desc_t userWei;

        Plan(long[] src, long[] wei, dnnl_memory_desc_t userWei, long outChannels, boolean hasBias, long[] strides,
             long[] dilation, long[] padL, long[] padR, long[] out, Dnnl.Eltwise post, boolean pointwisePlain,
             KeptWeights kept, dnnl_memory_desc_t inputLayout, boolean keepLayout) {
            this.src = src;
            this.wei = wei;
            this.userWei = userWei;
            this.plainActivations = pointwisePlain && wei.length == 4 && wei[2] == 1 && wei[3] == 1 && strides[0] == 1 && strides[1] == 1
                    && padL[0] == 0 && padL[1] == 0 && padR[0] == 0 && padR[1] == 0;
            this.dst = new long[] {src[0], outChannels, out[0], out[1]};
            this.biasDims = new long[] {outChannels};
            this.hasBias = hasBias;
            this.strides = strides;
            this.dilation = dilation;
            this.padL = padL;
            this.padR = padR;
            dnnl_convolution_desc_t cd = new dnnl_convolution_desc_t();
            Dnnl.check(dnnl_dilated_convolution_forward_desc_init(cd, dnnl_forward_training, dnnl_convolution_direct,
                    act(src), any(wei), hasBias ? Dnnl.desc(biasDims, dnnl_x) : null, act(dst), strides, dilation, padL, padR),
                    "describe a convolution " + Arrays.toString(src) + " * " + Arrays.toString(wei));
            fwd = Dnnl.primitive(cd, null, post, post == null ? "a forward convolution" : "a forward convolution with " + post.name());
            srcF = Port.in(inputLayout != null ? inputLayout : Dnnl.desc(src, dnnl_nchw), fwd.md(dnnl_query_src_md), "src");
            weiF = Port.in(userWei, fwd.md(dnnl_query_weights_md), "weights");
            dstF = Port.out(fwd.md(dnnl_query_dst_md), keepLayout ? fwd.md(dnnl_query_dst_md) : Dnnl.desc(dst, dnnl_nchw), "dst");
            biasUser = hasBias ? Dnnl.wrapper(Dnnl.desc(biasDims, dnnl_x)) : null;
            this.kept = kept;
        }

        /** Where weights that never change are kept in the kernel's layout (null: the weights may change every call). */
        final KeptWeights kept;
        Memory keptWeights;

        private Memory weights(INDArray w) {
            if (kept == null || weiF.reorder == null) {
                return weiF.load(w); // the kernel reads the array itself when it needs no conversion
            }
            if (keptWeights == null) {
                keptWeights = kept.get(weiF.kernel.md, () -> {
                    Memory m = Dnnl.owned(weiF.kernel.md);
                    Dnnl.reorder(weiF.reorder, Dnnl.wrapper(userWei).point(w), m);
                    return m;
                });
            }
            return keptWeights;
        }

        /** Layout of the activations (source, output and their gradients): the kernel's choice, or plain NCHW. */
        private dnnl_memory_desc_t act(long[] dims) {
            return plainActivations ? Dnnl.desc(dims, dnnl_nchw) : any(dims);
        }

        private static dnnl_memory_desc_t any(long[] dims) {
            return Dnnl.desc(dims, dnnl_format_tag_any);
        }

        void forward(INDArray x, INDArray w, INDArray b, INDArray z) {
            Memory s = srcF.load(x);
            Memory k = weights(w);
            Memory d = dstF.target(z);
            if (hasBias) {
                fwd.execute(DNNL_ARG_SRC, s, DNNL_ARG_WEIGHTS, k, DNNL_ARG_BIAS, biasUser.point(b), DNNL_ARG_DST, d);
            } else {
                fwd.execute(DNNL_ARG_SRC, s, DNNL_ARG_WEIGHTS, k, DNNL_ARG_DST, d);
            }
            dstF.store(z);
        }

        /** Whether the Java code computes this (depthwise) convolution's weight gradient ({@link #DEPTHWISE_GRADIENT_ENV}). */
        Boolean javaWeights;

        boolean javaDepthwiseWeights() {
            if (javaWeights == null) {
                boolean dilated = dilation[0] != 0 || dilation[1] != 0;
                if (wei.length != 5 || wei[2] != 1 || dilated || DEPTHWISE_GRADIENT.equals("onednn")) {
                    javaWeights = false;
                } else if (DEPTHWISE_GRADIENT.equals("java")) {
                    javaWeights = true;
                } else {
                    prepareBackwardWeights();
                    javaWeights = !bwdW.implementation().contains("dw");
                }
            }
            return javaWeights;
        }

        private DepthwiseWeightGradient javaGradient;

        /** The Java weight gradient of this depthwise convolution, made on first use. */
        DepthwiseWeightGradient javaGradient() {
            if (javaGradient == null) {
                javaGradient = new DepthwiseWeightGradient(src, dst, new int[] {(int) wei[3], (int) wei[4]}, strides, padL);
            }
            return javaGradient;
        }

        private void prepareBackwardWeights() {
            if (bwdW == null) {
                dnnl_convolution_desc_t cd = new dnnl_convolution_desc_t();
                Dnnl.check(dnnl_dilated_convolution_backward_weights_desc_init(cd, dnnl_convolution_direct, act(src), any(wei),
                        hasBias ? Dnnl.desc(biasDims, dnnl_x) : null, act(dst), strides, dilation, padL, padR),
                        "describe a convolution's weight gradient");
                bwdW = Dnnl.primitive(cd, fwd, "a convolution's weight gradient");
                srcW = Port.in(Dnnl.desc(src, dnnl_nchw), bwdW.md(dnnl_query_src_md), "src");
                diffDstW = Port.in(Dnnl.desc(dst, dnnl_nchw), bwdW.md(dnnl_query_diff_dst_md), "diff_dst");
                diffWei = Port.out(bwdW.md(dnnl_query_diff_weights_md), userWei, "diff_weights");
                diffBias = hasBias ? Dnnl.wrapper(Dnnl.desc(biasDims, dnnl_x)) : null;
            }
        }

        void backwardWeights(INDArray x, INDArray dz, INDArray dw, INDArray db) {
            prepareBackwardWeights();
            Memory s = srcW.load(x);
            Memory g = diffDstW.load(dz);
            Memory k = diffWei.target(dw);
            if (hasBias) {
                bwdW.execute(DNNL_ARG_SRC, s, DNNL_ARG_DIFF_DST, g, DNNL_ARG_DIFF_WEIGHTS, k, DNNL_ARG_DIFF_BIAS, diffBias.point(db));
            } else {
                bwdW.execute(DNNL_ARG_SRC, s, DNNL_ARG_DIFF_DST, g, DNNL_ARG_DIFF_WEIGHTS, k);
            }
            diffWei.store(dw);
        }

        void backwardData(INDArray w, INDArray dz, INDArray dx) {
            if (bwdD == null) {
                dnnl_convolution_desc_t cd = new dnnl_convolution_desc_t();
                Dnnl.check(dnnl_dilated_convolution_backward_data_desc_init(cd, dnnl_convolution_direct, act(src), any(wei), act(dst),
                        strides, dilation, padL, padR), "describe a convolution's input gradient");
                bwdD = Dnnl.primitive(cd, fwd, "a convolution's input gradient");
                weiD = Port.in(userWei, bwdD.md(dnnl_query_weights_md), "weights");
                diffDstD = Dnnl.same(bwdD.md(dnnl_query_diff_dst_md), diffDstW == null ? null : diffDstW.kernel.md)
                        ? diffDstW : Port.in(Dnnl.desc(dst, dnnl_nchw), bwdD.md(dnnl_query_diff_dst_md), "diff_dst");
                diffSrc = Port.out(bwdD.md(dnnl_query_diff_src_md), Dnnl.desc(src, dnnl_nchw), "diff_src");
            }
            // the output gradient is already in the kernel's layout if the weight-gradient pass converted it just before
            // (not when the Java code computed the weight gradient: then nothing converted it)
            boolean converted = diffDstD == diffDstW && diffDstW != null && !Boolean.TRUE.equals(javaWeights);
            Memory g = converted ? diffDstW.current() : diffDstD.load(dz);
            Memory k = weiD.load(w);
            Memory d = diffSrc.target(dx);
            bwdD.execute(DNNL_ARG_DIFF_DST, g, DNNL_ARG_WEIGHTS, k, DNNL_ARG_DIFF_SRC, d);
            diffSrc.store(dx);
        }

        String describe() {
            return "forward " + fwd.implementation()
                    + (Boolean.TRUE.equals(javaWeights) ? ", weight gradient leukolab-java"
                            : bwdW == null ? "" : ", weight gradient " + bwdW.implementation())
                    + (bwdD == null ? "" : ", input gradient " + bwdD.implementation());
        }
    }

    /**
     * A frozen layer's weights converted to its kernels' layouts, one copy per layout, shared by the layer's plans. Every
     * input shape gets its own plan (the check's two examples, the batch, the last smaller batch), and oneDNN nearly
     * always picks the same weight layout for all of them: one copy then serves every plan instead of one per plan
     * (EfficientNetV2L at 96x96: 471 MB of weights, once more for each shape).
     */
    static final class KeptWeights {
        private final java.util.List<Memory> copies = new java.util.ArrayList<>();

        /** The copy in layout {@code md}, made by {@code make} if there is none yet. */
        synchronized Memory get(dnnl_memory_desc_t md, java.util.function.Supplier<Memory> make) {
            for (Memory m : copies) {
                if (Dnnl.same(m.md, md)) {
                    return m;
                }
            }
            Memory m = make.get();
            copies.add(m);
            return m;
        }

        synchronized int size() {
            return copies.size();
        }

        /** Forgets every copy (the weights changed); they are made again on the next call. */
        synchronized void clear() {
            copies.clear();
        }
    }

    /** How many copies of constant weights this layer keeps in its kernels' layouts (tests). */
    int keptWeightCopies() {
        return keptWeights.size();
    }

    /**
     * One array's way between ND4J (plain NCHW/OIHW memory pointed at the array) and a kernel (its chosen layout): a
     * reorder through this thread's working buffer for the port's role when the layouts differ ({@link Dnnl.Scratch}:
     * shared by all layers, valid only until the next call that uses the same role), else the array's own memory.
     */
    private static final class Port {
        final Memory user;
        final Memory kernel;
        final Primitive reorder;
        final String role;

        private Port(dnnl_memory_desc_t userMd, dnnl_memory_desc_t kernelMd, boolean input, String role) {
            this.role = role;
            this.user = Dnnl.wrapper(userMd);
            this.reorder = input ? Dnnl.reorder(userMd, kernelMd) : Dnnl.reorder(kernelMd, userMd);
            this.kernel = reorder == null ? user : Dnnl.wrapper(kernelMd);
        }

        static Port in(dnnl_memory_desc_t user, dnnl_memory_desc_t kernel, String role) {
            return new Port(user, kernel, true, role);
        }

        static Port out(dnnl_memory_desc_t kernel, dnnl_memory_desc_t user, String role) {
            return new Port(user, kernel, false, role);
        }

        /** Input: the array in the kernel's layout. */
        Memory load(INDArray a) {
            user.point(a);
            if (reorder != null) {
                Dnnl.reorder(reorder, user, kernel.scratch(role));
            }
            return kernel;
        }

        /** The kernel-side memory as last loaded (valid until another call uses this role's buffer). */
        Memory current() {
            return kernel;
        }

        /** Output: where the kernel writes (the array itself when no reorder is needed). */
        Memory target(INDArray a) {
            user.point(a);
            return reorder == null ? kernel : kernel.scratch(role);
        }

        /** Output: copies the kernel's result into the array if it was written elsewhere. */
        void store(INDArray a) {
            Dnnl.reorder(reorder, kernel, user);
        }
    }
}

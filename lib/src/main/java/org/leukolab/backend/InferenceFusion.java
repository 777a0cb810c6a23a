package org.leukolab.backend;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.ConvolutionMode;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.graph.vertex.VertexIndices;
import org.deeplearning4j.nn.graph.vertex.impl.FrozenVertex;
import org.deeplearning4j.nn.graph.vertex.impl.LayerVertex;
import org.deeplearning4j.nn.layers.ActivationLayer;
import org.deeplearning4j.nn.layers.FrozenLayer;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.convolution.ZeroPaddingLayer;
import org.deeplearning4j.nn.layers.normalization.BatchNormalization;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.activations.impl.ActivationReLU;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSwish;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Inference-only fusion of a graph's frozen convolution chains: a zero padding, a convolution (plain or depthwise), the
 * batch normalisation after it and the activation after that become one oneDNN convolution, with the batch normalisation
 * folded into its weights and bias (weights times gamma / sqrt(variance + eps), bias beta - mean x that scale), the padding
 * into its own padding and the activation (ReLU, ReLU6, swish, sigmoid) into the kernel as a post-op.
 *
 * <p>Why: profiled at 96x96 (docs/speed-depthwise.md), frozen batch normalisation was 42% of MobileNetV2's inference pass
 * and 23% of EfficientNetB0's, zero padding 13% and 8%, activations 3% and 12%: each a full pass over a large activation
 * that the convolution's kernel can do on its way out (batch normalisation and padding at no cost at all).
 *
 * <p>How, without changing the network: only runtime objects change ({@link FusedLayers}); the configuration and the
 * parameters stay, so a saved or copied network is the original. The convolution computes the chain's result into
 * buffers of this fusion's own (outside DL4J's workspaces, which free a layer's output as soon as its direct consumers
 * have run); the layers after it in the chain hand that result on, and a padding hands its input on to the convolution
 * that now pads. Which buffer a chain writes is decided here from the graph's order: a buffer is reused only after every
 * reader of its last result has run. A chain's end copies the result into DL4J's memory where DL4J keeps it: an output of
 * the network, or the input of a trained layer (kept for the backward pass).
 *
 * <p>When: only on the layers a graph runs in inference mode whatever it does: all of a graph that only computes
 * features ({@link OneDnnLayers#installForInference}), the layers inside DL4J's frozen wrappers of a graph being trained
 * ({@link OneDnnLayers#installOnFrozenLayers}, which DL4J's backward pass never enters). The folded weights are computed
 * once, when the fusion is made: a graph whose frozen parameters are changed afterwards must be built again. Like every
 * leukolab kernel, the fused graph's output is checked against a float64 pass before it is kept. {@code
 * LEUKOLAB_KERNELS=unfused} keeps the separate layers (for comparisons); {@code LEUKOLAB_KERNELS=dl4j} all of DL4J's.
 * Not thread-safe (nor are DL4J's graphs).
 */
public final class InferenceFusion {
    /**
     * Trainable dense layers with at most this many weights are computed in plain Java ({@link SmallDenseLayer}): every
     * squeeze-and-excitation layer of EfficientNetB0 (at most 1,152 x 48). Larger ones (a head's 1,280 x 128) stay on
     * DL4J's BLAS products, which were as fast or faster there (MobileNetV2's head-only step).
     */
    static final int SMALL_TRAINABLE_DENSE = 1 << 16;

    /** Dense layers with at most this many weights are computed in plain Java ({@link FusedLayers.SmallDense}). */
    static final int SMALL_DENSE = 1 << 18;

    private InferenceFusion() {}

    /**
     * Environment variable: {@code nchw} converts every fused convolution's result back to NCHW, also where only fused
     * convolutions read it (for comparisons); by default such a result stays in oneDNN's layout.
     */
    public static final String LAYOUT_ENV = "LEUKOLAB_FUSED_LAYOUT";

    private static boolean keepLayouts() {
        return !"nchw".equalsIgnoreCase(System.getenv(LAYOUT_ENV));
    }

    /** Whether fusion may run: leukolab's kernels allowed and {@value OneDnnLayers#KERNELS_ENV} not {@code unfused}/{@code dl4j}. */
    static boolean enabled() {
        String k = System.getenv(OneDnnLayers.KERNELS_ENV);
        return OneDnnLayers.available() && !"unfused".equalsIgnoreCase(k) && !"dl4j".equalsIgnoreCase(k);
    }

    /** What {@link #apply} did: the chains fused, and how to put the graph back. */
    static final class Applied {
        final List<Chain> chains = new ArrayList<>();
        private final List<Runnable> undo = new ArrayList<>();
        int paddings;
        /** Chains whose result stays in oneDNN's layout for the fused convolutions reading it. */
        int keptLayouts;
        int smallDense;
        int eltwise;
        int trainableDense;

        void undo() {
            for (int i = undo.size() - 1; i >= 0; i--) {
                undo.get(i).run();
            }
            undo.clear();
            chains.clear();
        }

        boolean any() {
            return !chains.isEmpty() || smallDense > 0 || eltwise > 0 || trainableDense > 0;
        }

        /** For the log line: "52 convolution chains fused (BN folded; 35 activations; 5 paddings), 3 buffers". */
        String summary() {
            if (!any()) {
                return "";
            }
            long acts = chains.stream().filter(c -> c.activation != null).count();
            int slots = chains.stream().mapToInt(c -> c.slot).max().orElse(-1) + 1;
            String dense = smallDense == 0 ? "" : "; " + smallDense + " small dense layers in plain Java";
            dense += eltwise == 0 ? "" : "; " + eltwise + " swish/sigmoid/ReLU6 activation layers on oneDNN";
            dense += trainableDense == 0 ? "" : "; " + trainableDense + " small trainable dense layers in plain Java";
            return chains.size() + " convolution + batch-norm chains fused for inference (" + acts + " activations and "
                    + paddings + " paddings inside the convolution; " + slots + " shared buffers; " + keptLayouts
                    + " handed on in oneDNN's layout)" + dense;
        }
    }

    /** One fused chain: the folded weights and bias, the convolution's geometry, its kernel and its buffer. */
    static final class Chain {
        final String name;
        final INDArray weights;
        final INDArray bias;
        final boolean depthwise;
        final int[] kernel;
        final int[] strides;
        final int[] pad;
        final int[] dilation;
        final ConvolutionMode mode;
        final int[] zeroPad = new int[4];
        final String activation;
        final OneDnnConvolution oneDnn;
        final Buffers buffers;
        int slot;
        private final Layer conv;
        private final Layer bn;
        private final double eps;
        private final double fault;

        private Chain(String name, Layer conv, Layer bn, double eps, double fault, boolean depthwise,
                      org.deeplearning4j.nn.conf.layers.ConvolutionLayer c, Dnnl.Eltwise post, Buffers buffers) {
            this.conv = conv;
            this.bn = bn;
            this.eps = eps;
            this.fault = fault;
            INDArray[] folded = fold(conv, depthwise, c.hasBias(), bn, eps, fault);
            INDArray weights = folded[0];
            INDArray bias = folded[1];
            this.name = name;
            this.weights = weights;
            this.bias = bias;
            this.depthwise = depthwise;
            this.kernel = c.getKernelSize();
            this.strides = c.getStride();
            this.pad = c.getPadding();
            this.dilation = c.getDilation();
            this.mode = c.getConvolutionMode();
            this.activation = post == null ? null : post.name();
            this.oneDnn = new OneDnnConvolution(post);
            this.buffers = buffers;
        }

        /** Folds the convolution's and the batch norm's current parameters again (the kernel converts them again). */
        void refold() {
            INDArray[] folded = fold(conv, depthwise, hasBias(), bn, eps, fault);
            weights.assign(folded[0]);
            bias.assign(folded[1]);
            oneDnn.forgetWeights();
        }

        private boolean hasBias() {
            return ((org.deeplearning4j.nn.conf.layers.ConvolutionLayer) conv.conf().getLayer()).hasBias();
        }

        /**
         * The chain whose result this chain's convolution reads, when that result stays in oneDNN's layout (step 3b of
         * {@link #apply}: every reader of it is a fused convolution); null otherwise.
         */
        Chain from;
        /** Whether this chain leaves its result in its kernel's layout (every reader is a fused convolution). */
        boolean keepLayout;
        private long lastAddress = -1;
        private long[] lastShape;

        INDArray forward(INDArray input) {
            INDArray x = input.dataType() == DataType.FLOAT ? input : input.castTo(DataType.FLOAT);
            var inputLayout = from == null ? null : from.layoutOf(x);
            INDArray out = oneDnn.fusedForward(x, inputLayout, keepLayout, weights, bias, depthwise, kernel, strides, pad, mode,
                    dilation, zeroPad, (shape, bytes) -> buffers.array(slot, shape, bytes));
            if (out == null) {
                throw new IllegalStateException("the fused convolution " + name + " cannot take an input of shape "
                        + Arrays.toString(input.shape()) + " (NCHW float32 expected)");
            }
            lastAddress = keepLayout ? address(out) : -1;
            lastShape = out.shape();
            return out;
        }

        /**
         * The oneDNN layout {@code array} is in if it is this chain's last result left in its kernel's layout (the same
         * memory, the same shape); null if it is anything else (an NCHW array: a copy DL4J made, or another array).
         */
        org.bytedeco.dnnl.dnnl_memory_desc_t layoutOf(INDArray array) {
            return keepLayout && lastAddress >= 0 && address(array) == lastAddress && Arrays.equals(array.shape(), lastShape)
                    ? oneDnn.lastOutputLayout() : null;
        }

        /**
         * {@code array} in NCHW: itself, or, if it is this chain's result in the kernel's layout, a converted copy in
         * {@code mgr}'s activation memory (where a chain's end must copy its result: {@link FusedLayers#handOn}).
         */
        INDArray nchw(INDArray array, org.deeplearning4j.nn.workspace.LayerWorkspaceMgr mgr) {
            var layout = layoutOf(array);
            if (layout == null) {
                return mgr.dup(org.deeplearning4j.nn.workspace.ArrayType.ACTIVATIONS, array);
            }
            INDArray copy = mgr.createUninitialized(org.deeplearning4j.nn.workspace.ArrayType.ACTIVATIONS, DataType.FLOAT,
                    array.shape(), 'c');
            oneDnn.toNchw(array, layout, copy);
            return copy;
        }

        private static long address(INDArray a) {
            return a.data().address() + a.offset() * a.data().getElementSize();
        }
    }

    /** The fusion's output buffers, one per slot, grown to the largest result asked (outside DL4J's workspaces). */
    static final class Buffers {
        private final List<DataBuffer> slots = new ArrayList<>();

        /** An array of {@code shape} on slot {@code slot}'s buffer, which holds at least {@code bytes} bytes. */
        INDArray array(int slot, long[] shape, long bytes) {
            while (slots.size() <= slot) {
                slots.add(null);
            }
            long elements = 1;
            for (long d : shape) {
                elements *= d;
            }
            long n = Math.max(elements, (bytes + 3) / 4);
            DataBuffer b = slots.get(slot);
            if (b == null || b.length() < n) {
                b = Nd4j.createUninitializedDetached(DataType.FLOAT, n).data();
                slots.set(slot, b);
            }
            return Nd4j.create(b, shape, Nd4j.getStrides(shape, 'c'), 0, 'c', DataType.FLOAT);
        }

        long bytes() {
            return slots.stream().mapToLong(b -> b == null ? 0 : b.length() * 4L).sum();
        }
    }

    /** As {@link #apply(ComputationGraph, boolean, double)} without a planted fault. */
    static Applied apply(ComputationGraph graph, boolean frozenOnly) {
        return apply(graph, frozenOnly, 1.0);
    }

    /**
     * Fuses the chains of {@code graph} (only those inside frozen wrappers if {@code frozenOnly}) and puts the activation
     * and small trainable dense layers left on leukolab's kernels; {@code fault} multiplies the folded weights and those
     * layers' outputs (1: none; tests plant a wrong kernel with it). Returns what was done, with its undo.
     */
    static Applied apply(ComputationGraph graph, boolean frozenOnly, double fault) {
        Applied applied = new Applied();
        if (graph.params().dataType() != DataType.FLOAT) {
            return applied;
        }
        OneDnnLayers.useDepthwiseKernels(graph);
        GraphVertex[] vertices = graph.getVertices();
        int[] order = graph.topologicalSortOrder();
        int[] pos = new int[vertices.length];
        for (int i = 0; i < order.length; i++) {
            pos[order[i]] = i;
        }
        Set<Integer> outputs = new HashSet<>();
        for (String o : graph.getConfiguration().getNetworkOutputs()) {
            outputs.add(graph.getVertex(o).getVertexIndex());
        }
        Buffers buffers = new Buffers();

        // 1. the chains: convolution -> batch norm [-> activation], in the graph's order
        record Found(Chain chain, LayerVertex conv, LayerVertex bn, LayerVertex act, LayerVertex end) {}
        List<Found> found = new ArrayList<>();
        for (int idx : order) {
            if (!(vertices[idx] instanceof LayerVertex bn) || !eligible(bn, frozenOnly)
                    || RuntimeLayers.inner(bn).getClass() != BatchNormalization.class) {
                continue;
            }
            var bnConf = (org.deeplearning4j.nn.conf.layers.BatchNormalization) RuntimeLayers.inner(bn).conf().getLayer();
            if (bnConf.isLockGammaBeta() || bnConf.isUseLogStd() || bnConf.getCnn2DFormat() != CNN2DFormat.NCHW
                    || bn.getInputVertices().length != 1) {
                continue;
            }
            GraphVertex in = vertices[bn.getInputVertices()[0].getVertexIndex()];
            if (!(in instanceof LayerVertex conv) || !eligible(conv, frozenOnly) || outputs.contains(conv.getVertexIndex())
                    || consumers(conv).length != 1) {
                continue;
            }
            Layer convLayer = RuntimeLayers.inner(conv);
            boolean depthwise = convLayer instanceof DepthwiseConvolutionLayer;
            if (!depthwise && convLayer.getClass() != ConvolutionLayer.class) {
                continue;
            }
            var c = (org.deeplearning4j.nn.conf.layers.ConvolutionLayer) convLayer.conf().getLayer();
            if (!(c.getActivationFn() instanceof ActivationIdentity) || c.getCnn2dDataFormat() != CNN2DFormat.NCHW) {
                continue;
            }
            LayerVertex act = null;
            Dnnl.Eltwise post = null;
            int[] next = consumers(bn);
            if (next.length == 1 && !outputs.contains(bn.getVertexIndex()) && vertices[next[0]] instanceof LayerVertex a
                    && eligible(a, frozenOnly) && RuntimeLayers.inner(a).getClass() == ActivationLayer.class) {
                IActivation f = ((org.deeplearning4j.nn.conf.layers.ActivationLayer) RuntimeLayers.inner(a).conf().getLayer()).getActivationFn();
                if (f instanceof ActivationIdentity || eltwise(f) != null) {
                    act = a;
                    post = eltwise(f);
                }
            }
            Chain chain = new Chain(conv.getVertexName(), convLayer, RuntimeLayers.inner(bn), bnConf.getEps(), fault, depthwise, c,
                    post, buffers);
            found.add(new Found(chain, conv, bn, act, act == null ? bn : act));
        }
        smallDenseLayers(graph, vertices, frozenOnly, applied);
        if (found.isEmpty()) {
            otherLayers(graph, vertices, fault, applied);
            return applied;
        }

        // 2. which chain ends copy (an output of the network, or a reader that keeps its input for training)
        java.util.Map<Integer, Found> byEnd = new java.util.HashMap<>();
        java.util.Map<Integer, Boolean> copies = new java.util.HashMap<>();
        for (Found f : found) {
            int e = f.end.getVertexIndex();
            boolean copy = outputs.contains(e);
            for (int r : consumers(f.end)) {
                copy |= frozenOnly && !frozenReader(vertices[r]);
            }
            byEnd.put(e, f);
            copies.put(e, copy);
        }

        // 3. paddings between a chain's end (not copied) and the next chain's convolution
        java.util.Map<Integer, LayerVertex> padBefore = new java.util.HashMap<>(); // convolution index -> its padding
        for (Found f : found) {
            GraphVertex in = vertices[f.conv.getInputVertices()[0].getVertexIndex()];
            if (in instanceof LayerVertex p && eligible(p, frozenOnly) && RuntimeLayers.inner(p).getClass() == ZeroPaddingLayer.class
                    && consumers(p).length == 1 && !outputs.contains(p.getVertexIndex()) && p.getInputVertices().length == 1) {
                int source = p.getInputVertices()[0].getVertexIndex();
                var zp = (org.deeplearning4j.nn.conf.layers.ZeroPaddingLayer) RuntimeLayers.inner(p).conf().getLayer();
                if (byEnd.containsKey(source) && !copies.get(source) && zp.getDataFormat() == CNN2DFormat.NCHW) {
                    padBefore.put(f.conv.getVertexIndex(), p);
                    System.arraycopy(zp.getPadding(), 0, f.chain.zeroPad, 0, 4);
                }
            }
        }

        // 3b. a chain whose every reader is a fused convolution (directly or through a folded padding) leaves its result
        //     in its kernel's layout: the reader takes it as it is, two conversions fewer
        Set<Integer> foldedPaddings = new HashSet<>();
        padBefore.values().forEach(p -> foldedPaddings.add(p.getVertexIndex()));
        if (keepLayouts()) {
            java.util.Map<Integer, Found> byConv = new java.util.HashMap<>();
            found.forEach(f -> byConv.put(f.conv.getVertexIndex(), f));
            for (Found f : found) {
                int e = f.end.getVertexIndex();
                int[] readers = consumers(f.end);
                if (copies.get(e) || readers.length == 0) {
                    continue;
                }
                List<Found> next = new ArrayList<>();
                for (int r : readers) {
                    int conv = foldedPaddings.contains(r) ? consumers(vertices[r])[0] : r;
                    Found g = byConv.get(conv);
                    if (g != null) {
                        next.add(g);
                    }
                }
                if (next.size() == readers.length) {
                    f.chain.keepLayout = true;
                    next.forEach(g -> g.chain.from = f.chain);
                    applied.keptLayouts++;
                }
            }
        }

        // 4. buffers: a chain's result lives from its convolution to the last reader (through folded paddings)
        List<int[]> busy = new ArrayList<>(); // per slot: the last step it is read at
        for (Found f : found) {
            int start = pos[f.conv.getVertexIndex()];
            int end = pos[f.end.getVertexIndex()];
            if (!copies.get(f.end.getVertexIndex())) {
                for (int r : consumers(f.end)) {
                    // a folded padding hands the result on to its convolution, which reads it later
                    end = Math.max(end, foldedPaddings.contains(r) ? pos[consumers(vertices[r])[0]] : pos[r]);
                }
            }
            int slot = -1;
            for (int s = 0; s < busy.size() && slot < 0; s++) {
                if (busy.get(s)[0] < start) {
                    slot = s;
                }
            }
            if (slot < 0) {
                busy.add(new int[1]);
                slot = busy.size() - 1;
            }
            busy.get(slot)[0] = end;
            f.chain.slot = slot;
        }

        // 5. the runtime layers
        for (Found f : found) {
            boolean copy = copies.get(f.end.getVertexIndex());
            Layer convLayer = RuntimeLayers.inner(f.conv);
            if (convLayer instanceof DepthwiseConvolutionLayer d) {
                d.fused(f.chain);
                applied.undo.add(() -> d.fused(null));
            } else {
                swap(graph, f.conv, new FusedLayers.Convolution((ConvolutionLayer) convLayer, f.chain), applied);
            }
            BatchNormalization bnLayer = (BatchNormalization) RuntimeLayers.inner(f.bn);
            swap(graph, f.bn, new FusedLayers.FoldedBatchNorm(bnLayer, copy && f.act == null, f.chain), applied);
            if (f.act != null) {
                swap(graph, f.act, new FusedLayers.FoldedActivation((ActivationLayer) RuntimeLayers.inner(f.act), copy, f.chain),
                        applied);
            }
            LayerVertex pad = padBefore.get(f.conv.getVertexIndex());
            if (pad != null) {
                swap(graph, pad, new FusedLayers.FoldedPadding((ZeroPaddingLayer) RuntimeLayers.inner(pad)), applied);
                applied.paddings++;
            }
            applied.chains.add(f.chain);
        }

        otherLayers(graph, vertices, fault, applied);
        return applied;
    }

    /**
     * Step 6 of {@link #apply}: the activation layers left (outside chains, trainable ones too: they compute their gradient)
     * on {@link EltwiseActivationLayer}, and the small dense layers left (trainable ones: the frozen ones are
     * {@link FusedLayers.SmallDense} by then) on {@link SmallDenseLayer}.
     */
    private static void otherLayers(ComputationGraph graph, GraphVertex[] vertices, double fault, Applied applied) {
        for (GraphVertex v : vertices) {
            if (!(v instanceof LayerVertex lv) || lv.getLayerPreProcessor() != null) {
                continue;
            }
            if (RuntimeLayers.inner(lv) instanceof ActivationLayer a) {
                EltwiseActivationLayer e = EltwiseActivationLayer.of(a, fault);
                if (e != null) {
                    swap(graph, lv, e, applied);
                    applied.eltwise++;
                }
            } else if (RuntimeLayers.inner(lv) instanceof org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer d) {
                SmallDenseLayer s = SmallDenseLayer.of(d, SMALL_TRAINABLE_DENSE, fault);
                if (s != null) {
                    swap(graph, lv, s, applied);
                    applied.trainableDense++;
                }
            }
        }
    }

    /** Frozen dense layers with few weights, no layer norm and no dropout: computed by {@link FusedLayers.SmallDense}. */
    private static void smallDenseLayers(ComputationGraph graph, GraphVertex[] vertices, boolean frozenOnly, Applied applied) {
        for (GraphVertex v : vertices) {
            if (v instanceof LayerVertex lv && eligible(lv, frozenOnly)
                    && RuntimeLayers.inner(lv).getClass() == org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer.class) {
                var dense = (org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer) RuntimeLayers.inner(lv);
                var c = (org.deeplearning4j.nn.conf.layers.DenseLayer) dense.conf().getLayer();
                if (!dense.hasLayerNorm() && c.getIDropout() == null && c.getNIn() * c.getNOut() <= SMALL_DENSE) {
                    swap(graph, lv, new FusedLayers.SmallDense(dense), applied);
                    applied.smallDense++;
                }
            }
        }
    }

    /**
     * Whether {@code graph} runs fused layers. Its per-layer activations ({@code feedForward}) are then not every layer's
     * own: a fused convolution's entry is its whole chain's result, in a buffer the next pass overwrites, and where only
     * fused convolutions read that result it is in oneDNN's blocked layout, not NCHW. Code that reads
     * intermediate activations (Grad-CAM) uses an unfused copy ({@code Graphs.copy}).
     */
    public static boolean fused(ComputationGraph graph) {
        for (Layer l : graph.getLayers()) {
            Layer inner = RuntimeLayers.unwrapped(l);
            if (inner.getClass().getEnclosingClass() == FusedLayers.class
                    || inner instanceof DepthwiseConvolutionLayer d && d.fused() != null) {
                return true;
            }
        }
        return false;
    }

    /**
     * Computes every fused chain's folded weights (and every small dense layer's copy) again from the graph's parameters:
     * for a graph whose parameters were replaced after the fusion (a checkpoint restored into it).
     */
    public static void refold(ComputationGraph graph) {
        for (Layer l : graph.getLayers()) {
            Layer inner = RuntimeLayers.unwrapped(l);
            if (inner instanceof FusedLayers.Convolution c) {
                c.chain().refold();
            } else if (inner instanceof DepthwiseConvolutionLayer d && d.fused() != null) {
                d.fused().refold();
            } else if (inner instanceof FusedLayers.SmallDense s) {
                s.refold();
            }
        }
    }

    private static void swap(ComputationGraph graph, LayerVertex v, Layer replacement, Applied applied) {
        Layer original = RuntimeLayers.inner(v);
        RuntimeLayers.replace(graph, v, replacement);
        applied.undo.add(() -> RuntimeLayers.replace(graph, v, original));
    }

    /** A layer vertex fusion may touch: no preprocessor, and inside a frozen wrapper if {@code frozenOnly}. */
    private static boolean eligible(LayerVertex v, boolean frozenOnly) {
        return v.getLayerPreProcessor() == null && (!frozenOnly || v.getLayer() instanceof FrozenLayer);
    }

    /** Whether a vertex reading a chain's result keeps nothing for a backward pass (DL4J's backward pass skips it). */
    private static boolean frozenReader(GraphVertex v) {
        return v instanceof FrozenVertex || v instanceof LayerVertex lv && lv.getLayer() instanceof FrozenLayer;
    }

    private static int[] consumers(GraphVertex v) {
        VertexIndices[] out = v.getOutputVertices();
        return out == null ? new int[0] : Arrays.stream(out).mapToInt(VertexIndices::getVertexIndex).toArray();
    }

    /** The oneDNN post-op computing {@code f}, or null if there is none (the identity included). */
    static Dnnl.Eltwise eltwise(IActivation f) {
        if (f instanceof ActivationReLU && f.equals(new ActivationReLU())) {
            return Dnnl.Eltwise.RELU;
        }
        if (f instanceof ActivationReLU6) {
            return Dnnl.Eltwise.RELU6;
        }
        if (f instanceof ActivationSwish) {
            return Dnnl.Eltwise.SWISH;
        }
        if (f instanceof ActivationSigmoid) {
            return Dnnl.Eltwise.SIGMOID;
        }
        if (f instanceof OneDnnActivation a && "hardswish".equals(a.oneDnnEltwise())) {
            return Dnnl.Eltwise.HARD_SWISH;
        }
        return null;
    }

    /**
     * The convolution's weights and bias with the batch normalisation folded in, computed in float64 and stored in float32
     * in DL4J's layouts (a plain convolution's {@code [out, in, kH, kW]}, a depthwise one's {@code [kH, kW, channels,
     * multiplier]} with output channel {@code c * multiplier + j}).
     */
    static INDArray[] fold(Layer conv, boolean depthwise, boolean hasBias, Layer bn, double eps, double fault) {
        try (var ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            return foldDetached(conv, depthwise, hasBias, bn, eps, fault);
        }
    }

    private static INDArray[] foldDetached(Layer conv, boolean depthwise, boolean hasBias, Layer bn, double eps, double fault) {
        INDArray w = conv.getParam("W");
        double[] wv = w.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        double[] gamma = bn.getParam("gamma").castTo(DataType.DOUBLE).dup().data().asDouble();
        double[] beta = bn.getParam("beta").castTo(DataType.DOUBLE).dup().data().asDouble();
        double[] mean = bn.getParam("mean").castTo(DataType.DOUBLE).dup().data().asDouble();
        double[] var = bn.getParam("var").castTo(DataType.DOUBLE).dup().data().asDouble();
        double[] b = hasBias ? conv.getParam("b").castTo(DataType.DOUBLE).dup().data().asDouble() : new double[gamma.length];
        int channels = gamma.length;
        double[] scale = new double[channels];
        float[] bias = new float[channels];
        for (int o = 0; o < channels; o++) {
            scale[o] = gamma[o] / Math.sqrt(var[o] + eps);
            bias[o] = (float) (beta[o] + (b[o] - mean[o]) * scale[o]);
        }
        long[] shape = w.shape();
        int per = depthwise ? 1 : (int) (wv.length / shape[0]);
        float[] folded = new float[wv.length];
        for (int i = 0; i < wv.length; i++) {
            int o = depthwise ? i % channels : i / per;
            folded[i] = (float) (wv[i] * scale[o] * fault);
        }
        return new INDArray[] {Nd4j.create(folded, shape, 'c'), Nd4j.create(bias, new long[] {channels}, 'c')};
    }
}

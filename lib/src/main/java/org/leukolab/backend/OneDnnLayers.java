package org.leukolab.backend;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.graph.vertex.impl.LayerVertex;
import org.deeplearning4j.nn.layers.FrozenLayer;
import org.deeplearning4j.nn.layers.LayerHelper;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.convolution.DepthwiseConvolution2DLayer;
import org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingLayer;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNBatchNormHelper;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNSubsamplingHelper;
import org.deeplearning4j.nn.layers.normalization.BatchNormalization;
import org.deeplearning4j.nn.layers.wrapper.BaseWrapperLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Runs a network's convolution, batch-normalisation and pooling layers on oneDNN kernels, after checking on a
 * real batch that they compute what DL4J's own layers compute.
 *
 * <p>Why this exists: DL4J 1.0.0-M2.1 ships oneDNN implementations of these layers (its "MKL-DNN helpers")
 * but never uses them. Helper creation is off unless the system property
 * {@code org.eclipse.deeplearning4j.helpers.disable=false} is set, and even then DL4J decides whether oneDNN
 * is present by looking up {@code org.nd4j.nativeblas.Nd4jCpu$Environment.isUseMKLDNN()}, a class and method
 * that ND4J M2.1 renamed ({@code org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu$Environment.isUseONEDNN()}),
 * so the check always fails and every layer falls back to DL4J's im2col code. On this project's 2-core machine
 * the oneDNN kernels train the reports' CNNs about 3x faster (BENCHMARKS.md has the figures).
 *
 * <p>Which kernels: pooling gets DL4J's own oneDNN helper; convolutions get {@link OneDnnConvolution} (oneDNN called
 * directly, without the extra layout conversions and the unused input gradient of DL4J's helper) and batch
 * normalisation {@link NchwBatchNorm} (plain Java; DL4J's helper lands in oneDNN's slow generic code for NCHW arrays).
 * {@value #KERNELS_ENV}{@code =dl4j} gives DL4J's helpers for all three, for comparisons. In a
 * {@code MultiLayerNetwork}, a convolution with a plain ReLU becomes a {@link ReluConvolutionLayer} (the same layer;
 * only the runtime object differs) whose ReLU runs inside oneDNN in both passes; in a {@code ComputationGraph}, a depthwise
 * convolution becomes a {@link DepthwiseConvolutionLayer} (DL4J has no helper slot for those) that runs on oneDNN's grouped
 * convolution. Both are checked with the rest.
 *
 * <p>Why the check: oneDNN kernels are a different implementation, and a wrong or inaccurate kernel must not
 * change what a notebook trains. So {@link #install} computes the gradient and the output of the first
 * {@value #PROBE_EXAMPLES} examples of a real batch with DL4J's float32 layers, the same in float64, and with
 * oneDNN, and keeps oneDNN only where, for every parameter and for the output, oneDNN's distance from float64
 * is at most {@value #ERROR_FACTOR} times DL4J's own (or below {@value #ERROR_FLOOR} of the largest value). If
 * the whole set fails, layers are added one at a time (from the output end) and each is kept only if the
 * check still passes. A test injects a kernel whose weight gradient is 2% off and checks it is left out.
 *
 * <p>DL4J's own error is not measured on the probe alone: its float32 and float64 layers run the same algorithm
 * in the same order and agree unusually closely, while any other float32 implementation rounds differently,
 * and in a deep network with ReLUs, max-pools and batch norm a rounding difference can flip a unit near its
 * switching point and move some gradient entries by several percent. On report 002's CNN at 128x128 DL4J's
 * own layers, given the probe with its pixels moved by a few rounding steps, moved a weight gradient by
 * 4.9e-2 (of 5.8) where the unmoved probe gave 1.1e-3 - exactly as far as oneDNN's was (bench.OneDnnAccuracy). So DL4J's error is taken
 * as the largest over the probe and {@value #PERTURBATIONS} copies with every pixel moved by at most
 * {@value #PERTURBATION} of its value; a difference float32 rounding of the input alone produces is not
 * evidence against a kernel. The price: where a gradient is that sensitive, a kernel error of the same size
 * would pass too (see BENCHMARKS.md). An earlier version without the moved copies rejected one or two of report
 * 002's 14 layers at random (which ones depended on the batch); one earlier finding of a "6% wrong" oneDNN
 * weight gradient there (first convolution, 64x64, on an AMD EPYC; not re-run on that CPU) was most likely of
 * this kind: it appeared only inside the network, never for the same convolution on its own, and on a Xeon
 * the check with moved copies keeps all 14 layers for report 002 at 64x64 and 128x128 (bench.OneDnnAccuracy).
 *
 * <p>Needs an ND4J build with oneDNN (leukolab's default {@code linux-x86_64-onednn-avx2}); on another build,
 * or with {@code LEUKOLAB_ONEDNN=0}, it changes nothing and says so. Networks restored from a file start
 * without helpers (DL4J does not save them); install again if needed.
 */
public final class OneDnnLayers {
    /**
     * oneDNN's float32 error (against a float64 computation) may be at most this many times DL4J's own float32
     * error, per parameter gradient and for the output.
     */
    public static final double ERROR_FACTOR = 2.0;
    /**
     * Errors below this fraction of the largest float64 value are accepted whatever DL4J's own error: float32
     * rounding noise. At 1e-5 the check rejected genuine kernels by chance on a Sapphire Rapids Xeon (a dense
     * bias gradient 1.07e-5 of its largest value off where DL4J's own was 0.45e-5); the faulty kernels it must
     * catch are off by 0.5-6% of the largest value.
     */
    public static final double ERROR_FLOOR = 1e-4;
    /**
     * Rounding-sized moves of the probe's pixels (relative, uniform within +-{@value #PERTURBATION}) over which DL4J's
     * own float32 error is taken (its largest): see {@code builtInSpread}.
     */
    public static final int PERTURBATIONS = 3;
    /**
     * Relative size of those moves: about eight float32 rounding steps (one step is 2^-23 = 1.2e-7). One step
     * (1e-7) already reproduced oneDNN's largest measured difference on report 002's CNN, but three such copies
     * missed some; at 1e-6 all eight probe seeds measured kept every layer (BENCHMARKS.md).
     */
    public static final double PERTURBATION = 1e-6;
    /** Examples of the first batch used for the check (the float64 pass needs twice the memory of a step). */
    public static final int PROBE_EXAMPLES = 8;
    /**
     * Examples used by the output-only check of a graph computing features ({@link #installForInference},
     * {@link #installOnFrozenLayers}): every kernel computes each example the same way, so two show an error as well as
     * eight, and DL4J's reference passes (run once, so its workspaces keep every layer's output until the pass ends) need a
     * quarter of the memory: EfficientNetV2S at 96x96 peaked at 2.0 GB resident with eight, against 0.8 GB computing
     * features after it. The reference passes run one example at a time.
     */
    public static final int INFERENCE_PROBE_EXAMPLES = 2;
    /** Environment variable: {@code 0}, {@code off} or {@code false} keeps DL4J's built-in layers. */
    public static final String ENV = "LEUKOLAB_ONEDNN";
    /**
     * Environment variable: {@code dl4j} runs convolutions and batch normalisation through DL4J's own oneDNN helpers
     * (libnd4j's {@code conv2d}, {@code conv2d_bp}, {@code batchnorm}, {@code batchnorm_bp}) instead of leukolab's
     * {@link OneDnnConvolution} and {@link NchwBatchNorm}; for comparisons in the speed harness.
     */
    public static final String KERNELS_ENV = "LEUKOLAB_KERNELS";

    private OneDnnLayers() {}

    /**
     * What {@link #install} did: which layers run on oneDNN, which stayed built-in, and the largest ratio of
     * oneDNN's error to DL4J's own error (both against float64) over the kept set (1 = as accurate).
     */
    public record Report(List<String> onOneDnn, List<String> builtIn, double errorRatio, String reason, String fused) {
        public Report(List<String> onOneDnn, List<String> builtIn, double errorRatio, String reason) {
            this(onOneDnn, builtIn, errorRatio, reason, "");
        }

        public boolean active() {
            return !onOneDnn.isEmpty();
        }

        @Override
        public String toString() {
            if (onOneDnn.isEmpty() && builtIn.isEmpty()) {
                return "layers: DL4J built-in (" + reason + ")";
            }
            if (!reason.isEmpty()) {
                return "layers: " + onOneDnn.size() + " on fast kernels (" + reason + ")";
            }
            String s = String.format(Locale.ROOT, "layers: %d of %d on fast kernels (oneDNN convolution and pooling, "
                            + "leukolab's batch norm; checked on a real batch against float64: their error at most %.2fx "
                            + "DL4J's own float32 error)",
                    onOneDnn.size(), onOneDnn.size() + builtIn.size(), errorRatio);
            String which = builtIn.size() <= 5 ? String.join(", ", builtIn) : builtIn.size() + " layers";
            s = fused.isEmpty() ? s : s + "; " + fused;
            return builtIn.isEmpty() ? s : s + "; kept built-in because the fast kernel was less accurate: " + which;
        }
    }

    /**
     * True when leukolab's kernels may run ({@link Kernels#allowed()}: ND4J's CPU backend, {@value #ENV} not turning them
     * off) and the ND4J native build on the class path has oneDNN.
     */
    public static boolean available() {
        return Kernels.allowed() && nativeOneDnn();
    }

    /**
     * {@link #available()}, after making the C library give large freed blocks back to the system
     * ({@link NativeMemory#returnLargeBlocksOnFree}): every network trained or used for features comes through here
     * before its first pass, whichever layers it ends up on.
     */
    private static boolean ready() {
        NativeMemory.returnLargeBlocksOnFree();
        return available();
    }

    /** Whether the loaded ND4J native library was built with oneDNN (reflection: the CUDA build lacks the class). */
    public static boolean nativeOneDnn() {
        try {
            Class<?> env = Class.forName("org.nd4j.linalg.cpu.nativecpu.bindings.Nd4jCpu$Environment");
            Object instance = env.getMethod("getInstance").invoke(null);
            return (boolean) env.getMethod("isUseONEDNN").invoke(instance);
        } catch (ReflectiveOperationException | LinkageError e) {
            return false;
        }
    }

    /**
     * Checks and installs oneDNN layers on {@code net} using {@code probe} (a real training batch; nothing is
     * updated). Returns what was done; when oneDNN is not available the network is left as it is.
     */
    public static Report install(MultiLayerNetwork net, DataSet probe) {
        if (!ready()) {
            return unavailable();
        }
        DataType dt = net.params().dataType();
        // inputLayer is looked up per layer: install puts ReluConvolutionLayers in place before the helpers are made
        return install(net, probe, l -> oneDnnHelper(l, dt, l != inputLayer(net)));
    }

    /**
     * The layer of {@code net} whose backward pass need not compute a gradient for its input: the first layer, when it
     * reads the network's input directly (no preprocessor) and has no dropout (DL4J's dropout backward pass needs that
     * gradient). Null otherwise.
     */
    static Layer inputLayer(MultiLayerNetwork net) {
        Layer first = net.getLayer(0);
        boolean dropout = first.conf().getLayer() instanceof org.deeplearning4j.nn.conf.layers.BaseLayer b && b.getIDropout() != null;
        return net.getLayerWiseConfigurations().getInputPreProcess(0) == null && !dropout ? first : null;
    }

    private static Report unavailable() {
        return new Report(List.of(), List.of(), 0, !Kernels.allowed() ? Kernels.reason() : "this ND4J build has no oneDNN");
    }

    /** As {@link #install(MultiLayerNetwork, DataSet)} with the helpers made by {@code helpers} (tests inject faulty ones). */
    static Report install(MultiLayerNetwork net, DataSet probe, Function<Layer, LayerHelper> helpers) {
        fuseRelu(net);
        return install(new Mln(net), probe, helpers);
    }

    /**
     * Puts a {@link ReluConvolutionLayer} in place of each of {@code net}'s DL4J {@code ConvolutionLayer}s with a plain
     * ReLU whose next layer does not change its input in place (no dropout on it): the same layer, whose ReLU then runs
     * inside the oneDNN kernel forward and backward once a {@link OneDnnConvolution} is its helper. The configuration
     * and the parameters stay as they are. Returns how many were replaced.
     */
    static int fuseRelu(MultiLayerNetwork net) {
        Layer[] layers = net.getLayers();
        int replaced = 0;
        for (int i = 0; i + 1 < layers.length; i++) {
            if (layers[i].getClass() == ConvolutionLayer.class
                    && layers[i].conf().getLayer() instanceof org.deeplearning4j.nn.conf.layers.ConvolutionLayer c
                    && OneDnnConvolution.plainRelu(c.getActivationFn()) && !changesItsInput(layers[i + 1])) {
                layers[i] = ReluConvolutionLayer.of((ConvolutionLayer) layers[i]);
                replaced++;
            }
        }
        if (replaced > 0) {
            net.setLayers(layers);
            try {
                Field f = MultiLayerNetwork.class.getDeclaredField("layerMap");
                f.setAccessible(true);
                @SuppressWarnings("unchecked")
                Map<String, Layer> byName = (Map<String, Layer>) f.get(net);
                for (Layer l : layers) {
                    byName.put(l.conf().getLayer().getLayerName(), l);
                }
            } catch (ReflectiveOperationException e) {
                throw new IllegalStateException("cannot update the layers by name of a MultiLayerNetwork (a DL4J version other than 1.0.0-M2.1?)", e);
            }
        }
        return replaced;
    }

    /** Whether DL4J may change {@code layer}'s input in place during training (dropout on its input). */
    private static boolean changesItsInput(Layer layer) {
        var conf = layer.conf().getLayer();
        return conf instanceof org.deeplearning4j.nn.conf.layers.DropoutLayer || conf.getIDropout() != null;
    }

    /**
     * Puts a {@link DepthwiseConvolutionLayer} in place of each of {@code graph}'s DL4J depthwise convolution layers,
     * inside DL4J's frozen wrappers too: the same layer, which runs on oneDNN once {@link #setHelper} gives it a kernel
     * (until then DL4J's own code). The configuration and the parameters stay as they are. Returns how many were replaced.
     */
    static int useDepthwiseKernels(ComputationGraph graph) {
        int replaced = 0;
        for (GraphVertex v : graph.getVertices()) {
            if (v instanceof LayerVertex lv && RuntimeLayers.inner(lv).getClass() == DepthwiseConvolution2DLayer.class) {
                RuntimeLayers.replace(graph, lv, DepthwiseConvolutionLayer.of((DepthwiseConvolution2DLayer) RuntimeLayers.inner(lv)));
                replaced++;
            }
        }
        return replaced;
    }

    /**
     * The same check for a single-input graph being trained (a backbone fine-tuned under a head, say): every
     * convolution, batch-normalisation and pooling layer, trainable ones and those inside DL4J's frozen wrappers,
     * goes on oneDNN if the gradients of all trainable parameters and the output stay within the rule above. Returns
     * what was done; when oneDNN is not available the graph is left as it is.
     */
    public static Report install(ComputationGraph graph, DataSet probe) {
        if (!ready()) {
            return unavailable();
        }
        DataType dt = graph.params().dataType();
        return install(graph, probe, l -> oneDnnHelper(l, dt));
    }

    /** As {@link #install(ComputationGraph, DataSet)} with the helpers made by {@code helpers} (tests inject faulty ones). */
    static Report install(ComputationGraph graph, DataSet probe, Function<Layer, LayerHelper> helpers) {
        return install(graph, probe, helpers, 1.0);
    }

    /**
     * As {@link #install(ComputationGraph, DataSet, Function)}; then the chains inside DL4J's frozen wrappers are fused for
     * inference ({@link InferenceFusion}: those layers only ever run forward, in inference mode) and the check is made
     * again with them, which keeps the fusion only if it passes. {@code fusionFault} multiplies the fused weights (tests).
     */
    static Report install(ComputationGraph graph, DataSet probe, Function<Layer, LayerHelper> helpers, double fusionFault) {
        useDepthwiseKernels(graph);
        return install(new Graph(graph), probe, helpers,
                InferenceFusion.enabled() ? () -> InferenceFusion.apply(graph, true, fusionFault) : null);
    }

    private static Report install(Net net, DataSet probe, Function<Layer, LayerHelper> helpers) {
        return install(net, probe, helpers, null);
    }

    private static Report install(Net net, DataSet probe, Function<Layer, LayerHelper> helpers,
                                  java.util.function.Supplier<InferenceFusion.Applied> fusion) {
        List<Integer> candidates = candidates(net, helpers);
        if (candidates.isEmpty()) {
            return new Report(List.of(), List.of(), 0, "no convolution, batch-normalisation or pooling layers");
        }
        long seed = net.seed();
        DataSet small = firstExamples(probe);
        Expected expected = expected(net, small, seed);
        release();

        Check all = check(net, candidates, candidates, helpers, small, seed, expected);
        release();
        List<Integer> kept = new ArrayList<>();
        List<Integer> rejected = new ArrayList<>();
        Check best = all;
        if (all.ok) {
            kept.addAll(candidates);
        } else {
            best = new Check(true, 0);
            for (int k = candidates.size() - 1; k >= 0; k--) {
                List<Integer> trial = new ArrayList<>(kept);
                trial.add(candidates.get(k));
                Check c = check(net, candidates, trial, helpers, small, seed, expected);
                release();
                if (c.ok) {
                    kept.add(candidates.get(k));
                    best = c;
                } else {
                    rejected.add(candidates.get(k));
                }
            }
            apply(net, candidates, kept, helpers);
        }
        String fused = "";
        InferenceFusion.Applied f = fusion == null ? null : fusion.get();
        if (f != null && f.any()) {
            Check c = check(net, candidates, kept, helpers, small, seed, expected);
            release();
            if (c.ok) {
                fused = f.summary();
                best = new Check(true, Math.max(best.ratio, c.ratio));
            } else {
                f.undo();
                apply(net, candidates, kept, helpers);
                fused = "fusion left out: the gradients or the output were further from float64 than the rule allows";
            }
        }
        net.clear();
        Nd4j.getRandom().setSeed(seed);
        return new Report(names(net, kept.stream().sorted().toList()), names(net, rejected.stream().sorted().toList()),
                best.ratio, "", fused);
    }

    /** The float64 result for the probe and DL4J's own float32 error, from copies of {@code net} without helpers. */
    private static Expected expected(Net net, DataSet small, long seed) {
        // one copy at a time: the float32 copy the float64 one is made from is freed before the float64 pass (the
        // largest moment of the check), and the float32 reference is made again after it
        Net float64Copy = withoutHelpers(net.copy()).float64();
        release();
        Result float64 = float64Copy.run(doubles(small), seed);
        float64Copy = null;
        release();
        return new Expected(float64, builtInSpread(withoutHelpers(net.copy()), small, seed, float64));
    }

    private static Net withoutHelpers(Net copy) {
        for (Layer l : copy.layers()) {
            setHelper(l, null);
        }
        return copy;
    }

    /**
     * Frees what the check's passes left behind: DL4J's workspaces, sized by the last pass (a float64 copy of the network
     * needs twice the memory), and the off-heap arrays of the copies and results, which ND4J frees only when the garbage
     * collector finds their Java objects (with a large, mostly empty heap that can be never). Without this, report 002's
     * CNN went into training holding 9.3 GB resident instead of 3.7 GB (BENCHMARKS.md). Workspaces are only destroyed
     * when none is open on this thread; the trainer's next pass makes them again at the size it needs. Last, the C
     * library's allocator is asked to give the freed memory back ({@link NativeMemory#trim}).
     */
    static void release() {
        if (Nd4j.getMemoryManager().getCurrentWorkspace() == null) {
            Nd4j.getWorkspaceManager().destroyAllWorkspacesForCurrentThread();
        }
        System.gc();
        NativeMemory.trim();
    }

    /**
     * What the check needs from a network, for a {@link MultiLayerNetwork} or a {@link ComputationGraph}: its layers in a
     * fixed order (those inside frozen wrappers unwrapped, so a copy's i-th layer is the original's), a copy, a float64
     * copy, its seed, and one pass computing the trainable parameters' gradients and the output.
     */
    private interface Net {
        Layer[] layers();

        Net copy();

        Net float64();

        long seed();

        Result run(DataSet probe, long seed);

        String name(int layer);

        void clear();
    }

    /** One gradient pass of a model whose input and labels are set, then its output; the model is cleared after. */
    private static Result pass(org.deeplearning4j.nn.api.Model model, long seed, Runnable computeGradient,
                               java.util.function.Supplier<INDArray> output) {
        Nd4j.getRandom().setSeed(seed); // the same dropout masks for both runs
        computeGradient.run();
        // the training pass's workspaces go before the gradients are copied and the inference pass makes its own
        // workspaces (the gradients are views of the network's own gradient array, outside the workspaces)
        release();
        Map<String, INDArray> g = new LinkedHashMap<>();
        model.gradient().gradientForVariable().forEach((k, v) -> g.put(k, v.dup()));
        INDArray out = output.get().dup();
        model.clear();
        BatchNormLeftovers.drop(model instanceof MultiLayerNetwork m ? m.getLayers() : ((ComputationGraph) model).getLayers());
        release();
        return new Result(g, out);
    }

    private record Mln(MultiLayerNetwork net) implements Net {
        public Layer[] layers() {
            return net.getLayers();
        }

        public Net copy() {
            return new Mln(net.clone());
        }

        public Net float64() {
            return new Mln(net.convertDataType(DataType.DOUBLE));
        }

        public long seed() {
            return net.getLayerWiseConfigurations().getConf(0).getSeed();
        }

        public Result run(DataSet probe, long seed) {
            net.setInput(probe.getFeatures());
            net.setLabels(probe.getLabels());
            return pass(net, seed, net::computeGradientAndScore, () -> net.output(probe.getFeatures(), false));
        }

        public String name(int layer) {
            return layer + " " + net.getLayers()[layer].conf().getLayer().getClass().getSimpleName();
        }

        public void clear() {
            net.clear();
        }
    }

    private record Graph(ComputationGraph graph) implements Net {
        public Layer[] layers() {
            Layer[] all = graph.getLayers();
            Layer[] out = new Layer[all.length];
            for (int i = 0; i < all.length; i++) {
                out[i] = all[i] instanceof FrozenLayer f ? f.getInsideLayer() : all[i];
            }
            return out;
        }

        public Net copy() {
            return new Graph(Graphs.copy(graph, graph.params().dataType()));
        }

        public Net float64() {
            return new Graph(Graphs.copy(graph, DataType.DOUBLE));
        }

        public long seed() {
            return graph.getConfiguration().getDefaultConfiguration().getSeed();
        }

        public Result run(DataSet probe, long seed) {
            graph.setInputs(probe.getFeatures());
            graph.setLabels(probe.getLabels());
            return pass(graph, seed, graph::computeGradientAndScore, () -> graph.outputSingle(false, probe.getFeatures()));
        }

        public String name(int layer) {
            return layers()[layer].conf().getLayer().getLayerName();
        }

        public void clear() {
            graph.clearLayersStates();
        }
    }

    /**
     * The inference-only variant for a graph (a frozen backbone computing features): installs oneDNN helpers
     * on all its convolution, batch-normalisation and pooling layers if, on the first
     * {@value #INFERENCE_PROBE_EXAMPLES} examples of {@code probe}, the output's distance from a float64 pass is at most
     * {@value #ERROR_FACTOR} times that of DL4J's own layers; otherwise leaves every layer built-in. A graph
     * that already carries the helpers is left as it is.
     */
    public static Report installForInference(ComputationGraph graph, INDArray probe) {
        return installInference(graph, probe, false);
    }

    /**
     * For a graph that is being trained with a frozen backbone ({@code Transfer.classifier}): the same as
     * {@link #installForInference}, but only on the layers inside DL4J's {@code FrozenLayer} wrappers. Those
     * only ever run forward in inference mode (no gradient passes through them), so the output check covers
     * everything they do; the trainable layers stay on DL4J's own code. {@link Trainer} calls this on graphs.
     */
    public static Report installOnFrozenLayers(ComputationGraph graph, INDArray probe) {
        return installInference(graph, probe, true);
    }

    private static Report installInference(ComputationGraph graph, INDArray probe, boolean frozenOnly) {
        return installInference(graph, probe, frozenOnly, 1.0);
    }

    /** As {@link #installForInference}; {@code fusionFault} multiplies the fused chains' weights (tests plant a fault). */
    static Report installInference(ComputationGraph graph, INDArray probe, boolean frozenOnly, double fusionFault) {
        if (!ready()) {
            return unavailable();
        }
        DataType dt = graph.params().dataType();
        useDepthwiseKernels(graph);
        List<Layer> candidates = new ArrayList<>();
        for (Layer l : graph.getLayers()) {
            Layer inner = l instanceof FrozenLayer f ? f.getInsideLayer() : l;
            if ((!frozenOnly || inner != l) && oneDnnHelper(inner, dt) != null) {
                candidates.add(inner);
            }
        }
        if (candidates.isEmpty()) {
            return new Report(List.of(), List.of(), 0, "no " + (frozenOnly ? "frozen " : "")
                    + "convolution, batch-normalisation or pooling layers");
        }
        List<String> names = candidates.stream().map(l -> l.conf().getLayer().getLayerName()).toList();
        if (candidates.stream().anyMatch(l -> helperOf(l) != null)) {
            return new Report(names, List.of(), 1, "already installed");
        }
        long n = Math.min(INFERENCE_PROBE_EXAMPLES, probe.size(0));
        INDArray x = probe.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, n)).dup();
        // each reference pass runs once, so DL4J's workspaces hold all of its layers' outputs until they are destroyed:
        // one example at a time, released after each (EfficientNetV2M at 224x224: peak 3.7 -> 2.5 GB resident)
        INDArray[] ownParts = new INDArray[(int) n];
        INDArray[] preciseParts = new INDArray[(int) n];
        ComputationGraph float64 = Graphs.copy(graph, DataType.DOUBLE);
        for (int i = 0; i < n; i++) {
            INDArray xi = x.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(i, i + 1)).dup();
            ownParts[i] = detached(graph.outputSingle(false, xi));
            BatchNormLeftovers.drop(graph.getLayers());
            release();
            preciseParts[i] = detached(float64.outputSingle(false, xi.castTo(DataType.DOUBLE)));
            BatchNormLeftovers.drop(float64.getLayers());
            release();
        }
        Graphs.free(float64); // before the fused weights are made (EfficientNetV2L at 96x96: the check's peak 2.9 -> 1.9 GB)
        float64 = null;
        release();
        INDArray own = Nd4j.concat(0, ownParts);
        INDArray precise = Nd4j.concat(0, preciseParts);
        candidates.forEach(l -> setHelper(l, oneDnnHelper(l, dt)));
        double ownError = distance(own, precise);
        InferenceFusion.Applied fusion = InferenceFusion.enabled() ? InferenceFusion.apply(graph, frozenOnly, fusionFault) : null;
        Check c = checkOutput(graph, x, precise, ownError);
        String fused = "";
        if (fusion != null && fusion.any()) {
            if (c.ok) {
                fused = fusion.summary();
            } else { // the fused chains are judged first on their own: without them the kernels may still pass
                fusion.undo();
                fused = "fusion left out: its output was further from float64 than the rule allows";
                c = checkOutput(graph, x, precise, ownError);
            }
        }
        precise = null;
        release();
        if (c.ok) {
            return new Report(names, List.of(), c.ratio, "", fused);
        }
        candidates.forEach(l -> setHelper(l, null));
        return new Report(List.of(), names, c.ratio, "", fused);
    }

    /** A copy of {@code a} outside every workspace (it outlives {@link #release}). */
    private static INDArray detached(INDArray a) {
        try (var ws = Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
            return a.isAttached() ? a.detach() : a.dup();
        }
    }

    /** The graph's output for {@code x} against float64 {@code precise}, judged by the rule with DL4J's own error. */
    private static Check checkOutput(ComputationGraph graph, INDArray x, INDArray precise, double ownError) {
        double err;
        try {
            err = distance(graph.outputSingle(false, x), precise);
        } catch (RuntimeException e) {
            err = Double.POSITIVE_INFINITY;
        }
        graph.clearLayersStates();
        BatchNormLeftovers.drop(graph.getLayers());
        return judge(err, ownError, precise);
    }

    /**
     * For measurements only (what the check costs in speed): every convolution, batch-normalisation and pooling
     * layer on oneDNN, without the check. Returns the layers switched. Training code uses {@link #install}.
     */
    public static List<String> installUnchecked(MultiLayerNetwork net) {
        if (!ready()) {
            return List.of();
        }
        fuseRelu(net);
        DataType dt = net.params().dataType();
        Layer first = inputLayer(net); // the same kernels as install: no input gradient where nothing needs it
        return installUnchecked(new Mln(net), l -> oneDnnHelper(l, dt, l != first));
    }

    /**
     * For measurements only: every convolution, batch-normalisation and pooling layer of a graph on oneDNN, trainable
     * ones included, without the check. Returns the layers switched. Training code uses {@link #installOnFrozenLayers}.
     */
    public static List<String> installUnchecked(ComputationGraph graph) {
        if (!ready()) {
            return List.of();
        }
        DataType dt = graph.params().dataType();
        useDepthwiseKernels(graph);
        return installUnchecked(new Graph(graph), l -> oneDnnHelper(l, dt));
    }

    private static List<String> installUnchecked(Net net, Function<Layer, LayerHelper> helpers) {
        List<Integer> all = candidates(net, helpers);
        apply(net, all, all, helpers);
        return names(net, all);
    }

    /**
     * One parameter gradient (or "output") of the check, with every candidate layer on oneDNN: the largest
     * float64 value, DL4J's own float32 distance from float64, oneDNN's, and whether {@link #install}'s rule
     * accepts it.
     */
    public record ArrayError(String name, double largest, double builtInError, double oneDnnError, double ratio,
                             boolean accepted) {}

    /**
     * The check's figures for {@code net} with all candidate layers on oneDNN, on the first
     * {@value #PROBE_EXAMPLES} examples of {@code probe} (for diagnosis: {@code bench.OneDnnAccuracy}). The
     * network is left without helpers.
     */
    public static List<ArrayError> accuracy(MultiLayerNetwork net, DataSet probe) {
        if (!available()) {
            return List.of();
        }
        fuseRelu(net);
        DataType dt = net.params().dataType();
        Function<Layer, LayerHelper> helpers = l -> oneDnnHelper(l, dt);
        Net n = new Mln(net);
        long seed = n.seed();
        DataSet small = firstExamples(probe);
        List<Integer> all = candidates(n, helpers);
        apply(n, all, List.of(), l -> null);
        Result float64 = n.float64().run(doubles(small), seed);
        Map<String, Double> own = builtInSpread(n, small, seed, float64);
        apply(n, all, all, helpers);
        Result oneDnn = n.run(small, seed);
        apply(n, all, List.of(), l -> null);
        Map<String, Double> dnn = errors(oneDnn, float64);
        List<ArrayError> out = new ArrayList<>();
        for (String k : own.keySet()) {
            INDArray truth = k.equals("output") ? float64.output : float64.gradients.get(k);
            Check c = judge(dnn.get(k), own.get(k), truth);
            out.add(new ArrayError(k, truth.amaxNumber().doubleValue(), own.get(k), dnn.get(k), c.ratio, c.ok));
        }
        return out;
    }

    private record Result(Map<String, INDArray> gradients, INDArray output) {}

    /** Indices of the layers {@code helpers} has a oneDNN helper for. */
    private static List<Integer> candidates(Net net, Function<Layer, LayerHelper> helpers) {
        List<Integer> out = new ArrayList<>();
        Layer[] layers = net.layers();
        for (int i = 0; i < layers.length; i++) {
            if (helpers.apply(layers[i]) != null) {
                out.add(i);
            }
        }
        return out;
    }

    /** The first {@value #PROBE_EXAMPLES} examples of {@code probe} (all of it if smaller). */
    private static DataSet firstExamples(DataSet probe) {
        int n = (int) Math.min(PROBE_EXAMPLES, probe.numExamples());
        return n == probe.numExamples() ? probe : (DataSet) probe.getRange(0, n);
    }

    /** The probe in float64, for the reference pass of a network (without helpers) converted to float64. */
    private static DataSet doubles(DataSet probe) {
        return new DataSet(probe.getFeatures().castTo(DataType.DOUBLE), probe.getLabels().castTo(DataType.DOUBLE));
    }

    /** The float64 result and DL4J's own float32 error per array ("output" for the output). */
    private record Expected(Result float64, Map<String, Double> builtInError) {}

    private record Check(boolean ok, double ratio) {}

    /**
     * DL4J's own float32 error per array: the largest distance from float64 over the probe itself and
     * {@value #PERTURBATIONS} copies of it with every pixel moved by at most {@value #PERTURBATION} of its value
     * (a few float32 rounding steps). DL4J's float32 and float64 layers run the same algorithm in the same
     * order, so on the unmoved probe they agree more closely than any other float32 implementation can; a
     * rounding-sized change of the input shows how far float32 results really spread where ReLUs and max-pools
     * sit close to their switching points.
     */
    private static Map<String, Double> builtInSpread(Net reference, DataSet probe, long seed, Result float64) {
        Map<String, Double> worst = errors(reference.run(probe, seed), float64);
        INDArray x = probe.getFeatures();
        for (int k = 1; k <= PERTURBATIONS; k++) {
            INDArray factor = org.leukolab.system.SeededArrays.uniform(x.dataType(), seed + 7919L * k, x.shape())
                    .subi(0.5).muli(2 * PERTURBATION).addi(1);
            Map<String, Double> e = errors(reference.run(new DataSet(x.mul(factor), probe.getLabels()), seed), float64);
            e.forEach((name, d) -> worst.merge(name, d, Math::max));
        }
        return worst;
    }

    private static Map<String, Double> errors(Result got, Result float64) {
        Map<String, Double> e = new LinkedHashMap<>();
        float64.gradients.forEach((k, v) -> e.put(k, distance(got.gradients.get(k), v)));
        e.put("output", distance(got.output, float64.output));
        return e;
    }

    private static double distance(INDArray a, INDArray precise) {
        double d = a.castTo(DataType.DOUBLE).sub(precise).amaxNumber().doubleValue();
        return Double.isNaN(d) ? Double.POSITIVE_INFINITY : d;
    }

    private static Check check(Net net, List<Integer> candidates, List<Integer> on,
                               Function<Layer, LayerHelper> helpers, DataSet probe, long seed, Expected expected) {
        apply(net, candidates, on, helpers);
        Map<String, Double> err;
        try {
            err = errors(net.run(probe, seed), expected.float64);
        } catch (RuntimeException e) {
            return new Check(false, Double.POSITIVE_INFINITY); // a kernel that fails on this shape is not used
        }
        boolean ok = true;
        double worst = 0;
        for (Map.Entry<String, Double> e : err.entrySet()) {
            INDArray truth = e.getKey().equals("output") ? expected.float64.output : expected.float64.gradients.get(e.getKey());
            Check c = judge(e.getValue(), expected.builtInError.get(e.getKey()), truth);
            ok &= c.ok;
            worst = Math.max(worst, c.ratio);
        }
        return new Check(ok, worst);
    }

    /**
     * The acceptance rule: oneDNN's error {@code err} (against float64 {@code truth}) is at most
     * {@value #ERROR_FACTOR} x DL4J's own error {@code own}, or below {@value #ERROR_FLOOR} of the largest value.
     */
    private static Check judge(double err, double own, INDArray truth) {
        double floor = ERROR_FLOOR * Math.max(truth.amaxNumber().doubleValue(), 1e-12);
        return new Check(err <= Math.max(ERROR_FACTOR * own, floor), err / Math.max(own, floor));
    }

    private static void apply(Net net, List<Integer> candidates, List<Integer> on,
                              Function<Layer, LayerHelper> helpers) {
        Layer[] layers = net.layers();
        for (int i : candidates) {
            setHelper(layers[i], on.contains(i) ? helpers.apply(layers[i]) : null);
        }
    }

    private static List<String> names(Net net, List<Integer> idx) {
        return idx.stream().map(net::name).toList();
    }

    /** DL4J's own oneDNN helper for the exact layer classes that have one; null for anything else. */
    static LayerHelper oneDnnHelper(Layer layer, DataType dataType) {
        return oneDnnHelper(layer, dataType, true);
    }

    /**
     * As {@link #oneDnnHelper(Layer, DataType)}. For float32, a convolution gets leukolab's {@link OneDnnConvolution}
     * (computing the gradient for its input only if {@code inputGradient}; a plain ReLU activation inside the kernel)
     * and batch normalisation {@link NchwBatchNorm};
     * other data types, or {@value #KERNELS_ENV}{@code =dl4j}, get DL4J's own oneDNN helpers.
     */
    static LayerHelper oneDnnHelper(Layer layer, DataType dataType, boolean inputGradient) {
        boolean own = dataType == DataType.FLOAT && !"dl4j".equalsIgnoreCase(System.getenv(KERNELS_ENV));
        if (layer.getClass() == ConvolutionLayer.class || layer instanceof ReluConvolutionLayer) {
            boolean relu = layer.conf().getLayer() instanceof org.deeplearning4j.nn.conf.layers.ConvolutionLayer c
                    && OneDnnConvolution.plainRelu(c.getActivationFn());
            return own ? new OneDnnConvolution(inputGradient, relu) : new MKLDNNConvHelper(dataType);
        }
        if (layer instanceof DepthwiseConvolutionLayer) {
            return own ? new OneDnnConvolution(true) : null; // DL4J has no helper for depthwise convolutions
        }
        if (layer.getClass() == BatchNormalization.class) {
            return own ? new NchwBatchNorm() : new MKLDNNBatchNormHelper(dataType);
        }
        if (layer.getClass() == SubsamplingLayer.class) {
            return new MKLDNNSubsamplingHelper(dataType);
        }
        return null;
    }

    /** The helper in use on {@code layer} (a depthwise layer's kernel), null for DL4J's own code. */
    static LayerHelper helperOf(Layer layer) {
        return layer instanceof DepthwiseConvolutionLayer d ? d.kernel() : layer.getHelper();
    }

    /** Sets the layer's private {@code helper} field (DL4J offers no setter), or a depthwise layer's kernel. */
    static void setHelper(Layer layer, LayerHelper helper) {
        if (layer instanceof DepthwiseConvolutionLayer d) {
            d.kernel((OneDnnConvolution) helper);
            return;
        }
        // exact classes only: subclasses (depthwise, ...) ignore the field; leukolab's ReluConvolutionLayer uses it
        Class<?> owner = layer instanceof ReluConvolutionLayer ? ConvolutionLayer.class : layer.getClass();
        if (owner != ConvolutionLayer.class && owner != BatchNormalization.class && owner != SubsamplingLayer.class) {
            return;
        }
        try {
            Field f = owner.getDeclaredField("helper");
            f.setAccessible(true);
            f.set(layer, helper);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot set the helper of " + owner.getName()
                    + " (a DL4J version other than 1.0.0-M2.1?)", e);
        }
    }
}

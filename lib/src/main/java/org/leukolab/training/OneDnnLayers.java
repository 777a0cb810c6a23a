package org.leukolab.training;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.Function;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.layers.FrozenLayer;
import org.deeplearning4j.nn.layers.LayerHelper;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.convolution.subsampling.SubsamplingLayer;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNBatchNormHelper;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNConvHelper;
import org.deeplearning4j.nn.layers.mkldnn.MKLDNNSubsamplingHelper;
import org.deeplearning4j.nn.layers.normalization.BatchNormalization;
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
 * the oneDNN kernels train report 000's CNN about 3x and report 002's about 4x faster (BENCHMARKS.md).
 *
 * <p>Why the check: oneDNN kernels are a different implementation, and one of them was measured to be wrong.
 * On the onednn-avx2 build, the convolution backward pass gave report 002's first layer (3 to 64 channels,
 * stride 1) a weight gradient 6% off at 64x64 (0.5% at 128x128), against both DL4J's built-in layer and a
 * float64 computation, while its bias gradient and every other layer agreed. Comparing oneDNN with DL4J's
 * float32 layers directly is not enough either: for report 002's network at 128x128 both float32 versions
 * are up to 6% away from float64 on some weight gradients (sums over half a million products), and equally
 * far. So {@link #install} computes the gradient and the output of the first {@value #PROBE_EXAMPLES}
 * examples of a real batch three times (DL4J's float32 layers, the same in float64, and oneDNN) and keeps
 * oneDNN only where, for every parameter and for the output, oneDNN's distance from float64 is at most
 * {@value #ERROR_FACTOR} times DL4J's own (or below {@value #ERROR_FLOOR} of the largest value). If the
 * whole set fails, layers are added one at a time (from the output end) and each is kept only if the check
 * still passes.
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
    /** Examples of the first batch used for the check (the float64 pass needs twice the memory of a step). */
    public static final int PROBE_EXAMPLES = 8;
    /** Environment variable: {@code 0}, {@code off} or {@code false} keeps DL4J's built-in layers. */
    public static final String ENV = "LEUKOLAB_ONEDNN";

    private OneDnnLayers() {}

    /**
     * What {@link #install} did: which layers run on oneDNN, which stayed built-in, and the largest ratio of
     * oneDNN's error to DL4J's own error (both against float64) over the kept set (1 = as accurate).
     */
    public record Report(List<String> onOneDnn, List<String> builtIn, double errorRatio, String reason) {
        public boolean active() {
            return !onOneDnn.isEmpty();
        }

        @Override
        public String toString() {
            if (onOneDnn.isEmpty() && builtIn.isEmpty()) {
                return "layers: DL4J built-in (" + reason + ")";
            }
            if (!reason.isEmpty()) {
                return "layers: " + onOneDnn.size() + " on oneDNN kernels (" + reason + ")";
            }
            String s = String.format(Locale.ROOT, "layers: %d of %d on oneDNN kernels (checked on a real batch against "
                            + "float64: oneDNN's error at most %.2fx DL4J's own float32 error)",
                    onOneDnn.size(), onOneDnn.size() + builtIn.size(), errorRatio);
            String which = builtIn.size() <= 5 ? String.join(", ", builtIn) : builtIn.size() + " layers";
            return builtIn.isEmpty() ? s : s + "; kept built-in because oneDNN was less accurate: " + which;
        }
    }

    /** True when the ND4J native build on the class path has oneDNN and {@value #ENV} does not turn it off. */
    public static boolean available() {
        String env = System.getenv(ENV);
        if (env != null && (env.equals("0") || env.equalsIgnoreCase("off") || env.equalsIgnoreCase("false"))) {
            return false;
        }
        return nativeOneDnn();
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
        if (!available()) {
            return unavailable();
        }
        DataType dt = net.params().dataType();
        return install(net, probe, l -> oneDnnHelper(l, dt));
    }

    private static Report unavailable() {
        return new Report(List.of(), List.of(), 0, nativeOneDnn() ? ENV + " turns it off" : "this ND4J build has no oneDNN");
    }

    /** As {@link #install(MultiLayerNetwork, DataSet)} with the helpers made by {@code helpers} (tests inject faulty ones). */
    static Report install(MultiLayerNetwork net, DataSet probe, Function<Layer, LayerHelper> helpers) {
        List<Integer> candidates = new ArrayList<>();
        Layer[] layers = net.getLayers();
        for (int i = 0; i < layers.length; i++) {
            if (helpers.apply(layers[i]) != null) {
                candidates.add(i);
            }
        }
        if (candidates.isEmpty()) {
            return new Report(List.of(), List.of(), 0, "no convolution, batch-normalisation or pooling layers");
        }
        long seed = net.getLayerWiseConfigurations().getConf(0).getSeed();
        int n = (int) Math.min(PROBE_EXAMPLES, probe.numExamples());
        DataSet small = n == probe.numExamples() ? probe : (DataSet) probe.getRange(0, n);
        MultiLayerNetwork reference = net.clone();
        for (Layer l : reference.getLayers()) {
            setHelper(l, null);
        }
        Result float32 = run(reference, small, seed);
        MultiLayerNetwork precise = reference.convertDataType(DataType.DOUBLE);
        Result float64 = run(precise, new DataSet(small.getFeatures().castTo(DataType.DOUBLE),
                small.getLabels().castTo(DataType.DOUBLE)), seed);
        Expected expected = new Expected(float64, errors(float32, float64));

        Check all = check(net, candidates, candidates, helpers, small, seed, expected);
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
                if (c.ok) {
                    kept.add(candidates.get(k));
                    best = c;
                } else {
                    rejected.add(candidates.get(k));
                }
            }
            apply(net, candidates, kept, helpers);
        }
        Nd4j.getRandom().setSeed(seed);
        return new Report(names(net, kept.stream().sorted().toList()), names(net, rejected.stream().sorted().toList()),
                best.ratio, "");
    }

    /**
     * The inference-only variant for a graph (a frozen backbone computing features): installs oneDNN helpers
     * on all its convolution, batch-normalisation and pooling layers if, on the first
     * {@value #PROBE_EXAMPLES} examples of {@code probe}, the output's distance from a float64 pass is at most
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
        if (!available()) {
            return unavailable();
        }
        DataType dt = graph.params().dataType();
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
        if (candidates.stream().anyMatch(l -> l.getHelper() != null)) {
            return new Report(names, List.of(), 1, "already installed");
        }
        long n = Math.min(PROBE_EXAMPLES, probe.size(0));
        INDArray x = probe.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(0, n)).dup();
        INDArray own = graph.outputSingle(false, x).dup();
        INDArray precise = graph.convertDataType(DataType.DOUBLE).outputSingle(false, x.castTo(DataType.DOUBLE));
        candidates.forEach(l -> setHelper(l, oneDnnHelper(l, dt)));
        double err;
        try {
            err = distance(graph.outputSingle(false, x), precise);
        } catch (RuntimeException e) {
            err = Double.POSITIVE_INFINITY;
        }
        graph.clearLayersStates();
        Check c = judge(err, distance(own, precise), precise);
        if (c.ok) {
            return new Report(names, List.of(), c.ratio, "");
        }
        candidates.forEach(l -> setHelper(l, null));
        return new Report(List.of(), names, c.ratio, "");
    }

    private record Result(Map<String, INDArray> gradients, INDArray output) {}

    /** The float64 result and DL4J's own float32 error per array ("output" for the output). */
    private record Expected(Result float64, Map<String, Double> builtInError) {}

    private record Check(boolean ok, double ratio) {}

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

    private static Check check(MultiLayerNetwork net, List<Integer> candidates, List<Integer> on,
                               Function<Layer, LayerHelper> helpers, DataSet probe, long seed, Expected expected) {
        apply(net, candidates, on, helpers);
        Map<String, Double> err;
        try {
            err = errors(run(net, probe, seed), expected.float64);
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

    private static Result run(MultiLayerNetwork net, DataSet probe, long seed) {
        net.setInput(probe.getFeatures());
        net.setLabels(probe.getLabels());
        Nd4j.getRandom().setSeed(seed); // the same dropout masks for both runs
        net.computeGradientAndScore();
        Map<String, INDArray> g = new LinkedHashMap<>();
        net.gradient().gradientForVariable().forEach((k, v) -> g.put(k, v.dup()));
        INDArray out = net.output(probe.getFeatures(), false).dup();
        net.clear();
        return new Result(g, out);
    }

    private static void apply(MultiLayerNetwork net, List<Integer> candidates, List<Integer> on,
                              Function<Layer, LayerHelper> helpers) {
        Layer[] layers = net.getLayers();
        for (int i : candidates) {
            setHelper(layers[i], on.contains(i) ? helpers.apply(layers[i]) : null);
        }
    }

    private static List<String> names(MultiLayerNetwork net, List<Integer> idx) {
        Layer[] layers = net.getLayers();
        return idx.stream().map(i -> i + " " + layers[i].getClass().getSimpleName()).toList();
    }

    /** DL4J's own oneDNN helper for the exact layer classes that have one; null for anything else. */
    static LayerHelper oneDnnHelper(Layer layer, DataType dataType) {
        if (layer.getClass() == ConvolutionLayer.class) {
            return new MKLDNNConvHelper(dataType);
        }
        if (layer.getClass() == BatchNormalization.class) {
            return new MKLDNNBatchNormHelper(dataType);
        }
        if (layer.getClass() == SubsamplingLayer.class) {
            return new MKLDNNSubsamplingHelper(dataType);
        }
        return null;
    }

    /** Sets the layer's private {@code helper} field (DL4J offers no setter). */
    static void setHelper(Layer layer, LayerHelper helper) {
        Class<?> owner = layer.getClass(); // exact classes only: subclasses (depthwise, ...) ignore the field
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

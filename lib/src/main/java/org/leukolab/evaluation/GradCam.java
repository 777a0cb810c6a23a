package org.leukolab.evaluation;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bytedeco.opencv.global.opencv_imgproc;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Size;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.FrozenVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.ActivationLayer;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BaseOutputLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayerWithBackprop;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.leukolab.models.FrozenBatchNorm;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.lossfunctions.ILossFunction;

/**
 * Grad-CAM (Selvaraju et al., 2017) for any layer of a {@link ComputationGraph} with a spatial output: the gradient of
 * a class's score (the output layer's value <em>before</em> softmax) with respect to the layer's activations, averaged
 * over space into one weight per channel; the channels summed with those weights; negative values cut (ReLU); the map
 * enlarged to the input's size and scaled to [0, 1].
 *
 * <p>How the gradient is obtained: the part of the network after the layer is rebuilt as a network of its own whose
 * input is that layer's output (other activations it needs that do not depend on the layer, such as a residual
 * branch from before it, are fed as further inputs, held constant), with the same parameters, every layer in inference
 * behaviour (batch normalisation with its stored statistics, no dropout, frozen wrappers removed), and an output whose
 * "loss" is minus the class score; DL4J's gradient with respect to that network's input is then exactly the gradient
 * Grad-CAM needs.
 */
public final class GradCam {
    private static final String PROBED = "gradcam_input";
    private final ComputationGraph graph;
    private final String layer;
    private final ComputationGraphConfiguration downstreamConf;
    private final List<String> sideInputs;
    private ComputationGraph downstream;
    private ComputationGraph unfused;
    private long[] probedShape;

    private GradCam(ComputationGraph graph, String layer, ComputationGraphConfiguration downstreamConf, List<String> sideInputs) {
        this.graph = graph;
        this.layer = layer;
        this.downstreamConf = downstreamConf;
        this.sideInputs = sideInputs;
    }

    /** Grad-CAM at {@code layer} of {@code graph} (a single-input, single-output classifier). */
    public static GradCam of(ComputationGraph graph, String layer) {
        ComputationGraphConfiguration conf = graph.getConfiguration().clone();
        if (!conf.getVertices().containsKey(layer)) {
            throw new IllegalArgumentException("the graph has no layer '" + layer + "'");
        }
        if (conf.getNetworkOutputs().size() != 1) {
            throw new IllegalArgumentException("Grad-CAM needs a graph with one output");
        }
        // vertices whose value depends on the layer
        Set<String> after = new HashSet<>();
        ArrayDeque<String> todo = new ArrayDeque<>(List.of(layer));
        while (!todo.isEmpty()) {
            String v = todo.pop();
            conf.getVertexInputs().forEach((name, inputs) -> {
                if (inputs.contains(v) && after.add(name)) {
                    todo.push(name);
                }
            });
        }
        String out = conf.getNetworkOutputs().get(0);
        if (!after.contains(out)) {
            throw new IllegalArgumentException("the output does not depend on '" + layer + "'");
        }
        List<String> sides = new ArrayList<>();
        Map<String, GraphVertex> vertices = new LinkedHashMap<>();
        Map<String, List<String>> inputs = new LinkedHashMap<>();
        for (String v : after) {
            vertices.put(v, inferenceVertex(conf.getVertices().get(v), v.equals(out)));
            inputs.put(v, new ArrayList<>(conf.getVertexInputs().get(v)));
            for (String in : conf.getVertexInputs().get(v)) {
                if (!in.equals(layer) && !after.contains(in) && !sides.contains(in)) {
                    sides.add(in);
                }
            }
        }
        List<String> netInputs = new ArrayList<>(List.of(PROBED));
        netInputs.addAll(sides);
        conf.setVertices(vertices);
        conf.setVertexInputs(inputs);
        conf.setNetworkInputs(netInputs);
        return new GradCam(graph, layer, conf, sides);
    }

    /**
     * The graph whose layer-by-layer activations are read: {@code graph} itself, or, when the trainer fused its frozen
     * layers for inference ({@code backend.InferenceFusion}: a fused layer's activation is its whole chain's result), an
     * unfused copy with the same parameters, made once.
     */
    private ComputationGraph activationsGraph() {
        if (!org.leukolab.backend.InferenceFusion.fused(graph)) {
            return graph;
        }
        if (unfused == null) {
            unfused = org.leukolab.backend.Graphs.copy(graph, graph.params().dataType());
        }
        return unfused;
    }

    /**
     * The part after the layer as a network of its own: its input goes through a {@link GradientProbe} named like the
     * layer (so the vertices after it find their input), then on as in the original, with the original's parameters.
     */
    private ComputationGraph downstream(long[] shape) {
        if (downstream != null && java.util.Arrays.equals(shape, probedShape)) {
            return downstream;
        }
        ComputationGraphConfiguration conf = downstreamConf.clone();
        GradientProbe probe = new GradientProbe(shape[1], shape[2], shape[3]);
        probe.setLayerName(layer);
        org.deeplearning4j.nn.conf.NeuralNetConfiguration nnc = new org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder()
                .updater(new org.nd4j.linalg.learning.config.NoOp()).layer(probe).build();
        conf.getVertices().put(layer, new LayerVertex(nnc, null));
        conf.getVertexInputs().put(layer, new ArrayList<>(List.of(PROBED)));
        org.leukolab.models.backbones.Transfer.keepSameDiffDataTypes(conf);
        ComputationGraph sub = new ComputationGraph(conf);
        sub.init();
        for (org.deeplearning4j.nn.api.Layer l : sub.getLayers()) {
            String name = l.conf().getLayer().getLayerName();
            if (name.equals(layer)) {
                continue;
            }
            INDArray p = graph.getLayer(name).params();
            if (p != null && l.numParams() > 0) {
                l.setParams(p.dup());
            }
        }
        downstream = sub;
        probedShape = shape.clone();
        return sub;
    }

    /** The vertex as it behaves at inference, with gradients flowing through; the output gives minus the class score. */
    private static GraphVertex inferenceVertex(GraphVertex v, boolean output) {
        GraphVertex x = v instanceof FrozenVertex fv ? fv.getUnderlying() : v;
        if (!(x instanceof LayerVertex lv)) {
            return x;
        }
        Layer l = lv.getLayerConf().getLayer();
        String name = l.getLayerName();
        while (l instanceof FrozenLayer || l instanceof FrozenLayerWithBackprop) {
            l = l instanceof FrozenLayer f ? f.getLayer() : ((FrozenLayerWithBackprop) l).getUnderlying();
        }
        if (l instanceof FrozenBatchNorm) {
            l = l.clone();
        } else if (l instanceof BatchNormalization bn) {
            l = FrozenBatchNorm.of(bn, true);
        } else if (l instanceof DropoutLayer) {
            l = new ActivationLayer.Builder().activation(Activation.IDENTITY).build();
        } else {
            l = l.clone();
            if (l instanceof BaseLayer bl) {
                bl.setIDropout(null);
            }
        }
        if (output) {
            if (!(l instanceof BaseOutputLayer ol)) {
                throw new IllegalArgumentException("Grad-CAM needs an output layer (dense + softmax), found " + l.getClass().getSimpleName());
            }
            ol.setActivationFn(Activation.IDENTITY.getActivationFunction());
            ol.setLossFn(new MinusClassScore());
        }
        l.setLayerName(name);
        lv.getLayerConf().setLayer(l);
        return lv;
    }

    /** The heat maps of {@code classes[i]} for image {@code i} of {@code input} (NCHW), each {@code [h, w]} of the input, in [0, 1]. */
    public double[][][] maps(INDArray input, int[] classes) {
        Map<String, INDArray> acts = activationsGraph().feedForward(input, false);
        INDArray a = acts.get(layer);
        if (a == null || a.rank() != 4) {
            throw new IllegalArgumentException("layer '" + layer + "' has no spatial output (its activations are "
                    + (a == null ? "missing" : java.util.Arrays.toString(a.shape())) + ")");
        }
        int n = (int) input.size(0);
        long k = graph.getLayer(graph.getConfiguration().getNetworkOutputs().get(0)).getParam("b").length();
        ComputationGraph sub = downstream(new long[] {1, a.size(1), a.size(2), a.size(3)});
        INDArray grad = Nd4j.create(a.dataType(), a.shape());
        for (int i = 0; i < n; i++) {
            // one image at a time: the probe's parameter gradient is then that image's gradient
            INDArray[] in = new INDArray[1 + sideInputs.size()];
            in[0] = a.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(i, i + 1)).dup();
            for (int s = 0; s < sideInputs.size(); s++) {
                in[s + 1] = acts.get(sideInputs.get(s)).get(org.nd4j.linalg.indexing.NDArrayIndex.interval(i, i + 1)).dup();
            }
            INDArray onehot = Nd4j.zeros(a.dataType(), 1, k);
            onehot.putScalar(0, classes[i], 1);
            sub.setInputs(in);
            sub.setLabels(onehot);
            org.leukolab.backend.SameDiffOutput.quiet(sub::computeGradientAndScore); // SameDiff layers print their graph building
            // the loss was minus the class score: its gradient, negated, is d score / d activations
            grad.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(i, i + 1)).assign(sub.gradient().getGradientFor(layer + "_b").neg());
        }
        int h = (int) input.size(2);
        int w = (int) input.size(3);
        double[][][] out = new double[n][][];
        int c = (int) a.size(1);
        int hl = (int) a.size(2);
        int wl = (int) a.size(3);
        for (int i = 0; i < n; i++) {
            double[] act = a.slice(i).castTo(DataType.DOUBLE).dup('c').data().asDouble();   // [c, hl, wl]
            double[] gr = grad.slice(i).castTo(DataType.DOUBLE).dup('c').data().asDouble();
            double[][] cam = new double[hl][wl];
            for (int ch = 0; ch < c; ch++) {
                double weight = 0;                                  // the channel's gradient, averaged over space
                for (int q = 0; q < hl * wl; q++) {
                    weight += gr[ch * hl * wl + q];
                }
                weight /= hl * wl;
                for (int q = 0; q < hl * wl; q++) {
                    cam[q / wl][q % wl] += weight * act[ch * hl * wl + q];
                }
            }
            out[i] = normalise(upsample(relu(cam), h, w));
        }
        return out;
    }

    private static double[][] relu(double[][] m) {
        for (double[] row : m) {
            for (int j = 0; j < row.length; j++) {
                row[j] = Math.max(0, row[j]);
            }
        }
        return m;
    }

    private static double[][] upsample(double[][] m, int h, int w) {
        if (m.length == h && m[0].length == w) {
            return m;
        }
        try (Mat src = new Mat(m.length, m[0].length, org.bytedeco.opencv.global.opencv_core.CV_64F); Mat dst = new Mat()) {
            var ix = src.<org.bytedeco.javacpp.indexer.DoubleIndexer>createIndexer();
            for (int r = 0; r < m.length; r++) {
                for (int c = 0; c < m[0].length; c++) {
                    ix.put(r, c, m[r][c]);
                }
            }
            ix.close();
            opencv_imgproc.resize(src, dst, new Size(w, h), 0, 0, opencv_imgproc.INTER_LINEAR);
            double[][] out = new double[h][w];
            var dx = dst.<org.bytedeco.javacpp.indexer.DoubleIndexer>createIndexer();
            for (int r = 0; r < h; r++) {
                for (int c = 0; c < w; c++) {
                    out[r][c] = dx.get(r, c);
                }
            }
            dx.close();
            return out;
        }
    }

    private static double[][] normalise(double[][] m) {
        double max = 0;
        for (double[] row : m) {
            for (double v : row) {
                max = Math.max(max, v);
            }
        }
        if (max > 0) {
            for (double[] row : m) {
                for (int j = 0; j < row.length; j++) {
                    row[j] /= max;
                }
            }
        }
        return m;
    }

    /** The layer the maps are taken at. */
    public String layer() {
        return layer;
    }

    /** A "loss" equal to minus the class score: {@code -sum(labels * output)} with the output layer's identity activation. */
    static final class MinusClassScore implements ILossFunction {
        @Override
        public double computeScore(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask, boolean average) {
            double s = computeScoreArray(labels, preOutput, activationFn, mask).sumNumber().doubleValue();
            return average ? s / labels.size(0) : s;
        }

        @Override
        public INDArray computeScoreArray(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
            INDArray out = activationFn.getActivation(preOutput.dup(), false);
            return out.mul(labels).sum(1).negi();
        }

        @Override
        public INDArray computeGradient(INDArray labels, INDArray preOutput, IActivation activationFn, INDArray mask) {
            return activationFn.backprop(preOutput.dup(), labels.neg()).getFirst();
        }

        @Override
        public Pair<Double, INDArray> computeGradientAndScore(INDArray labels, INDArray preOutput, IActivation activationFn,
                                                              INDArray mask, boolean average) {
            return new Pair<>(computeScore(labels, preOutput, activationFn, mask, average),
                    computeGradient(labels, preOutput, activationFn, mask));
        }

        @Override
        public String name() {
            return "MinusClassScore";
        }
    }
}

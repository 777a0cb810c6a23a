package org.leukolab.models.backbones;

import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.FrozenVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayer;
import org.deeplearning4j.nn.conf.layers.misc.FrozenLayerWithBackprop;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.leukolab.models.FrozenBatchNorm;
import org.deeplearning4j.nn.transferlearning.FineTuneConfiguration;
import org.deeplearning4j.nn.transferlearning.TransferLearning;
import org.nd4j.linalg.learning.config.IUpdater;

/**
 * Transfer learning on a {@link Backbone}: a head on top, part or all of the backbone frozen, and later
 * fine-tuning with another freezing and learning rate.
 *
 * <pre>{@code
 * ComputationGraph model = Transfer.classifier(backbone, Head.globalAveragePooling().dense(16).batchNorm().softmax(5),
 *                                              new AdamW(1e-3), 42, Freeze.all());
 * ... train the head ...
 * ComputationGraph tuned = Transfer.fineTune(model, backbone, Freeze.firstFraction(0.4).keepBatchNormFrozen(), new Adam(1e-4));
 * }</pre>
 *
 * <p>Layers frozen as a leading block become DL4J frozen layers and vertices (no backpropagation into
 * them); batch-norm layers kept frozen inside the trainable part become {@link FrozenBatchNorm}s inside
 * DL4J's {@code FrozenLayerWithBackprop}, which pass gradients through without updating. Both run in inference mode, as Keras runs layers with
 * {@code trainable = False}.
 */
public final class Transfer {
    private Transfer() {}

    /** Backbone + head in one graph, frozen as asked; the backbone's weights are kept, the head is new. */
    public static ComputationGraph classifier(Backbone backbone, Head head, IUpdater updater, long seed, Freeze freeze) {
        return classifier(backbone, head, org.leukolab.models.Optimizer.of(updater), seed, freeze);
    }

    /** As above, with an optimiser (e.g. {@code Optimizer.adamW(1e-3)}, Adam with decoupled weight decay). */
    public static ComputationGraph classifier(Backbone backbone, Head head, org.leukolab.models.Optimizer optimizer, long seed,
                                              Freeze freeze) {
        if (backbone.includeTop()) {
            throw new IllegalArgumentException("build the backbone without its ImageNet top to put a new head on it");
        }
        int[] hwc = featureShape(backbone);
        TransferLearning.GraphBuilder tb = new TransferLearning.GraphBuilder(backbone.graph())
                .fineTuneConfiguration(new FineTuneConfiguration.Builder().updater(optimizer.updater().clone()).seed(seed).build());
        String out = head.appendTo(new Head.Sink() {
            @Override
            public void layer(String name, Layer layer, String input) {
                tb.addLayer(name, layer, input);
            }

            @Override
            public void vertex(String name, GraphVertex vertex, String input) {
                tb.addVertex(name, vertex, input);
            }
        }, backbone.featureLayer(), hwc[0], hwc[1], hwc[2]);
        tb.setOutputs(out);
        return refreeze(tb.build(), backbone, freeze, optimizer);
    }

    /**
     * The same network with a new freezing and a new updater (e.g. a lower learning rate) for every
     * trainable layer; weights are kept, the optimiser state starts afresh (as a Keras re-compile does).
     */
    public static ComputationGraph fineTune(ComputationGraph model, Backbone backbone, Freeze freeze, IUpdater updater) {
        return refreeze(model, backbone, freeze, org.leukolab.models.Optimizer.of(updater));
    }

    /** As above with an optimiser (its updater and weight decay go to every layer). */
    public static ComputationGraph fineTune(ComputationGraph model, Backbone backbone, Freeze freeze,
                                            org.leukolab.models.Optimizer optimizer) {
        return refreeze(model, backbone, freeze, optimizer);
    }

    /**
     * Copies a head trained alone on cached features ({@link Head#standalone}) into a classifier built with
     * the same head by {@link #classifier}: vertices are matched by their {@code head_*} names.
     */
    public static void copyHead(ComputationGraph trainedHead, ComputationGraph classifier) {
        int copied = 0;
        for (org.deeplearning4j.nn.api.Layer l : trainedHead.getLayers()) {
            String name = l.conf().getLayer().getLayerName();
            if (!name.startsWith("head_")) {
                continue;
            }
            org.deeplearning4j.nn.api.Layer target = classifier.getLayer(name);
            if (target == null) {
                throw new IllegalArgumentException("the classifier has no layer " + name + ": was it built with the same head?");
            }
            for (Map.Entry<String, org.nd4j.linalg.api.ndarray.INDArray> p : l.paramTable().entrySet()) {
                target.getParam(p.getKey()).assign(p.getValue());
            }
            copied++;
        }
        if (copied == 0) {
            throw new IllegalArgumentException("the trained head has no head_* layers");
        }
    }

    /** The feature map of the backbone's feature layer: {h, w, c}. */
    public static int[] featureShape(Backbone b) {
        ComputationGraphConfiguration conf = b.graph().getConfiguration();
        Map<String, InputType> types = conf.getLayerActivationTypes(InputType.convolutional(b.inputSize(), b.inputSize(), 3));
        InputType.InputTypeConvolutional t = (InputType.InputTypeConvolutional) types.get(b.featureLayer());
        return new int[] {(int) t.getHeight(), (int) t.getWidth(), (int) t.getChannels()};
    }

    /**
     * A Keras-style summary of a classifier built by {@link #classifier}: the backbone as one row (its parameters
     * summed, its output the feature map), then every head layer in order, each with its output shape and parameter
     * count, and a total row.
     */
    public static tech.tablesaw.api.Table summary(ComputationGraph g, Backbone backbone) {
        int s = backbone.inputSize();
        // on a copy: working out the activation types fills in the configuration, which would change its JSON
        // (and so the signature under which the trainer finds its checkpoints)
        Map<String, InputType> types = g.getConfiguration().clone().getLayerActivationTypes(InputType.convolutional(s, s, 3));
        var layer = tech.tablesaw.api.StringColumn.create("layer");
        var shape = tech.tablesaw.api.StringColumn.create("output shape");
        var params = tech.tablesaw.api.LongColumn.create("parameters");
        long backboneParams = 0;
        List<String> head = new ArrayList<>();
        for (int i : g.topologicalSortOrder()) {
            var v = g.getVertices()[i];
            if (v.isInputVertex()) {
                continue;
            }
            if (v.getVertexName().startsWith("head_")) {
                head.add(v.getVertexName());
            } else if (v.hasLayer()) {
                backboneParams += v.getLayer().numParams();
            }
        }
        layer.append("input");
        shape.append(shapeOf(InputType.convolutional(s, s, 3)));
        params.append(0);
        layer.append(backbone.architecture());
        shape.append(shapeOf(types.get(backbone.featureLayer())));
        params.append(backboneParams);
        for (String n : head) {
            var v = g.getVertex(n);
            layer.append(n);
            shape.append(shapeOf(types.get(n)));
            params.append(v.hasLayer() ? v.getLayer().numParams() : 0);
        }
        layer.append("total");
        shape.append("");
        params.append(g.numParams());
        return tech.tablesaw.api.Table.create(backbone.architecture() + " classifier", layer, shape, params);
    }

    private static String shapeOf(InputType t) {
        if (t instanceof InputType.InputTypeConvolutional c) {
            return "(" + c.getHeight() + ", " + c.getWidth() + ", " + c.getChannels() + ")";
        }
        return t == null ? "" : "(" + t.arrayElementsPerExample() + ")";
    }

    /** Names of the layers that are frozen in a graph (DL4J FrozenLayer or FrozenLayerWithBackprop). */
    public static List<String> frozenLayers(ComputationGraph g) {
        List<String> out = new ArrayList<>();
        g.getConfiguration().getVertices().forEach((name, v) -> {
            if (v instanceof LayerVertex lv && isFrozen(lv.getLayerConf().getLayer())) {
                out.add(name);
            }
        });
        return out;
    }

    /**
     * Names of the batch-norm layers that would change in training (scale, shift or running statistics): none once
     * the whole backbone or {@link Freeze#keepBatchNormFrozen()} froze them; a head's own batch norm is listed.
     */
    public static List<String> trainableBatchNorms(ComputationGraph g) {
        List<String> out = new ArrayList<>();
        g.getConfiguration().getVertices().forEach((name, v) -> {
            if (v instanceof LayerVertex lv && lv.getLayerConf().getLayer() instanceof BatchNormalization) {
                out.add(name);
            }
        });
        return out;
    }

    private static boolean isFrozen(Layer l) {
        return l instanceof FrozenLayer || l instanceof FrozenLayerWithBackprop || l instanceof FrozenBatchNorm;
    }

    /** The trainable form of a layer: frozen wrappers removed, frozen batch norm back to batch norm. */
    private static Layer trainable(Layer l) {
        Layer inner = l;
        while (inner instanceof FrozenLayer || inner instanceof FrozenLayerWithBackprop) {
            inner = inner instanceof FrozenLayer f ? f.getLayer() : ((FrozenLayerWithBackprop) inner).getUnderlying();
        }
        return inner instanceof FrozenBatchNorm fbn ? fbn.toBatchNormalization() : inner;
    }

    /**
     * Rebuilds the graph with the given freezing, keeping every parameter: (1) everything made trainable
     * again; (2) the leading fraction of the backbone frozen with DL4J's own feature-extractor freezing
     * (frozen layers and vertices, no backpropagation into them); (3) batch-norm layers of the trainable
     * part turned into {@link FrozenBatchNorm}s if asked. EfficientNet's input normalisation always stays
     * frozen.
     */
    private static ComputationGraph refreeze(ComputationGraph g, Backbone backbone, Freeze freeze,
                                             org.leukolab.models.Optimizer optimizer) {
        Set<String> alwaysFrozen = new HashSet<>();
        backbone.mappedLayers().stream().filter(m -> m.kind() == KerasGraph.Kind.NORMALIZATION)
                .forEach(m -> alwaysFrozen.add(m.name()));

        // (1) plain, trainable configuration with the same parameter layout
        ComputationGraphConfiguration conf = g.getConfiguration().clone();
        for (Map.Entry<String, GraphVertex> e : new ArrayList<>(conf.getVertices().entrySet())) {
            GraphVertex v = e.getValue();
            if (v instanceof FrozenVertex fv) {
                conf.getVertices().put(e.getKey(), fv.getUnderlying());
            } else if (v instanceof LayerVertex lv && !alwaysFrozen.contains(e.getKey())) {
                Layer t = trainable(lv.getLayerConf().getLayer());
                t.setLayerName(e.getKey());
                lv.getLayerConf().setLayer(t);
            }
        }
        if (optimizer != null) {
            optimizer.applyTo(conf);
        }
        keepSameDiffDataTypes(conf);
        ComputationGraph plain = new ComputationGraph(conf);
        plain.init(g.params().dup(), false);

        // (2) the leading block: backbone vertices in topological order, counted as Keras layers
        List<String> order = new ArrayList<>();
        for (int i : plain.topologicalSortOrder()) {
            org.deeplearning4j.nn.graph.vertex.GraphVertex v = plain.getVertices()[i];
            if (!v.isInputVertex() && !v.getVertexName().startsWith("head_")) {
                order.add(v.getVertexName());
            }
        }
        long kerasLayers = order.stream().filter(n -> !n.contains("__")).count();
        long leading = Math.round(freeze.fraction() * kerasLayers);
        List<String> prefix = new ArrayList<>();
        long counted = 0;
        for (String n : order) {
            if (counted >= leading) {
                break;
            }
            prefix.add(n);
            if (!n.contains("__")) {
                counted++;
            }
        }
        ComputationGraph frozen = prefix.isEmpty() ? plain
                : new TransferLearning.GraphBuilder(plain).setFeatureExtractor(prefix.toArray(String[]::new)).build();

        // (3) batch norm kept frozen inside the trainable part
        if (!freeze.batchNormFrozen() || prefix.size() == order.size()) {
            return frozen;
        }
        Set<String> inPrefix = new HashSet<>(prefix);
        ComputationGraphConfiguration c2 = frozen.getConfiguration().clone();
        boolean changed = false;
        for (String n : order) {
            if (!inPrefix.contains(n) && c2.getVertices().get(n) instanceof LayerVertex lv
                    && lv.getLayerConf().getLayer() instanceof BatchNormalization bn) {
                FrozenBatchNorm inner = FrozenBatchNorm.of(bn, true);
                inner.setLayerName(n);
                FrozenLayerWithBackprop wrapper = new FrozenLayerWithBackprop(inner); // zeroes its gradients
                wrapper.setLayerName(n);
                lv.getLayerConf().setLayer(wrapper);
                changed = true;
            }
        }
        if (!changed) {
            return frozen;
        }
        keepSameDiffDataTypes(c2);
        ComputationGraph out = new ComputationGraph(c2);
        out.init(frozen.params().dup(), false);
        return out;
    }

    /**
     * DL4J's configuration clone leaves a SameDiff vertex (such as {@link ChannelScaleVertex}) without its data type
     * when it sits inside a {@link FrozenVertex}, and the graph then cannot be built ("Unknown datatype is not allowed
     * for SDVariables"): give every such vertex the configuration's data type again.
     */
    public static void keepSameDiffDataTypes(ComputationGraphConfiguration c) {
        org.leukolab.backend.Graphs.keepSameDiffDataTypes(c);
    }
}

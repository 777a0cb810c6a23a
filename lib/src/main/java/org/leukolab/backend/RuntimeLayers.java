package org.leukolab.backend;

import java.lang.reflect.Field;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.impl.LayerVertex;
import org.deeplearning4j.nn.layers.AbstractLayer;
import org.deeplearning4j.nn.layers.BaseLayer;
import org.deeplearning4j.nn.layers.wrapper.BaseWrapperLayer;

/**
 * Shared by leukolab's runtime subclasses of DL4J layers ({@link ReluConvolutionLayer},
 * {@link DepthwiseConvolutionLayer}, {@link FusedLayers}), which take an existing layer's place in a network: the state a
 * network gives a layer after building it, and the swap itself.
 */
final class RuntimeLayers {
    private RuntimeLayers() {}

    /**
     * Gives {@code replacement} (built from {@code original}'s configuration and data type) {@code original}'s listeners,
     * index, parameters, gradient arrays (made by the network on its first training step), cache mode and counters.
     */
    static void copyState(BaseLayer<?> original, BaseLayer<?> replacement) {
        copyState((AbstractLayer<?>) original, replacement);
        replacement.setParamsViewArray(original.params());
        replacement.setParamTable(original.paramTable());
        if (original.getGradientsViewArray() != null) {
            replacement.setBackpropGradientsViewArray(original.getGradientsViewArray());
        }
    }

    /** As {@link #copyState(BaseLayer, BaseLayer)} for a layer without parameters. */
    static void copyState(AbstractLayer<?> original, AbstractLayer<?> replacement) {
        replacement.setListeners(original.getListeners());
        replacement.setIndex(original.getIndex());
        replacement.setCacheMode(original.getCacheMode());
        replacement.setIterationCount(original.getIterationCount());
        replacement.setEpochCount(original.getEpochCount());
    }

    /** The layer a vertex runs, unwrapped from DL4J's frozen (or other) wrapper. */
    static Layer inner(LayerVertex v) {
        return unwrapped(v.getLayer());
    }

    /** {@code l} itself, or the layer inside it if it is DL4J's frozen (or other) wrapper. */
    static Layer unwrapped(Layer l) {
        return l instanceof BaseWrapperLayer w ? w.getUnderlying() : l;
    }

    /**
     * Puts {@code replacement} in the place of the layer {@code v} runs: inside its wrapper if it has one (a frozen layer
     * stays frozen), else as the vertex's layer and in the graph's list of layers. Nothing else changes.
     */
    static void replace(ComputationGraph graph, LayerVertex v, Layer replacement) {
        try {
            Layer l = v.getLayer();
            if (l instanceof BaseWrapperLayer w) {
                Field wrapped = BaseWrapperLayer.class.getDeclaredField("underlying");
                wrapped.setAccessible(true);
                wrapped.set(w, replacement);
                return;
            }
            Field vertexLayer = LayerVertex.class.getDeclaredField("layer");
            Field graphLayers = ComputationGraph.class.getDeclaredField("layers");
            vertexLayer.setAccessible(true);
            graphLayers.setAccessible(true);
            vertexLayer.set(v, replacement);
            Layer[] layers = graph.getLayers();
            for (int i = 0; i < layers.length; i++) {
                if (layers[i] == l) {
                    layers[i] = replacement;
                }
            }
            graphLayers.set(graph, layers);
        } catch (ReflectiveOperationException e) {
            throw new IllegalStateException("cannot replace the layers of a ComputationGraph (a DL4J version other than 1.0.0-M2.1?)", e);
        }
    }
}

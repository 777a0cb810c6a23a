package org.leukolab.backend;

import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.graph.FrozenVertex;
import org.deeplearning4j.nn.conf.graph.GraphVertex;
import org.deeplearning4j.nn.conf.layers.samediff.SameDiffVertex;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Copies of DL4J graphs that survive a DL4J 1.0.0-M2.1 bug: its configuration clone leaves a SameDiff vertex (such as
 * EfficientNet's squeeze-and-excitation scaling) without its data type when it sits inside a {@code FrozenVertex}, and the
 * copy then cannot be built ("Unknown datatype is not allowed for SDVariables"). {@code ComputationGraph.clone()} and
 * {@code convertDataType(...)} both go through that clone.
 */
public final class Graphs {
    private Graphs() {}

    /** Gives every SameDiff vertex without a data type (frozen or not) the configuration's data type again. */
    public static void keepSameDiffDataTypes(ComputationGraphConfiguration c) {
        for (GraphVertex v : c.getVertices().values()) {
            GraphVertex inner = v instanceof FrozenVertex fv ? fv.getUnderlying() : v;
            if (inner instanceof SameDiffVertex sd && sd.getDataType() == null) {
                sd.setDataType(c.getDataType());
            }
        }
    }

    /** A copy of {@code g} with its parameters (copied, converted to {@code type}); no updater state, no helpers. */
    public static ComputationGraph copy(ComputationGraph g, DataType type) {
        ComputationGraphConfiguration c = g.getConfiguration().clone();
        c.setDataType(type);
        for (GraphVertex v : c.getVertices().values()) {
            GraphVertex inner = v instanceof FrozenVertex fv ? fv.getUnderlying() : v;
            if (inner instanceof SameDiffVertex sd) {
                sd.setDataType(type);
            }
        }
        ComputationGraph out = new ComputationGraph(c);
        INDArray params = g.params().castTo(type);
        // castTo made a new array unless the type is the same: no second copy (EfficientNetV2L's float64 copy: 0.9 GB)
        out.init(params == g.params() ? params.dup() : params, false);
        return out;
    }

    /**
     * Frees the parameters of a copy made by {@link #copy} now, not when the garbage collector finds it (EfficientNetV2L's
     * float64 copy is 0.9 GB of native memory). The copy must not be used after this.
     */
    public static void free(ComputationGraph copy) {
        INDArray params = copy.params();
        if (params != null && params.closeable()) {
            params.close();
        }
    }
}

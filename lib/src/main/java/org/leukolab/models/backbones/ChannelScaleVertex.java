package org.leukolab.models.backbones;

import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.MaskState;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.samediff.SameDiffLambdaVertex;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.BaseGraphVertex;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Squeeze-and-excitation's last step, which DL4J has no vertex for: a feature map {@code [n, c, h, w]}
 * times a per-channel vector {@code [n, c]} (Keras: {@code multiply([x, se])} with se of shape
 * {@code (1, 1, c)}).
 *
 * <p>Defined in SameDiff ({@link #defineVertex}: the reference, and what the configuration says), but run by
 * {@link Runtime}, which computes the same product and its two gradients with one broadcast multiplication
 * ({@link org.leukolab.backend.ChannelScale}: oneDNN's, or ND4J's off the CPU backend) and one reduction:
 * SameDiff's graph execution cost 3.6 ms a call for EfficientNetB0 at 96x96 (14% of its inference pass,
 * docs/speed-depthwise.md). Only the runtime object differs; saved networks are unchanged.
 */
public class ChannelScaleVertex extends SameDiffLambdaVertex {
    @Override
    public SDVariable defineVertex(SameDiff sd, VertexInputs inputs) {
        SDVariable x = inputs.getInput(0);
        SDVariable s = inputs.getInput(1);
        SDVariable s4 = sd.expandDims(sd.expandDims(s, 2), 3); // [n, c, 1, 1]
        return x.mul(s4);
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType... vertexInputs) {
        return vertexInputs[0];
    }

    @Override
    public org.deeplearning4j.nn.graph.vertex.GraphVertex instantiate(ComputationGraph graph, String name, int idx,
                                                                      INDArray paramsView, boolean initializeParams,
                                                                      DataType networkDatatype) {
        return new Runtime(graph, name, idx, networkDatatype);
    }

    /** SameDiff's own vertex for this configuration (the reference the tests compare {@link Runtime} with). */
    org.deeplearning4j.nn.graph.vertex.GraphVertex sameDiffInstance(ComputationGraph graph, String name, int idx,
                                                                    DataType networkDatatype) {
        return super.instantiate(graph, name, idx, null, false, networkDatatype);
    }

    /** {@code out = x * s[:, :, None, None]}; backward {@code dx = eps * s}, {@code ds = sum over h, w of eps * x}. */
    static final class Runtime extends BaseGraphVertex {
        Runtime(ComputationGraph graph, String name, int idx, DataType dataType) {
            super(graph, name, idx, null, null, dataType);
        }

        @Override
        public boolean hasLayer() {
            return false;
        }

        @Override
        public Layer getLayer() {
            return null;
        }

        private static INDArray scaled(INDArray x, INDArray s, INDArray out) {
            return org.leukolab.backend.ChannelScale.multiply(x, s.castTo(x.dataType()), out);
        }

        @Override
        public INDArray doForward(boolean training, LayerWorkspaceMgr mgr) {
            if (!canDoForward()) {
                throw new IllegalStateException("Cannot do forward pass: inputs not set (" + vertexName + ")");
            }
            INDArray x = inputs[0];
            INDArray s = inputs[1];
            if (x.rank() != 4 || s.rank() != 2 || x.size(0) != s.size(0) || x.size(1) != s.size(1)) {
                throw new IllegalArgumentException("channel scale " + vertexName + " takes [n, c, h, w] and [n, c], got "
                        + java.util.Arrays.toString(x.shape()) + " and " + java.util.Arrays.toString(s.shape()));
            }
            return scaled(x, s, mgr.createUninitialized(ArrayType.ACTIVATIONS, x.dataType(), x.shape(), 'c'));
        }

        @Override
        public Pair<Gradient, INDArray[]> doBackward(boolean tbptt, LayerWorkspaceMgr mgr) {
            if (!canDoBackward()) {
                throw new IllegalStateException("Cannot do backward pass: errors not set (" + vertexName + ")");
            }
            INDArray x = inputs[0];
            INDArray s = inputs[1];
            INDArray dx = scaled(epsilon, s, mgr.createUninitialized(ArrayType.ACTIVATION_GRAD, epsilon.dataType(), x.shape(), 'c'));
            INDArray ds;
            try (MemoryWorkspace ws = mgr.notifyScopeBorrowed(ArrayType.ACTIVATION_GRAD)) {
                ds = epsilon.mul(x).sum(2, 3).castTo(s.dataType());
            }
            return new Pair<>(null, new INDArray[] {dx, ds});
        }

        @Override
        public void setBackpropGradientsViewArray(INDArray view) {
            if (view != null) {
                throw new IllegalStateException("channel scale " + vertexName + " has no parameters");
            }
        }

        @Override
        public Pair<INDArray, MaskState> feedForwardMaskArrays(INDArray[] masks, MaskState state, int minibatchSize) {
            return masks == null || masks.length == 0 ? null : new Pair<>(masks[0], state);
        }

        @Override
        public String toString() {
            return "ChannelScaleVertex(id=" + vertexIndex + ",name=\"" + vertexName + "\")";
        }
    }
}

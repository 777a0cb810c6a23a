package org.leukolab.models.backbones;

import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.samediff.SameDiffLambdaVertex;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;

/**
 * Squeeze-and-excitation's last step, which DL4J has no vertex for: a feature map {@code [n, c, h, w]}
 * times a per-channel vector {@code [n, c]} (Keras: {@code multiply([x, se])} with se of shape
 * {@code (1, 1, c)}). Defined in SameDiff, so it trains like any other vertex.
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
}

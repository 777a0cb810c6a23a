package org.leukolab.evaluation;

import java.util.Map;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.deeplearning4j.nn.conf.layers.samediff.SameDiffLayer;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * {@code x + b}, with {@code b} a parameter the shape of one example ({@code [1, c, h, w]}) set to zero: it changes
 * nothing, and for a batch of one, the gradient DL4J computes for {@code b} is the gradient of the loss with respect to
 * {@code x}. DL4J's ComputationGraph has no call that returns the gradient at an input, so {@link GradCam} reads it
 * here.
 */
public class GradientProbe extends SameDiffLayer {
    private long channels;
    private long height;
    private long width;

    /** For JSON. */
    public GradientProbe() {
    }

    public GradientProbe(long channels, long height, long width) {
        this.channels = channels;
        this.height = height;
        this.width = width;
    }

    public long getChannels() {
        return channels;
    }

    public void setChannels(long channels) {
        this.channels = channels;
    }

    public long getHeight() {
        return height;
    }

    public void setHeight(long height) {
        this.height = height;
    }

    public long getWidth() {
        return width;
    }

    public void setWidth(long width) {
        this.width = width;
    }

    @Override
    public SDVariable defineLayer(SameDiff sd, SDVariable x, Map<String, SDVariable> p, SDVariable mask) {
        return x.add(p.get("b"));
    }

    @Override
    public void defineParameters(SDLayerParams params) {
        params.clear();
        params.addWeightParam("b", 1, channels, height, width);
    }

    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        params.get("b").assign(0);
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        return inputType;
    }
}

package org.leukolab.models;

import java.util.Map;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.samediff.SDLayerParams;
import org.deeplearning4j.nn.conf.layers.samediff.SameDiffLayer;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Batch normalisation in inference mode — {@code gamma * (x - mean) / sqrt(var + eps) + beta} with the
 * stored statistics — with correct gradients with respect to its input. This is what a Keras
 * BatchNormalization layer with {@code trainable = False} does inside a network that is otherwise being
 * trained. DL4J's own BatchNormalization cannot do it: its backward pass always assumes batch statistics,
 * and wrapped in {@code FrozenLayerWithBackprop} it fails. Wrap this one in {@code FrozenLayerWithBackprop}
 * (which zeroes its parameter gradients); gradients still flow to the layers before it.
 *
 * <p>Its parameters have the same names, shapes and order as DL4J's BatchNormalization (with
 * {@code useLogStd(false)}): gamma, beta, mean, var, each {@code [1, channels]}. A network can therefore
 * swap one for the other and keep its parameter vector.
 */
public class FrozenBatchNorm extends SameDiffLayer {
    private long channels;
    private double eps;
    private double decay = 0.99;
    private boolean convolutional;

    /** For JSON deserialisation. */
    public FrozenBatchNorm() {
        noUpdates();
    }

    /** Its numbers never change: no updater, no regularisation (also when built outside a network builder). */
    private void noUpdates() {
        this.updater = new org.nd4j.linalg.learning.config.NoOp();
        this.biasUpdater = new org.nd4j.linalg.learning.config.NoOp();
        this.regularization = new java.util.ArrayList<>();
        this.regularizationBias = new java.util.ArrayList<>();
    }

    /** @param decay the momentum the layer had while trainable, kept so unfreezing restores it */
    public FrozenBatchNorm(long channels, double eps, double decay, boolean convolutional) {
        this.channels = channels;
        this.eps = eps;
        this.decay = decay;
        this.convolutional = convolutional;
        noUpdates();
    }

    /** The inference-mode equivalent of a DL4J batch-norm layer (same parameters). */
    public static FrozenBatchNorm of(org.deeplearning4j.nn.conf.layers.BatchNormalization bn, boolean convolutional) {
        return new FrozenBatchNorm(bn.getNOut(), bn.getEps(), bn.getDecay(), convolutional);
    }

    /** Back to a trainable DL4J batch-norm layer with the same parameter layout. */
    public org.deeplearning4j.nn.conf.layers.BatchNormalization toBatchNormalization() {
        org.deeplearning4j.nn.conf.layers.BatchNormalization bn = new org.deeplearning4j.nn.conf.layers.BatchNormalization.Builder()
                .eps(eps).decay(decay).useLogStd(false).build();
        bn.setNIn(channels);
        bn.setNOut(channels);
        bn.setLayerName(getLayerName());
        return bn;
    }

    public double getDecay() {
        return decay;
    }

    public void setDecay(double decay) {
        this.decay = decay;
    }

    public long getChannels() {
        return channels;
    }

    public void setChannels(long channels) {
        this.channels = channels;
    }

    public double getEps() {
        return eps;
    }

    public void setEps(double eps) {
        this.eps = eps;
    }

    public boolean isConvolutional() {
        return convolutional;
    }

    public void setConvolutional(boolean convolutional) {
        this.convolutional = convolutional;
    }

    @Override
    public SDVariable defineLayer(SameDiff sd, SDVariable x, Map<String, SDVariable> p, SDVariable mask) {
        long[] shape = convolutional ? new long[] {1, channels, 1, 1} : new long[] {1, channels};
        SDVariable gamma = p.get("gamma").reshape(shape);
        SDVariable beta = p.get("beta").reshape(shape);
        SDVariable mean = p.get("mean").reshape(shape);
        SDVariable std = sd.math().sqrt(p.get("var").reshape(shape).add(eps));
        return x.sub(mean).div(std).mul(gamma).add(beta);
    }

    @Override
    public void defineParameters(SDLayerParams params) {
        params.clear();
        for (String k : new String[] {"gamma", "beta", "mean", "var"}) {
            params.addWeightParam(k, 1, channels);
        }
    }

    @Override
    public void initializeParameters(Map<String, INDArray> params) {
        params.get("gamma").assign(1);
        params.get("beta").assign(0);
        params.get("mean").assign(0);
        params.get("var").assign(1);
    }

    @Override
    public void applyGlobalConfigToLayer(org.deeplearning4j.nn.conf.NeuralNetConfiguration.Builder globalConfig) {
        // keep NoOp: a network-wide updater must not make these statistics trainable
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        return inputType;
    }

    @Override
    public void setNIn(InputType inputType, boolean override) {
        if (inputType instanceof InputType.InputTypeConvolutional c) {
            convolutional = true;
            if (override || channels == 0) {
                channels = c.getChannels();
            }
        } else if (inputType instanceof InputType.InputTypeFeedForward f) {
            convolutional = false;
            if (override || channels == 0) {
                channels = f.getSize();
            }
        }
    }
}

package org.leukolab.backend;

import org.deeplearning4j.nn.conf.layers.DepthwiseConvolution2D;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.convolution.DepthwiseConvolution2DLayer;
import org.deeplearning4j.nn.params.DepthwiseConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.IActivation;
import org.nd4j.linalg.activations.impl.ActivationIdentity;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The same layer as DL4J's {@code DepthwiseConvolution2DLayer} (same configuration, parameters and results) whose
 * convolution, once {@link OneDnnLayers} has given it a kernel, runs on oneDNN's grouped convolution called directly.
 *
 * <p>DL4J 1.0.0-M2.1 has no helper slot for depthwise convolutions: its layer calls libnd4j's {@code depthwise_conv2d}
 * and {@code depthwise_conv2d_bp}, which convert every array between NCHW and oneDNN's layouts on each call, and its
 * backward pass runs the whole forward convolution a second time to get the pre-activation output, even when the
 * activation is the identity (as in every depthwise layer of MobileNetV2 and EfficientNet, where batch normalisation
 * and the activation are separate layers). Here the forward pass is {@link OneDnnConvolution#depthwiseForward}, and
 * the backward pass needs the pre-activation output only for an activation other than the identity.
 *
 * <p>Only the runtime object differs: the network's configuration is untouched and a copy or a restored network has
 * DL4J's class again. Without a kernel ({@link OneDnnLayers} found it less accurate than DL4J's own code, or oneDNN is
 * off), or for a shape or layout the kernel does not take, DL4J's own code runs.
 */
public final class DepthwiseConvolutionLayer extends DepthwiseConvolution2DLayer {
    private OneDnnConvolution kernel;
    /** Set by {@link InferenceFusion}: the whole chain this convolution starts, computed at once (inference only). */
    private InferenceFusion.Chain fused;

    private DepthwiseConvolutionLayer(DepthwiseConvolution2DLayer original) {
        super(original.conf(), original.getDataType());
        RuntimeLayers.copyState(original, this);
    }

    /** A layer of this class sharing {@code original}'s configuration, parameters and gradient arrays. */
    public static DepthwiseConvolutionLayer of(DepthwiseConvolution2DLayer original) {
        if (original.getClass() != DepthwiseConvolution2DLayer.class) {
            throw new IllegalArgumentException("only DL4J's own DepthwiseConvolution2DLayer can be replaced, not "
                    + original.getClass().getName());
        }
        return new DepthwiseConvolutionLayer(original);
    }

    /** The kernel in use (null: DL4J's own code). */
    public OneDnnConvolution kernel() {
        return kernel;
    }

    /** Sets the kernel (null for DL4J's own code); {@link OneDnnLayers} does this after its check. */
    void kernel(OneDnnConvolution k) {
        this.kernel = k;
    }

    /** Makes this layer compute {@code chain} (null: its own convolution again); see {@link InferenceFusion}. */
    void fused(InferenceFusion.Chain chain) {
        this.fused = chain;
    }

    InferenceFusion.Chain fused() {
        return fused;
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr mgr) {
        if (fused != null) {
            assertInputSet(false);
            return fused.forward(input);
        }
        return super.activate(training, mgr);
    }

    private DepthwiseConvolution2D conf2d() {
        return (DepthwiseConvolution2D) conf().getLayer();
    }

    private INDArray bias(boolean training, LayerWorkspaceMgr mgr) {
        return conf2d().hasBias() ? getParamWithNoise(DepthwiseConvolutionParamInitializer.BIAS_KEY, training, mgr) : null;
    }

    @Override
    protected Pair<INDArray, INDArray> preOutput(boolean training, boolean forBackprop, LayerWorkspaceMgr mgr) {
        if (kernel != null) {
            assertInputSet(false);
            DepthwiseConvolution2D c = conf2d();
            INDArray z = kernel.depthwiseForward(input.castTo(dataType),
                    getParamWithNoise(DepthwiseConvolutionParamInitializer.WEIGHT_KEY, training, mgr), bias(training, mgr),
                    c.getKernelSize(), c.getStride(), c.getPadding(), convolutionMode, c.getDilation(), c.getCnn2dDataFormat(), mgr);
            if (z != null) {
                return new Pair<>(z, null);
            }
        }
        return super.preOutput(training, forBackprop, mgr);
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr mgr) {
        if (fused != null) {
            throw FusedLayers.notTrainable(layerId());
        }
        if (kernel == null) {
            return super.backpropGradient(epsilon, mgr);
        }
        assertInputSet(true);
        DepthwiseConvolution2D c = conf2d();
        IActivation afn = c.getActivationFn();
        INDArray eps = epsilon.castTo(dataType);
        INDArray delta = afn instanceof ActivationIdentity ? eps : afn.backprop(preOutput(true, true, mgr).getFirst(), eps).getFirst();
        INDArray bias = bias(true, mgr);
        INDArray biasGrad = gradientViews.get(DepthwiseConvolutionParamInitializer.BIAS_KEY);
        INDArray weightGrad = gradientViews.get(DepthwiseConvolutionParamInitializer.WEIGHT_KEY);
        INDArray dx = kernel.depthwiseBackward(input.castTo(dataType),
                getParamWithNoise(DepthwiseConvolutionParamInitializer.WEIGHT_KEY, true, mgr), bias, delta,
                c.getKernelSize(), c.getStride(), c.getPadding(), biasGrad, weightGrad, convolutionMode, c.getDilation(),
                c.getCnn2dDataFormat(), mgr);
        if (dx == null) {
            return super.backpropGradient(epsilon, mgr);
        }
        Gradient g = new DefaultGradient();
        if (bias != null) {
            g.setGradientFor(DepthwiseConvolutionParamInitializer.BIAS_KEY, biasGrad);
        }
        g.setGradientFor(DepthwiseConvolutionParamInitializer.WEIGHT_KEY, weightGrad, 'c');
        weightNoiseParams.clear();
        return new Pair<>(g, backpropDropOutIfPresent(dx));
    }
}

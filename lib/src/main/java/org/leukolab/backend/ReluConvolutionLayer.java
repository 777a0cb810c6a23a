package org.leukolab.backend;

import org.deeplearning4j.nn.conf.layers.ConvolutionLayer.AlgoMode;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.params.ConvolutionParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The same layer as DL4J's {@code ConvolutionLayer} (same configuration, same parameters, same results) for a convolution
 * whose ReLU runs inside a {@link OneDnnConvolution} kernel, without two passes DL4J's layer makes around that kernel
 * in training:
 *
 * <ul>
 *   <li>its forward pass keeps a copy of the convolution's output for the backward pass ({@code CacheMode.DEVICE});
 *       here the output itself is kept: with the ReLU inside the kernel it is the layer's activation, which the network
 *       holds until the backward pass anyway (it is the next layer's input);</li>
 *   <li>its backward pass takes the ReLU's derivative with libnd4j's {@code relu_bp}, a per-element {@code std::function}
 *       call (8% of report 000's training step in a {@code perf} profile, BENCHMARKS.md); here oneDNN's vectorised ReLU
 *       backward ({@link OneDnnConvolution#reluBackward}) computes the same values.</li>
 * </ul>
 *
 * <p>Only the runtime object differs: the network's configuration (what checkpoints and saved models record) is
 * untouched, and a copy of the network ({@code clone()}, a saved and restored model) gets DL4J's own class again.
 * {@link OneDnnLayers} puts it in place of a {@code ConvolutionLayer} of a {@code MultiLayerNetwork} whose next layer
 * does not change its input in place (no dropout on it), and checks it with the rest against float64. Whenever its
 * helper is not a ReLU-computing {@link OneDnnConvolution}, or declines a shape, DL4J's own code runs.
 */
public final class ReluConvolutionLayer extends ConvolutionLayer {
    /** The output of the last training forward pass through the fused kernel (the activation), for the backward pass. */
    private INDArray rectified;

    private ReluConvolutionLayer(ConvolutionLayer original) {
        super(original.conf(), original.getDataType());
        RuntimeLayers.copyState(original, this);
        helper = null; // set by OneDnnLayers
    }

    /** A layer of this class sharing {@code original}'s configuration, parameters and gradient arrays. */
    public static ReluConvolutionLayer of(ConvolutionLayer original) {
        if (original.getClass() != ConvolutionLayer.class) {
            throw new IllegalArgumentException("only DL4J's own ConvolutionLayer can be replaced, not " + original.getClass().getName());
        }
        return new ReluConvolutionLayer(original);
    }

    /** The helper in use (null for DL4J's built-in code). */
    public OneDnnConvolution fusedKernel() {
        return helper instanceof OneDnnConvolution c && c.fusedRelu() ? c : null;
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr mgr) {
        rectified = null;
        OneDnnConvolution kernel = fusedKernel();
        if (kernel == null) {
            return super.activate(training, mgr);
        }
        assertInputSet(false);
        applyDropOutIfNecessary(training, mgr);
        var c = layerConf();
        INDArray z = kernel.preOutput(input.castTo(dataType), getParamWithNoise(ConvolutionParamInitializer.WEIGHT_KEY, training, mgr),
                hasBias() ? getParamWithNoise(ConvolutionParamInitializer.BIAS_KEY, training, mgr) : null,
                c.getKernelSize(), c.getStride(), c.getPadding(), AlgoMode.PREFER_FASTEST, null, convolutionMode,
                c.getDilation(), c.getCnn2dDataFormat(), mgr);
        if (z == null) {
            return super.activate(training, mgr); // a shape or layout the kernel does not take
        }
        if (training) {
            rectified = z;
        }
        return z;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr mgr) {
        OneDnnConvolution kernel = fusedKernel();
        INDArray out = rectified;
        if (kernel == null || out == null || !java.util.Arrays.equals(out.shape(), epsilon.shape())) {
            return super.backpropGradient(epsilon, mgr);
        }
        assertInputSet(true);
        INDArray eps = epsilon.castTo(dataType);
        INDArray delta = mgr.createUninitialized(ArrayType.BP_WORKING_MEM, dataType, out.shape(), 'c');
        kernel.reluBackward(out, Dnnl.plain(eps) ? eps : eps.dup('c'), delta);
        var c = layerConf();
        INDArray weights = getParamWithNoise(ConvolutionParamInitializer.WEIGHT_KEY, true, mgr);
        INDArray bias = hasBias() ? getParamWithNoise(ConvolutionParamInitializer.BIAS_KEY, true, mgr) : null;
        Pair<Gradient, INDArray> ret = kernel.backpropGradient(input.castTo(dataType), weights, bias, delta,
                c.getKernelSize(), c.getStride(), c.getPadding(), gradientViews.get(ConvolutionParamInitializer.BIAS_KEY),
                gradientViews.get(ConvolutionParamInitializer.WEIGHT_KEY), c.getActivationFn(), AlgoMode.PREFER_FASTEST,
                null, null, convolutionMode, c.getDilation(), c.getCnn2dDataFormat(), mgr);
        if (ret == null) {
            rectified = null;
            return super.backpropGradient(epsilon, mgr);
        }
        ret.setSecond(backpropDropOutIfPresent(ret.getSecond()));
        return ret;
    }

    @Override
    public void clear() {
        super.clear();
        rectified = null;
    }
}

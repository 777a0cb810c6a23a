package org.leukolab.backend;

import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;

/**
 * Shared by leukolab's runtime subclasses of DL4J layers ({@link ReluConvolutionLayer},
 * {@link DepthwiseConvolutionLayer}), which take an existing layer's place in a network: the state a network gives a
 * layer after building it.
 */
final class RuntimeLayers {
    private RuntimeLayers() {}

    /**
     * Gives {@code replacement} (built from {@code original}'s configuration and data type) {@code original}'s listeners,
     * index, parameters, gradient arrays (made by the network on its first training step), cache mode and counters.
     */
    static void copyState(ConvolutionLayer original, ConvolutionLayer replacement) {
        replacement.setListeners(original.getListeners());
        replacement.setIndex(original.getIndex());
        replacement.setParamsViewArray(original.params());
        replacement.setParamTable(original.paramTable());
        if (original.getGradientsViewArray() != null) {
            replacement.setBackpropGradientsViewArray(original.getGradientsViewArray());
        }
        replacement.setCacheMode(original.getCacheMode());
        replacement.setIterationCount(original.getIterationCount());
        replacement.setEpochCount(original.getEpochCount());
    }
}

package org.leukolab.backend;

/**
 * An activation function of the layers above this package (such as MobileNetV3's hard swish) that oneDNN computes too:
 * {@link InferenceFusion} then runs it inside the convolution before it.
 */
public interface OneDnnActivation {
    /** oneDNN's element-wise algorithm for it: {@code "hardswish"}; null if there is none. */
    String oneDnnEltwise();
}

package org.leukolab.data;

import org.bytedeco.opencv.opencv_core.Mat;

/**
 * A step applied to each decoded image before it is resized, such as report 002's contour crop.
 * Works on 8-bit, 3-channel RGB {@link Mat}s.
 */
public interface ImageTransform {
    /**
     * Returns the transformed image (may be {@code rgb} itself, or a new Mat the caller will release).
     * Must be safe to call from several threads at once.
     */
    Mat apply(Mat rgb);

    /**
     * A short text that changes whenever the transform's output would change (name, parameters,
     * version); it is part of the image cache key.
     */
    String id();
}

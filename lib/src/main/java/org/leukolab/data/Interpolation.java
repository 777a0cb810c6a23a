package org.leukolab.data;

import org.bytedeco.opencv.global.opencv_imgproc;

/**
 * How images are resized. Keras' {@code load_img(target_size=...)} resizes with nearest neighbour by
 * default and {@code image_dataset_from_directory} with bilinear; notebooks pick the one the report's
 * code used.
 */
public enum Interpolation {
    NEAREST(opencv_imgproc.INTER_NEAREST),
    BILINEAR(opencv_imgproc.INTER_LINEAR),
    AREA(opencv_imgproc.INTER_AREA),
    BICUBIC(opencv_imgproc.INTER_CUBIC);

    private final int flag;

    Interpolation(int flag) {
        this.flag = flag;
    }

    /** The OpenCV {@code INTER_*} flag. */
    public int opencvFlag() {
        return flag;
    }
}

package org.leukolab.augmentation;

import java.util.Random;
import org.bytedeco.opencv.opencv_core.Mat;
import org.leukolab.balancing.Augmenter;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * "Traditional" augmentation on the fly: each image of every training batch gets its own random draw of an
 * {@link Augmenter} (rotation, zoom, flips, brightness, contrast), as Keras' {@code ImageDataGenerator} does per epoch.
 * Works on pixel values 0..255 (put it before the backbone's preprocessing); labels are unchanged.
 */
public final class Traditional implements BatchTransform {
    private final Augmenter augmenter;

    public Traditional(Augmenter augmenter) {
        this.augmenter = augmenter;
    }

    @Override
    public DataSet apply(INDArray features, INDArray labels, Random random) {
        int n = (int) features.size(0);
        int c = (int) features.size(1);
        int h = (int) features.size(2);
        int w = (int) features.size(3);
        if (c != 3) {
            throw new IllegalArgumentException("traditional augmentation expects RGB NCHW images, got " + c + " channels");
        }
        float[][] out = new float[n][];
        for (int i = 0; i < n; i++) {
            float[] img = Images.hwc(features, i);
            try (Mat m = new Mat(h, w, org.bytedeco.opencv.global.opencv_core.CV_32FC3)) {
                ((java.nio.FloatBuffer) m.createBuffer()).put(img);
                try (Mat a = augmenter.applyFloat(m, augmenter.draw(random))) {
                    float[] v = new float[h * w * 3];
                    ((java.nio.FloatBuffer) a.createBuffer()).get(v);
                    for (int q = 0; q < v.length; q++) {
                        v[q] = Images.clip(v[q]);
                    }
                    out[i] = v;
                }
            }
        }
        return new DataSet(Images.nchw(out, c, h, w), labels);
    }

    @Override
    public String id() {
        return "Traditional(" + augmenter.id() + ")";
    }

    @Override
    public String toString() {
        return id();
    }
}

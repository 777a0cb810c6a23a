package org.leukolab.augmentation;

import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/** Moving images between a batch's NCHW float tensor and per-image HWC float arrays (values 0..255), for per-image steps. */
final class Images {
    private Images() {}

    /** Image {@code i} of an NCHW batch as HWC floats. */
    static float[] hwc(INDArray nchw, int i) {
        int c = (int) nchw.size(1);
        int h = (int) nchw.size(2);
        int w = (int) nchw.size(3);
        float[] chw = nchw.slice(i).dup('c').data().asFloat();
        float[] out = new float[h * w * c];
        int plane = h * w;
        for (int ch = 0; ch < c; ch++) {
            for (int p = 0; p < plane; p++) {
                out[p * c + ch] = chw[ch * plane + p];
            }
        }
        return out;
    }

    /** An NCHW batch made of HWC float images. */
    static INDArray nchw(float[][] hwc, int c, int h, int w) {
        int plane = h * w;
        float[] all = new float[hwc.length * c * plane];
        for (int i = 0; i < hwc.length; i++) {
            int base = i * c * plane;
            for (int ch = 0; ch < c; ch++) {
                for (int p = 0; p < plane; p++) {
                    all[base + ch * plane + p] = hwc[i][p * c + ch];
                }
            }
        }
        return Nd4j.create(all, new long[] {hwc.length, c, h, w}, 'c').castTo(DataType.FLOAT);
    }

    static float clip(double v) {
        return (float) Math.max(0, Math.min(255, v));
    }
}

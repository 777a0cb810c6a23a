package org.leukolab.augmentation;

import static org.bytedeco.opencv.global.opencv_core.BORDER_CONSTANT;
import static org.bytedeco.opencv.global.opencv_core.CV_32FC3;
import static org.bytedeco.opencv.global.opencv_core.CV_64F;
import static org.bytedeco.opencv.global.opencv_imgproc.INTER_LINEAR;
import static org.bytedeco.opencv.global.opencv_imgproc.warpAffine;

import java.util.List;
import java.util.Locale;
import java.util.Random;
import org.bytedeco.javacpp.indexer.DoubleIndexer;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Scalar;
import org.bytedeco.opencv.opencv_core.Size;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * RandAugment (Cubuk et al., 2020): each image gets {@code n} operations drawn at random (with replacement) from the
 * standard list, all at one magnitude {@code m} on a 0..10 scale; labels are unchanged. Works on pixel values 0..255
 * (put it before the backbone's preprocessing).
 *
 * <p>Every operation's strength grows with the magnitude from nothing at 0: geometric ones by their angle, shear or
 * shift ({@code m/10} of rotation 30 degrees, shear 0.3, shift 30% of the side, in a random direction), the colour
 * ones by a factor {@code 1 +- 0.9 m/10} (as PIL's enhancers), Solarize by lowering its threshold from 256, Posterize by
 * dropping up to 4 bits, and the two without a natural strength (AutoContrast, Equalize) by blending their result with
 * the image in proportion {@code m/10}. So at magnitude 0 every operation leaves the image as it is (a test checks each).
 */
public final class RandAugment implements BatchTransform {
    /** The standard operations. */
    public enum Op {
        IDENTITY, AUTO_CONTRAST, EQUALIZE, ROTATE, SOLARIZE, COLOR, POSTERIZE, CONTRAST, BRIGHTNESS, SHARPNESS, SHEAR_X,
        SHEAR_Y, TRANSLATE_X, TRANSLATE_Y
    }

    private final int n;
    private final double magnitude;

    private RandAugment(int n, double magnitude) {
        if (n < 1 || !(magnitude >= 0 && magnitude <= 10)) {
            throw new IllegalArgumentException("RandAugment needs n >= 1 and a magnitude in [0, 10], got " + n + ", " + magnitude);
        }
        this.n = n;
        this.magnitude = magnitude;
    }

    /** {@code n} operations per image at magnitude {@code m} (the paper's ImageNet setting is n = 2, m = 9). */
    public static RandAugment of(int n, double m) {
        return new RandAugment(n, m);
    }

    @Override
    public DataSet apply(INDArray features, INDArray labels, Random random) {
        int count = (int) features.size(0);
        int h = (int) features.size(2);
        int w = (int) features.size(3);
        Op[] ops = Op.values();
        float[][] out = new float[count][];
        for (int i = 0; i < count; i++) {
            float[] img = Images.hwc(features, i);
            for (int k = 0; k < n; k++) {
                Op op = ops[random.nextInt(ops.length)];
                img = apply(op, img, h, w, magnitude, random.nextBoolean() ? 1 : -1);
            }
            out[i] = img;
        }
        return new DataSet(Images.nchw(out, 3, h, w), labels);
    }

    /** One operation on an HWC RGB image (values 0..255) at magnitude {@code m}, in direction {@code sign} (+1 or -1). */
    static float[] apply(Op op, float[] img, int h, int w, double m, int sign) {
        double s = m / 10.0;
        return switch (op) {
            case IDENTITY -> img.clone();
            case AUTO_CONTRAST -> blend(img, autoContrast(img), s);
            case EQUALIZE -> blend(img, equalize(img), s);
            case ROTATE -> affine(img, h, w, rotation(sign * 30 * s, h, w));
            case SOLARIZE -> solarize(img, 256 - 256 * s);
            case COLOR -> blend(grayscale(img), img, 1 + sign * 0.9 * s);
            case POSTERIZE -> posterize(img, 8 - (int) Math.round(4 * s));
            case CONTRAST -> blend(meanGray(img), img, 1 + sign * 0.9 * s);
            case BRIGHTNESS -> blend(new float[img.length], img, 1 + sign * 0.9 * s);
            case SHARPNESS -> blend(smooth(img, h, w), img, 1 + sign * 0.9 * s);
            case SHEAR_X -> affine(img, h, w, new double[] {1, sign * 0.3 * s, 0, 0, 1, 0});
            case SHEAR_Y -> affine(img, h, w, new double[] {1, 0, 0, sign * 0.3 * s, 1, 0});
            case TRANSLATE_X -> affine(img, h, w, new double[] {1, 0, sign * 0.3 * s * w, 0, 1, 0});
            case TRANSLATE_Y -> affine(img, h, w, new double[] {1, 0, 0, 0, 1, sign * 0.3 * s * h});
        };
    }

    /** PIL's blend: {@code a + f (b - a)}, clipped to 0..255 (f > 1 extrapolates, as the enhancers do). */
    static float[] blend(float[] a, float[] b, double f) {
        float[] out = new float[a.length];
        for (int i = 0; i < a.length; i++) {
            out[i] = Images.clip(a[i] + f * (b[i] - a[i]));
        }
        return out;
    }

    private static float[] autoContrast(float[] img) {
        float[] out = img.clone();
        for (int c = 0; c < 3; c++) {
            float lo = Float.MAX_VALUE;
            float hi = -Float.MAX_VALUE;
            for (int i = c; i < img.length; i += 3) {
                lo = Math.min(lo, img[i]);
                hi = Math.max(hi, img[i]);
            }
            if (hi > lo) {
                for (int i = c; i < img.length; i += 3) {
                    out[i] = (img[i] - lo) * 255f / (hi - lo);
                }
            }
        }
        return out;
    }

    private static float[] equalize(float[] img) {
        float[] out = img.clone();
        int pixels = img.length / 3;
        for (int c = 0; c < 3; c++) {
            int[] hist = new int[256];
            for (int i = c; i < img.length; i += 3) {
                hist[(int) Images.clip(Math.round(img[i]))]++;
            }
            int[] cdf = new int[256];
            int run = 0;
            int first = -1;
            for (int v = 0; v < 256; v++) {
                run += hist[v];
                cdf[v] = run;
                if (first < 0 && hist[v] > 0) {
                    first = cdf[v];
                }
            }
            if (pixels - first <= 0) {
                continue;
            }
            for (int i = c; i < img.length; i += 3) {
                int v = (int) Images.clip(Math.round(img[i]));
                out[i] = (float) Math.round((cdf[v] - first) * 255.0 / (pixels - first));
            }
        }
        return out;
    }

    private static float[] solarize(float[] img, double threshold) {
        float[] out = img.clone();
        for (int i = 0; i < img.length; i++) {
            if (img[i] >= threshold) {
                out[i] = 255f - img[i];
            }
        }
        return out;
    }

    private static float[] posterize(float[] img, int bits) {
        float[] out = img.clone();
        if (bits >= 8) {
            return out;
        }
        int mask = ~((1 << (8 - bits)) - 1) & 0xFF;
        for (int i = 0; i < img.length; i++) {
            out[i] = ((int) Images.clip(Math.round(img[i])) & mask);
        }
        return out;
    }

    /** ITU-R 601 luma, the grey PIL's Color enhancer blends towards, copied to three channels. */
    private static float[] grayscale(float[] img) {
        float[] out = new float[img.length];
        for (int i = 0; i < img.length; i += 3) {
            float y = (float) (0.299 * img[i] + 0.587 * img[i + 1] + 0.114 * img[i + 2]);
            out[i] = y;
            out[i + 1] = y;
            out[i + 2] = y;
        }
        return out;
    }

    /** The image's mean grey everywhere (what PIL's Contrast enhancer blends towards). */
    private static float[] meanGray(float[] img) {
        float[] g = grayscale(img);
        double mean = 0;
        for (int i = 0; i < g.length; i += 3) {
            mean += g[i];
        }
        mean /= g.length / 3.0;
        float[] out = new float[img.length];
        java.util.Arrays.fill(out, (float) mean);
        return out;
    }

    /** PIL's SMOOTH filter (3x3, centre weight 5, the rest 1, divided by 13), borders kept. */
    private static float[] smooth(float[] img, int h, int w) {
        float[] out = img.clone();
        for (int y = 1; y < h - 1; y++) {
            for (int x = 1; x < w - 1; x++) {
                for (int c = 0; c < 3; c++) {
                    double sum = 0;
                    for (int dy = -1; dy <= 1; dy++) {
                        for (int dx = -1; dx <= 1; dx++) {
                            sum += img[((y + dy) * w + x + dx) * 3 + c] * (dy == 0 && dx == 0 ? 5 : 1);
                        }
                    }
                    out[(y * w + x) * 3 + c] = (float) (sum / 13);
                }
            }
        }
        return out;
    }

    /** A rotation by {@code degrees} about the image centre, as the 2x3 matrix of {@link #affine}. */
    private static double[] rotation(double degrees, int h, int w) {
        double t = Math.toRadians(degrees);
        double cx = (w - 1) / 2.0;
        double cy = (h - 1) / 2.0;
        double c = Math.cos(t);
        double s = Math.sin(t);
        return new double[] {c, -s, cx - c * cx + s * cy, s, c, cy - s * cx - c * cy};
    }

    /**
     * Samples the image at {@code M (x, y, 1)} for each output pixel (an inverse map, as PIL's transforms take), bilinear,
     * with a grey (128) fill outside. The identity matrix returns the image unchanged.
     */
    private static float[] affine(float[] img, int h, int w, double[] m) {
        if (m[0] == 1 && m[1] == 0 && m[2] == 0 && m[3] == 0 && m[4] == 1 && m[5] == 0) {
            return img.clone();
        }
        try (Mat src = new Mat(h, w, CV_32FC3); Mat dst = new Mat(); Mat map = new Mat(2, 3, CV_64F)) {
            ((java.nio.FloatBuffer) src.createBuffer()).put(img);
            DoubleIndexer ix = map.createIndexer();
            for (int r = 0; r < 2; r++) {
                for (int c = 0; c < 3; c++) {
                    ix.put(r, c, m[r * 3 + c]);
                }
            }
            ix.close();
            warpAffine(src, dst, map, new Size(w, h),
                    INTER_LINEAR | org.bytedeco.opencv.global.opencv_imgproc.WARP_INVERSE_MAP, BORDER_CONSTANT,
                    new Scalar(128, 128, 128, 0));
            float[] out = new float[h * w * 3];
            ((java.nio.FloatBuffer) dst.createBuffer()).get(out);
            return out;
        }
    }

    @Override
    public String id() {
        return String.format(Locale.ROOT, "RandAugment(n=%d, m=%s)", n, magnitude);
    }

    @Override
    public String toString() {
        return id();
    }

    /** The operations, in the order drawn from. */
    public static List<Op> operations() {
        return List.of(Op.values());
    }
}

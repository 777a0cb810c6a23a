package org.leukolab.balancing;

import static org.bytedeco.opencv.global.opencv_core.BORDER_REPLICATE;
import static org.bytedeco.opencv.global.opencv_core.CV_32F;
import static org.bytedeco.opencv.global.opencv_core.CV_64F;
import static org.bytedeco.opencv.global.opencv_core.CV_8U;
import static org.bytedeco.opencv.global.opencv_core.CV_8UC3;
import static org.bytedeco.opencv.global.opencv_core.flip;
import static org.bytedeco.opencv.global.opencv_imgproc.INTER_LINEAR;
import static org.bytedeco.opencv.global.opencv_imgproc.WARP_INVERSE_MAP;
import static org.bytedeco.opencv.global.opencv_imgproc.warpAffine;

import java.nio.FloatBuffer;
import java.util.Locale;
import java.util.Random;
import org.bytedeco.javacpp.indexer.DoubleIndexer;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Scalar;
import org.bytedeco.opencv.opencv_core.Size;

/**
 * Random geometric augmentation as Keras' {@code ImageDataGenerator(rotation_range, zoom_range,
 * horizontal_flip, fill_mode='nearest')} applies it: a rotation by an angle drawn uniformly from
 * [-rotation, +rotation] degrees and independent zooms of the two axes drawn from [1 - zoom, 1 + zoom],
 * both about the image centre (Keras' centre convention), pixels interpolated bilinearly and the border
 * filled with the nearest edge pixel; then a horizontal flip with probability 1/2.
 *
 * <p>The random numbers come from the given {@link Random}, so a seed fixes every image (Keras' own
 * generator cannot be reproduced number for number).
 */
public final class Augmenter {
    private final double rotationDegrees;
    private final double zoom;
    private final boolean horizontalFlip;

    public Augmenter(double rotationDegrees, double zoom, boolean horizontalFlip) {
        if (rotationDegrees < 0 || zoom < 0 || zoom >= 1) {
            throw new IllegalArgumentException("rotation must be >= 0 and zoom in [0, 1)");
        }
        this.rotationDegrees = rotationDegrees;
        this.zoom = zoom;
        this.horizontalFlip = horizontalFlip;
    }

    /** Report 000's settings: rotation 15 degrees, zoom 0.1, horizontal flips, nearest fill. */
    public static Augmenter report000() {
        return new Augmenter(15, 0.1, true);
    }

    /** The parameters drawn for one image. */
    public record Draw(double thetaDegrees, double zoomRows, double zoomCols, boolean flip) {}

    public Draw draw(Random rnd) {
        double theta = rotationDegrees == 0 ? 0 : -rotationDegrees + 2 * rotationDegrees * rnd.nextDouble();
        double zr = zoom == 0 ? 1 : 1 - zoom + 2 * zoom * rnd.nextDouble();
        double zc = zoom == 0 ? 1 : 1 - zoom + 2 * zoom * rnd.nextDouble();
        boolean f = horizontalFlip && rnd.nextDouble() < 0.5;
        return new Draw(theta, zr, zc, f);
    }

    /**
     * The transformed image as 32-bit float RGB ({@code CV_32FC3}), the values the interpolation gives
     * (what Keras holds before it writes an image); the caller releases it.
     */
    public Mat applyFloat(Mat rgb, Draw d) {
        int h = rgb.rows();
        int w = rgb.cols();
        double t = Math.toRadians(d.thetaDegrees());
        // Keras maps output (row, col) to input (row, col): x_in = A x_out + b, with A = rotation @ zoom
        // and the centre offset (h/2 + 0.5, w/2 + 0.5)
        double a00 = Math.cos(t) * d.zoomRows();
        double a01 = -Math.sin(t) * d.zoomCols();
        double a10 = Math.sin(t) * d.zoomRows();
        double a11 = Math.cos(t) * d.zoomCols();
        double or = h / 2.0 + 0.5;
        double oc = w / 2.0 + 0.5;
        double br = or - (a00 * or + a01 * oc);
        double bc = oc - (a10 * or + a11 * oc);
        Mat out = new Mat();
        try (Mat src = new Mat(); Mat m = new Mat(2, 3, CV_64F)) {
            rgb.convertTo(src, CV_32F);
            // OpenCV works in (x = col, y = row): swap rows and columns of the map
            DoubleIndexer ix = m.createIndexer();
            ix.put(0, 0, a11);
            ix.put(0, 1, a10);
            ix.put(0, 2, bc);
            ix.put(1, 0, a01);
            ix.put(1, 1, a00);
            ix.put(1, 2, br);
            ix.close();
            warpAffine(src, out, m, new Size(w, h), INTER_LINEAR | WARP_INVERSE_MAP, BORDER_REPLICATE, new Scalar(0));
        }
        if (d.flip()) {
            Mat flipped = new Mat();
            flip(out, flipped, 1);
            out.close();
            out = flipped;
        }
        return out;
    }

    /** The transformed image rounded to 8 bits (for looking at); the caller releases it. */
    public Mat apply(Mat rgb, Draw d) {
        try (Mat f = applyFloat(rgb, d)) {
            Mat out = new Mat();
            f.convertTo(out, CV_8U);
            return out;
        }
    }

    /**
     * Keras' {@code array_to_img(x, scale=True)}, which report 000 used to write its augmented copies:
     * the image's own minimum is subtracted, it is divided by its (new) maximum and multiplied by 255, all
     * channels together and in float32 arithmetic, then truncated to 8 bits. The darkest pixel becomes 0 and
     * the brightest 255, so every written copy has stretched contrast.
     */
    public static Mat arrayToImage(Mat rgbFloat) {
        if (rgbFloat.depth() != CV_32F) {
            throw new IllegalArgumentException("expects a float image (CV_32F), got depth " + rgbFloat.depth());
        }
        int n = (int) (rgbFloat.total() * rgbFloat.channels());
        float[] x = new float[n];
        try (Mat cont = rgbFloat.isContinuous() ? null : rgbFloat.clone()) {
            FloatBuffer fb = (cont == null ? rgbFloat : cont).createBuffer();
            fb.get(x);
        }
        float min = Float.POSITIVE_INFINITY;
        for (float v : x) {
            min = Math.min(min, v);
        }
        float max = Float.NEGATIVE_INFINITY;
        for (int i = 0; i < n; i++) {
            x[i] = x[i] - min;
            max = Math.max(max, x[i]);
        }
        byte[] b = new byte[n];
        for (int i = 0; i < n; i++) {
            float v = max != 0 ? x[i] / max : x[i];
            v = v * 255f;
            b[i] = (byte) (int) v; // numpy astype('uint8'): truncation
        }
        Mat out = new Mat(rgbFloat.rows(), rgbFloat.cols(), CV_8UC3);
        out.data().put(b);
        return out;
    }

    /** Text naming every setting (part of cache keys). */
    public String id() {
        return String.format(Locale.ROOT, "rotation=%s zoom=%s hflip=%s fill=nearest interp=bilinear", rotationDegrees, zoom,
                horizontalFlip);
    }
}

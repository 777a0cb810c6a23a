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
    private final boolean verticalFlip;
    private final double brightness;
    private final double contrast;

    public Augmenter(double rotationDegrees, double zoom, boolean horizontalFlip) {
        this(rotationDegrees, zoom, horizontalFlip, false, 0, 0);
    }

    /**
     * The geometric steps, then (after the flips) a vertical flip with probability 1/2 if {@code verticalFlip}, a
     * brightness factor drawn from [1 - brightness, 1 + brightness] multiplying every value (Keras'
     * {@code brightness_range}), and a contrast factor drawn from [1 - contrast, 1 + contrast] scaling each channel's
     * distance from its mean ({@code tf.image.adjust_contrast}); 0 turns a step off.
     */
    public Augmenter(double rotationDegrees, double zoom, boolean horizontalFlip, boolean verticalFlip, double brightness,
                     double contrast) {
        if (rotationDegrees < 0 || zoom < 0 || zoom >= 1 || brightness < 0 || brightness >= 1 || contrast < 0 || contrast >= 1) {
            throw new IllegalArgumentException("rotation must be >= 0; zoom, brightness and contrast in [0, 1)");
        }
        this.rotationDegrees = rotationDegrees;
        this.zoom = zoom;
        this.horizontalFlip = horizontalFlip;
        this.verticalFlip = verticalFlip;
        this.brightness = brightness;
        this.contrast = contrast;
    }

    /** Report 000's settings: rotation 15 degrees, zoom 0.1, horizontal flips, nearest fill. */
    public static Augmenter report000() {
        return new Augmenter(15, 0.1, true);
    }

    /**
     * Report 003's "flipping, rotation, zooming, brightness and contrast" (it gives no ranges; these are ours):
     * rotation 20 degrees, zoom 0.1, horizontal and vertical flips, brightness and contrast 0.2.
     */
    public static Augmenter report003() {
        return new Augmenter(20, 0.1, true, true, 0.2, 0.2);
    }

    /** The parameters drawn for one image (brightness and contrast factors are 1 when off). */
    public record Draw(double thetaDegrees, double zoomRows, double zoomCols, boolean flip, boolean flipVertical,
                       double brightnessFactor, double contrastFactor) {
        public Draw(double thetaDegrees, double zoomRows, double zoomCols, boolean flip) {
            this(thetaDegrees, zoomRows, zoomCols, flip, false, 1, 1);
        }
    }

    public Draw draw(Random rnd) {
        double theta = rotationDegrees == 0 ? 0 : -rotationDegrees + 2 * rotationDegrees * rnd.nextDouble();
        double zr = zoom == 0 ? 1 : 1 - zoom + 2 * zoom * rnd.nextDouble();
        double zc = zoom == 0 ? 1 : 1 - zoom + 2 * zoom * rnd.nextDouble();
        boolean f = horizontalFlip && rnd.nextDouble() < 0.5;
        // the draws below only happen when their step is on, so report 000's draws are as before
        boolean fv = verticalFlip && rnd.nextDouble() < 0.5;
        double b = brightness == 0 ? 1 : 1 - brightness + 2 * brightness * rnd.nextDouble();
        double c = contrast == 0 ? 1 : 1 - contrast + 2 * contrast * rnd.nextDouble();
        return new Draw(theta, zr, zc, f, fv, b, c);
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
        if (d.flipVertical()) {
            Mat flipped = new Mat();
            flip(out, flipped, 0);
            out.close();
            out = flipped;
        }
        if (d.brightnessFactor() != 1 || d.contrastFactor() != 1) {
            adjust(out, d.brightnessFactor(), d.contrastFactor());
        }
        return out;
    }

    /** In place on a float RGB image: x * brightness, then each channel's mean + contrast * (x - mean). */
    private static void adjust(Mat img, double brightness, double contrast) {
        int n = (int) img.total();
        float[] x = new float[n * 3];
        FloatBuffer fb = img.createBuffer();
        fb.get(x);
        double[] mean = new double[3];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (x[i] * brightness);
            mean[i % 3] += x[i];
        }
        for (int c = 0; c < 3; c++) {
            mean[c] /= n;
        }
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (mean[i % 3] + contrast * (x[i] - mean[i % 3]));
        }
        fb.rewind();
        fb.put(x);
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
        String base = String.format(Locale.ROOT, "rotation=%s zoom=%s hflip=%s fill=nearest interp=bilinear", rotationDegrees, zoom,
                horizontalFlip);
        return !verticalFlip && brightness == 0 && contrast == 0 ? base
                : base + String.format(Locale.ROOT, " vflip=%s brightness=%s contrast=%s", verticalFlip, brightness, contrast);
    }
}

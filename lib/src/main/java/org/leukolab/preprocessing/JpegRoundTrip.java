package org.leukolab.preprocessing;

import org.leukolab.data.ImageTransform;
import static org.bytedeco.opencv.global.opencv_imgcodecs.IMREAD_COLOR;
import static org.bytedeco.opencv.global.opencv_imgcodecs.IMWRITE_JPEG_QUALITY;
import static org.bytedeco.opencv.global.opencv_imgcodecs.imdecode;
import static org.bytedeco.opencv.global.opencv_imgcodecs.imencode;
import static org.bytedeco.opencv.global.opencv_imgproc.COLOR_BGR2RGB;
import static org.bytedeco.opencv.global.opencv_imgproc.COLOR_RGB2BGR;
import static org.bytedeco.opencv.global.opencv_imgproc.cvtColor;

import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.opencv.opencv_core.Mat;

/**
 * Encodes an image as JPEG and decodes it again, as report 002 did when it wrote its cropped cells to a
 * folder with {@code cv2.imwrite} (JPEG quality 95, OpenCV's default) and read them back for training.
 * Part of the faithful reproduction: it changes the pixels slightly.
 */
public final class JpegRoundTrip implements ImageTransform {
    private final int quality;

    public JpegRoundTrip(int quality) {
        if (quality < 1 || quality > 100) {
            throw new IllegalArgumentException("JPEG quality is 1..100, got " + quality);
        }
        this.quality = quality;
    }

    /** OpenCV's default quality (95), which the report's {@code cv2.imwrite} used. */
    public static JpegRoundTrip opencvDefault() {
        return new JpegRoundTrip(95);
    }

    @Override
    public Mat apply(Mat rgb) {
        try (Mat bgr = new Mat(); BytePointer buf = new BytePointer();
             IntPointer params = new IntPointer(IMWRITE_JPEG_QUALITY, quality)) {
            cvtColor(rgb, bgr, COLOR_RGB2BGR);
            if (!imencode(".jpg", bgr, buf, params)) {
                throw new IllegalStateException("JPEG encoding failed");
            }
            try (Mat encoded = new Mat(1, (int) buf.limit(), org.bytedeco.opencv.global.opencv_core.CV_8U, buf);
                 Mat decoded = imdecode(encoded, IMREAD_COLOR)) {
                Mat out = new Mat();
                cvtColor(decoded, out, COLOR_BGR2RGB);
                return out;
            }
        }
    }

    @Override
    public String id() {
        return "jpeg-roundtrip-q" + quality;
    }
}

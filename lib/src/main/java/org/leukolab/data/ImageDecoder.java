package org.leukolab.data;

import static org.bytedeco.opencv.global.opencv_core.CV_16U;
import static org.bytedeco.opencv.global.opencv_core.CV_8U;
import static org.bytedeco.opencv.global.opencv_imgcodecs.IMREAD_UNCHANGED;
import static org.bytedeco.opencv.global.opencv_imgcodecs.imdecode;
import static org.bytedeco.opencv.global.opencv_imgproc.COLOR_BGR2RGB;
import static org.bytedeco.opencv.global.opencv_imgproc.COLOR_BGRA2RGB;
import static org.bytedeco.opencv.global.opencv_imgproc.COLOR_GRAY2RGB;
import static org.bytedeco.opencv.global.opencv_imgproc.cvtColor;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.MatVector;

/**
 * Decodes image files into 8-bit RGB {@link Mat}s with OpenCV, converting what is not 8-bit RGB
 * (grayscale, alpha, 16-bit, palette) and saying so. Failures come back as a message, not an exception
 * from inside the decoder.
 */
public final class ImageDecoder {
    private ImageDecoder() {}

    /**
     * The result of decoding one file: an RGB 8-bit image (caller releases it) and a note of the
     * conversions done ({@code null} if none), or an error message.
     */
    public record Decoded(Mat rgb, String conversion, String error, String warning) {
        public Decoded(Mat rgb, String conversion, String error) {
            this(rgb, conversion, error, null);
        }

        public boolean ok() {
            return error == null;
        }

        Decoded warned(String w) {
            return new Decoded(rgb, conversion, error, w);
        }
    }

    /** The image of a record: its file decoded, or its pixels taken from its array. */
    public static Decoded decode(ImageRecord r) {
        if (!r.inArray()) {
            return decode(r.path());
        }
        ArrayImages a = r.array().images();
        byte[] rgb = r.array().rgb();
        Mat m = new Mat(a.height(), a.width(), org.bytedeco.opencv.global.opencv_core.CV_8UC3);
        m.data().put(rgb);
        return new Decoded(m, null, null); // a grayscale array is that dataset's format, not a per-image conversion
    }

    public static Decoded decode(Path file) {
        byte[] bytes;
        try {
            bytes = Files.readAllBytes(file);
        } catch (IOException e) {
            return new Decoded(null, null, "cannot be read: " + e.getMessage());
        }
        Mat raw;
        try (BytePointer data = new BytePointer(bytes); Mat buf = new Mat(1, bytes.length, CV_8U, data)) {
            raw = imdecode(buf, IMREAD_UNCHANGED);
        } catch (RuntimeException e) {
            return new Decoded(null, null, "the decoder failed: " + e.getMessage());
        }
        if (raw == null || raw.empty()) {
            if (raw != null) {
                raw.close();
            }
            return new Decoded(null, null, "OpenCV could not decode it (corrupt or unsupported data)");
        }
        Decoded d = normalise(raw);
        List<String> warnings = d.ok() ? JpegWarnings.of(bytes) : List.of();
        return warnings.isEmpty() ? d : d.warned("the JPEG decoder warned: " + String.join("; ", warnings));
    }

    /** Converts any decoded image to 8-bit RGB; takes ownership of {@code raw}. */
    static Decoded normalise(Mat raw) {
        List<String> notes = new ArrayList<>();
        Mat m = raw;
        int depth = m.depth();
        if (depth == CV_16U) {
            Mat eight = new Mat();
            m.convertTo(eight, CV_8U, 1.0 / 257.0, 0);
            m.close();
            m = eight;
            notes.add("16-bit scaled to 8-bit");
        } else if (depth != CV_8U) {
            m.close();
            return new Decoded(null, null, "unsupported pixel depth (OpenCV depth code " + depth + ")");
        }
        int ch = m.channels();
        Mat rgb = new Mat();
        switch (ch) {
            case 1 -> {
                cvtColor(m, rgb, COLOR_GRAY2RGB);
                notes.add("grayscale copied to R, G and B");
            }
            case 2 -> { // gray + alpha
                try (MatVector planes = new MatVector()) {
                    opencv_core.split(m, planes);
                    cvtColor(planes.get(0), rgb, COLOR_GRAY2RGB);
                }
                notes.add("grayscale copied to R, G and B; alpha channel dropped");
            }
            case 3 -> cvtColor(m, rgb, COLOR_BGR2RGB);
            case 4 -> {
                cvtColor(m, rgb, COLOR_BGRA2RGB);
                notes.add("alpha channel dropped");
            }
            default -> {
                m.close();
                rgb.close();
                return new Decoded(null, null, "unsupported number of channels: " + ch);
            }
        }
        m.close();
        return new Decoded(rgb, notes.isEmpty() ? null : String.join("; ", notes), null);
    }
}

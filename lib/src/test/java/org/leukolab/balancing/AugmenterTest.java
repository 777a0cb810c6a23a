package org.leukolab.balancing;

import static org.bytedeco.opencv.global.opencv_imgcodecs.IMREAD_COLOR;
import static org.bytedeco.opencv.global.opencv_imgcodecs.imdecode;
import static org.bytedeco.opencv.global.opencv_imgproc.COLOR_BGR2RGB;
import static org.bytedeco.opencv.global.opencv_imgproc.cvtColor;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.Random;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.opencv_core.Mat;
import org.junit.jupiter.api.Test;

/**
 * The augmentation against reference outputs of Keras' own code (keras-preprocessing 1.1.2
 * {@code apply_affine_transform}, {@code array_to_img}, PIL JPEG), made for fixed transform parameters
 * on two real cells by {@code data-scripts/augment-fixtures/make_reference.py}.
 */
class AugmenterTest {
    private static final String DIR = "/org/leukolab/balancing/";

    static Mat resourceRgb(String name) throws IOException {
        byte[] b;
        try (InputStream in = AugmenterTest.class.getResourceAsStream(DIR + name)) {
            if (in == null) {
                throw new IOException("missing test resource " + name);
            }
            b = in.readAllBytes();
        }
        return decode(b);
    }

    static Mat decode(byte[] b) {
        try (BytePointer p = new BytePointer(b); Mat buf = new Mat(1, b.length, opencv_core.CV_8U, p);
             Mat bgr = imdecode(buf, IMREAD_COLOR)) {
            Mat rgb = new Mat();
            cvtColor(bgr, rgb, COLOR_BGR2RGB);
            return rgb;
        }
    }

    static byte[] bytes(Mat m) {
        byte[] b = new byte[(int) (m.total() * m.channels())];
        m.data().get(b);
        return b;
    }

    /** {max, mean} absolute difference of two 8-bit images of the same size. */
    static double[] diff(Mat a, Mat b) {
        byte[] x = bytes(a);
        byte[] y = bytes(b);
        assertEquals(x.length, y.length);
        int max = 0;
        long sum = 0;
        for (int i = 0; i < x.length; i++) {
            int d = Math.abs((x[i] & 0xFF) - (y[i] & 0xFF));
            max = Math.max(max, d);
            sum += d;
        }
        return new double[] {max, (double) sum / x.length};
    }

    static JsonArray draws() throws IOException {
        try (InputStream in = AugmenterTest.class.getResourceAsStream(DIR + "draws.json")) {
            return JsonParser.parseString(new String(in.readAllBytes(), StandardCharsets.UTF_8)).getAsJsonArray();
        }
    }

    static Augmenter.Draw draw(JsonObject o) {
        return new Augmenter.Draw(o.get("theta").getAsDouble(), o.get("zx").getAsDouble(), o.get("zy").getAsDouble(),
                o.get("flip").getAsBoolean());
    }

    @Test
    void transformMatchesKeras() throws IOException {
        Augmenter aug = Augmenter.report000();
        JsonArray ds = draws();
        for (int n = 0; n < 2; n++) {
            try (Mat input = resourceRgb("input-" + n + ".png")) {
                for (int k = 0; k < ds.size(); k++) {
                    try (Mat expected = resourceRgb("draw-" + n + "-" + k + "-raw.png");
                         Mat got = aug.apply(input, draw(ds.get(k).getAsJsonObject()))) {
                        double[] d = diff(got, expected);
                        System.out.printf("augment diff %d/%d: max %.0f mean %.4f%n", n, k, d[0], d[1]);
                        // OpenCV samples at 1/32-pixel positions, SciPy exactly: measured at most 2 levels apart
                        assertTrue(d[0] <= 3 && d[1] < 0.15, "image " + n + " draw " + k + ": max " + d[0] + " mean " + d[1]);
                    }
                }
            }
        }
    }

    @Test
    void identityDrawLeavesTheImageAlone() throws IOException {
        try (Mat input = resourceRgb("input-0.png");
             Mat got = Augmenter.report000().apply(input, new Augmenter.Draw(0, 1, 1, false))) {
            assertEquals(0.0, diff(got, input)[0]);
        }
    }

    @Test
    void publishedScalingMatchesKerasArrayToImage() throws IOException {
        Augmenter aug = Augmenter.report000();
        JsonArray ds = draws();
        for (int n = 0; n < 2; n++) {
            try (Mat input = resourceRgb("input-" + n + ".png")) {
                for (int k = 0; k < ds.size(); k++) {
                    try (Mat expected = resourceRgb("draw-" + n + "-" + k + "-published.png");
                         Mat f = aug.applyFloat(input, draw(ds.get(k).getAsJsonObject()));
                         Mat got = Augmenter.arrayToImage(f)) {
                        double[] d = diff(got, expected);
                        System.out.printf("augment diff %d/%d: max %.0f mean %.4f%n", n, k, d[0], d[1]);
                        assertTrue(d[0] <= 3 && d[1] < 0.15, "image " + n + " draw " + k + ": max " + d[0] + " mean " + d[1]);
                        byte[] g = bytes(got);
                        int min = 255;
                        int max = 0;
                        for (byte v : g) {
                            min = Math.min(min, v & 0xFF);
                            max = Math.max(max, v & 0xFF);
                        }
                        assertEquals(0, min, "the darkest value becomes 0");
                        assertEquals(255, max, "the brightest value becomes 255");
                    }
                }
            }
        }
    }

    @Test
    void arrayToImageTruncatesLikeNumpy() {
        try (Mat f = new Mat(1, 1, opencv_core.CV_32FC3)) {
            f.data().capacity(12);
            java.nio.FloatBuffer fb = f.createBuffer();
            fb.put(new float[] {10f, 20f, 30f}); // 0, 0.5, 1 after scaling: 0, 127.5 -> 127, 255
            try (Mat b = Augmenter.arrayToImage(f)) {
                assertArrayEquals(new byte[] {0, 127, (byte) 255}, bytes(b));
            }
        }
    }

    @Test
    void publishedJpegMatchesPil() throws IOException {
        // the same 8-bit image written by ClassBalancer (OpenCV, quality 75) and by PIL's defaults
        ClassBalancer writer = new ClassBalancer(Augmenter.report000(), 1, ClassBalancer.Output.PUBLISHED,
                java.nio.file.Path.of("unused"));
        for (int n = 0; n < 2; n++) {
            for (int k = 0; k < 4; k++) {
                try (Mat pub = resourceRgb("draw-" + n + "-" + k + "-published.png");
                     Mat pil = resourceRgb("draw-" + n + "-" + k + "-published.jpg")) {
                    try (Mat ours = decode(writer.encodeWritten(pub, "jpg"))) {
                        double[] d = diff(ours, pil);
                        System.out.printf("jpeg diff %d/%d: max %.0f mean %.4f%n", n, k, d[0], d[1]);
                        assertTrue(d[0] <= 1, "image " + n + " draw " + k + ": max " + d[0] + " mean " + d[1]);
                    }
                }
            }
        }
    }

    @Test
    void drawsAreSeededAndInRange() {
        Augmenter aug = Augmenter.report000();
        Random a = new Random(7);
        Random b = new Random(7);
        boolean flipped = false;
        boolean kept = false;
        for (int i = 0; i < 200; i++) {
            Augmenter.Draw x = aug.draw(a);
            assertEquals(x, aug.draw(b));
            assertTrue(Math.abs(x.thetaDegrees()) <= 15);
            assertTrue(x.zoomRows() >= 0.9 && x.zoomRows() <= 1.1 && x.zoomCols() >= 0.9 && x.zoomCols() <= 1.1);
            flipped |= x.flip();
            kept |= !x.flip();
        }
        assertTrue(flipped && kept);
        assertFalse(aug.draw(new Random(7)).equals(aug.draw(new Random(8))));
    }

    @Test
    void brightnessAndContrastAndVerticalFlip() {
        try (org.bytedeco.opencv.opencv_core.Mat img = new org.bytedeco.opencv.opencv_core.Mat(4, 4, org.bytedeco.opencv.global.opencv_core.CV_8UC3)) {
            byte[] px = new byte[48];
            for (int i = 0; i < 48; i++) {
                px[i] = (byte) (40 + 3 * i);
            }
            img.data().put(px);
            Augmenter a = new Augmenter(0, 0, false, true, 0.5, 0.5);
            // identity geometry; brightness 1.2 only: every value times 1.2
            try (var out = a.applyFloat(img, new Augmenter.Draw(0, 1, 1, false, false, 1.2, 1))) {
                float[] v = new float[48];
                ((java.nio.FloatBuffer) out.createBuffer()).get(v);
                for (int i = 0; i < 48; i++) {
                    org.junit.jupiter.api.Assertions.assertEquals(1.2 * (40 + 3 * i), v[i], 1e-3);
                }
            }
            // contrast 0.5: each channel halfway to its mean; the means stay
            try (var out = a.applyFloat(img, new Augmenter.Draw(0, 1, 1, false, false, 1, 0.5))) {
                float[] v = new float[48];
                ((java.nio.FloatBuffer) out.createBuffer()).get(v);
                for (int c = 0; c < 3; c++) {
                    double mean = 0;
                    for (int q = c; q < 48; q += 3) {
                        mean += (40 + 3 * q) / 16.0;
                    }
                    for (int q = c; q < 48; q += 3) {
                        org.junit.jupiter.api.Assertions.assertEquals(mean + 0.5 * ((40 + 3 * q) - mean), v[q], 1e-3);
                    }
                }
            }
            // vertical flip: the first row becomes the last
            try (var out = a.applyFloat(img, new Augmenter.Draw(0, 1, 1, false, true, 1, 1))) {
                float[] v = new float[48];
                ((java.nio.FloatBuffer) out.createBuffer()).get(v);
                org.junit.jupiter.api.Assertions.assertEquals(40 + 3 * 36, v[0], 1e-3);
            }
        }
        // report 000's draws and cache id are those of the three-argument augmenter
        org.junit.jupiter.api.Assertions.assertEquals(new Augmenter(15, 0.1, true).id(), Augmenter.report000().id());
        org.junit.jupiter.api.Assertions.assertEquals(Augmenter.report000().draw(new java.util.Random(5)),
                new Augmenter(15, 0.1, true, false, 0, 0).draw(new java.util.Random(5)));
        org.junit.jupiter.api.Assertions.assertTrue(Augmenter.report003().id().contains("brightness=0.2"));
    }
}

package org.leukolab.preprocessing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Optional;
import org.bytedeco.opencv.opencv_core.Mat;
import org.junit.jupiter.api.Test;
import org.leukolab.data.DatasetCatalog;
import org.leukolab.data.ImageDecoder;

/**
 * The Java crop against the report's recipe run with OpenCV for Python 4.5.5 on 200 real blood-cells
 * images (recorded by data-scripts/contour-fixtures/make_reference.py): same box, same outcome, same
 * result, pixel for pixel.
 */
class ContourCropperTest {
    static Optional<Path> imagesRoot() {
        Optional<Path> installed = DatasetCatalog.standard().find("blood-cells").map(d -> d.imageRoot());
        if (installed.isPresent()) {
            return installed;
        }
        String mirror = System.getenv("LEUKOLAB_MIRROR");
        if (mirror != null) {
            Path p = Paths.get(mirror, "blood-cells", "dataset2-master", "images");
            if (Files.isDirectory(p)) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    static JsonObject reference() {
        return new Gson().fromJson(new InputStreamReader(ContourCropperTest.class.getResourceAsStream("contour-reference.json"),
                StandardCharsets.UTF_8), JsonObject.class);
    }

    static long pixelSum(Mat m) {
        byte[] b = new byte[(int) (m.total() * m.channels())];
        Mat c = m.isContinuous() ? m : m.clone();
        c.data().get(b);
        long s = 0;
        for (byte x : b) {
            s += x & 0xFF;
        }
        return s;
    }

    @Test
    void matchesTheReportsPythonRecipeOnRealImages() {
        Optional<Path> root = imagesRoot();
        assumeTrue(root.isPresent(), "SKIPPED: the blood-cells dataset is not installed and LEUKOLAB_MIRROR does not hold it "
                + "(./leukolab fetch blood-cells, or set LEUKOLAB_MIRROR=../shared/datasets)");
        ContourCropper cropper = new ContourCropper(ContourCropper.Mode.REPORT);
        int n = 0;
        int fallbacks = 0;
        for (JsonElement e : reference().getAsJsonArray("images")) {
            JsonObject r = e.getAsJsonObject();
            Path file = root.get().resolve(r.get("file").getAsString());
            ImageDecoder.Decoded d = ImageDecoder.decode(file);
            assertTrue(d.ok(), file + ": " + d.error());
            ContourCropper.Stages s = cropper.stages(d.rgb());
            String where = r.get("file").getAsString();
            assertEquals(r.get("outcome").getAsString(), s.outcome().name().toLowerCase(), where);
            if (r.get("box").isJsonNull()) {
                assertNull(s.box(), where);
            } else {
                int[] want = new Gson().fromJson(r.get("box"), int[].class);
                assertArrayEquals(want, s.box(), where);
            }
            int[] shape = new Gson().fromJson(r.get("shape"), int[].class);
            assertArrayEquals(shape, new int[] {s.result().rows(), s.result().cols(), s.result().channels()}, where);
            assertEquals(r.get("pixel_sum").getAsLong(), pixelSum(s.result()), where + ": pixels differ");
            fallbacks += s.outcome() == ContourCropper.Outcome.CROPPED ? 0 : 1;
            n++;
        }
        assertEquals(200, n);
        assertEquals(reference().getAsJsonObject("counts").get("empty_slice").getAsInt(), fallbacks);
    }

    @Test
    void clampedModeCropsWhereTheReportFellBack() {
        Optional<Path> root = imagesRoot();
        assumeTrue(root.isPresent(), "SKIPPED: blood-cells not available (see the other test)");
        ContourCropper clamped = new ContourCropper(ContourCropper.Mode.CLAMPED);
        int recovered = 0;
        for (JsonElement e : reference().getAsJsonArray("images")) {
            JsonObject r = e.getAsJsonObject();
            if (!r.get("outcome").getAsString().equals("empty_slice")) {
                continue;
            }
            ContourCropper.Stages s = clamped.stages(ImageDecoder.decode(root.get().resolve(r.get("file").getAsString())).rgb());
            if (s.outcome() == ContourCropper.Outcome.CROPPED) {
                recovered++;
                assertTrue(s.result().rows() < 260 && s.result().cols() < 340, "a real crop, not the whole image");
            }
        }
        assertTrue(recovered > 0, "at least one of the report's fall-backs becomes a crop when the box is clamped");
    }

    @Test
    void pythonSliceRulesAreReproduced() {
        // a[-3:5] on a length-10 axis is a[7:5]: empty
        assertArrayEquals(new int[] {7, 5}, ContourCropper.pythonSlice(-3, 5, 10));
        // a[2:-1] is a[2:9]
        assertArrayEquals(new int[] {2, 9}, ContourCropper.pythonSlice(2, -1, 10));
        // ends past the axis are clipped
        assertArrayEquals(new int[] {4, 10}, ContourCropper.pythonSlice(4, 14, 10));
        // a start far below zero clips to 0
        assertArrayEquals(new int[] {0, 3}, ContourCropper.pythonSlice(-20, 3, 10));
        ContourCropper clamped = new ContourCropper(ContourCropper.Mode.CLAMPED);
        assertArrayEquals(new int[] {0, 5}, clamped.slice(-3, 5, 10));
    }

    @Test
    void countsFallBacksAndNamesItsSettings() {
        ContourCropper c = new ContourCropper(ContourCropper.Mode.REPORT);
        try (Mat grey = new Mat(40, 40, org.bytedeco.opencv.global.opencv_core.CV_8UC3,
                new org.bytedeco.opencv.opencv_core.Scalar(200, 200, 200, 0))) {
            Mat out = c.apply(grey); // nothing cell-coloured: no contour, the bordered image is kept
            assertEquals(60, out.rows());
        }
        assertArrayEquals(new long[] {0, 1, 0}, c.stats());
        assertTrue(c.summary().contains("1 without any contour"), c.summary());
        assertTrue(c.id().contains("report"));
    }
}

package org.leukolab.preprocessing;

import org.leukolab.data.ImageTransform;
import static org.bytedeco.opencv.global.opencv_core.BORDER_CONSTANT;
import static org.bytedeco.opencv.global.opencv_core.CV_8U;
import static org.bytedeco.opencv.global.opencv_core.CV_8UC1;
import static org.bytedeco.opencv.global.opencv_core.CV_8UC3;
import static org.bytedeco.opencv.global.opencv_core.copyMakeBorder;
import static org.bytedeco.opencv.global.opencv_core.inRange;
import static org.bytedeco.opencv.global.opencv_imgproc.CHAIN_APPROX_SIMPLE;
import static org.bytedeco.opencv.global.opencv_imgproc.Canny;
import static org.bytedeco.opencv.global.opencv_imgproc.FILLED;
import static org.bytedeco.opencv.global.opencv_imgproc.GaussianBlur;
import static org.bytedeco.opencv.global.opencv_imgproc.RETR_EXTERNAL;
import static org.bytedeco.opencv.global.opencv_imgproc.bilateralFilter;
import static org.bytedeco.opencv.global.opencv_imgproc.boxPoints;
import static org.bytedeco.opencv.global.opencv_imgproc.contourArea;
import static org.bytedeco.opencv.global.opencv_imgproc.dilate;
import static org.bytedeco.opencv.global.opencv_imgproc.drawContours;
import static org.bytedeco.opencv.global.opencv_imgproc.erode;
import static org.bytedeco.opencv.global.opencv_imgproc.findContours;
import static org.bytedeco.opencv.global.opencv_imgproc.minAreaRect;
import static org.bytedeco.opencv.global.opencv_imgproc.morphologyDefaultBorderValue;

import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.bytedeco.javacpp.indexer.FloatIndexer;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.MatVector;
import org.bytedeco.opencv.opencv_core.Point;
import org.bytedeco.opencv.opencv_core.Rect;
import org.bytedeco.opencv.opencv_core.RotatedRect;
import org.bytedeco.opencv.opencv_core.Scalar;
import org.bytedeco.opencv.opencv_core.Size;

/**
 * Report 002's contour crop, step for step: a 10-pixel border of colour (198, 203, 208); a colour mask
 * {@code inRange((80, 80, 180), (180, 170, 245))} on RGB; erode 3x3 twice, dilate 5x5 five times; edges
 * (Gaussian blur 1x1, bilateral filter 9/75/75, Canny 100/400, dilate, erode); external contours sorted by
 * area; the minimum-area box of the largest one whose box is not degenerate; pixels outside the largest
 * contour set to black; the crop to that box.
 *
 * <p><b>Fall-backs.</b> Without any contour the whole bordered image is kept (unmasked). The box can stick
 * out of the image; the report cut it with a Python slice, where a negative start counts from the end, so
 * such crops usually came out empty and the whole (bordered, masked) image was kept instead — silently.
 * {@link Mode#REPORT} reproduces those slice rules exactly; {@link Mode#CLAMPED} (the corrected recipe)
 * clips the box to the image, so a cell near the edge is still cropped. Either way every fall-back is
 * counted ({@link #stats()}).
 */
public final class ContourCropper implements ImageTransform {
    /** How a box that leaves the image is cut. */
    public enum Mode { REPORT, CLAMPED }

    /** What happened to one image. */
    public enum Outcome { CROPPED, NO_CONTOUR, EMPTY_SLICE }

    /** The stages of one image, for showing the recipe (all RGB or single-channel 8-bit Mats). */
    public record Stages(Mat bordered, Mat mask, Mat edges, Mat masked, Mat result, Outcome outcome,
                         int[] box, int contours) {}

    private static final Scalar BORDER = new Scalar(198, 203, 208, 0);
    private final Mode mode;
    private final AtomicLong cropped = new AtomicLong();
    private final AtomicLong noContour = new AtomicLong();
    private final AtomicLong emptySlice = new AtomicLong();

    public ContourCropper(Mode mode) {
        this.mode = mode;
    }

    public Mode mode() {
        return mode;
    }

    @Override
    public String id() {
        return "contour-crop-v1-" + mode.name().toLowerCase(java.util.Locale.ROOT);
    }

    @Override
    public Mat apply(Mat rgb) {
        Stages s = run(rgb, false);
        switch (s.outcome()) {
            case CROPPED -> cropped.incrementAndGet();
            case NO_CONTOUR -> noContour.incrementAndGet();
            default -> emptySlice.incrementAndGet();
        }
        return s.result();
    }

    /** Counts since creation: {cropped, no contour (whole image kept), empty slice (whole masked image kept)}. */
    public long[] stats() {
        return new long[] {cropped.get(), noContour.get(), emptySlice.get()};
    }

    public String summary() {
        long[] s = stats();
        long n = s[0] + s[1] + s[2];
        return String.format(java.util.Locale.ROOT, "%d images: %d cropped, %d without any contour (kept whole), "
                + "%d whose box left the image and gave an empty %s slice (kept whole, masked)%s",
                n, s[0], s[1], s[2], mode == Mode.REPORT ? "Python" : "clamped",
                n == 0 ? "" : String.format(java.util.Locale.ROOT, " - %.1f%% fell back", 100.0 * (s[1] + s[2]) / n));
    }

    /**
     * Runs the recipe over every image of an index (in parallel, with a progress bar) and returns one row
     * per image: file, class, split, outcome and box. The counts of {@link #stats()} grow accordingly.
     */
    public tech.tablesaw.api.Table census(org.leukolab.data.ImageIndex index) {
        int n = index.size();
        String[] outcome = new String[n];
        String[] box = new String[n];
        try (org.leukolab.notebook.Progress bar = org.leukolab.notebook.Progress.start("contour crop " + index.name(), n, "img")) {
            java.util.stream.IntStream.range(0, n).parallel().forEach(i -> {
                org.leukolab.data.ImageDecoder.Decoded d = org.leukolab.data.ImageDecoder.decode(index.get(i).path());
                if (!d.ok()) {
                    outcome[i] = "UNREADABLE";
                    box[i] = "";
                } else {
                    try (Mat img = d.rgb()) {
                        Stages s = run(img, false);
                        s.result().close();
                        outcome[i] = s.outcome().name();
                        box[i] = s.box() == null ? "" : java.util.Arrays.toString(s.box());
                        switch (s.outcome()) {
                            case CROPPED -> cropped.incrementAndGet();
                            case NO_CONTOUR -> noContour.incrementAndGet();
                            default -> emptySlice.incrementAndGet();
                        }
                    }
                }
                bar.step();
            });
        }
        tech.tablesaw.api.Table t = index.table().selectColumns("path", "label", "split");
        t.addColumns(tech.tablesaw.api.StringColumn.create("outcome", outcome),
                tech.tablesaw.api.StringColumn.create("box [minX, maxX, minY, maxY]", box));
        return t.setName("contour crop (" + mode.name().toLowerCase(java.util.Locale.ROOT) + "): " + index.name());
    }

    /** Runs the recipe on one RGB image and keeps every stage (for the notebook's pictures). */
    public Stages stages(Mat rgb) {
        return run(rgb, true);
    }

    private Stages run(Mat rgb, boolean keep) {
        if (rgb.type() != CV_8UC3) {
            throw new IllegalArgumentException("expected an 8-bit RGB image");
        }
        Mat img = new Mat();
        copyMakeBorder(rgb, img, 10, 10, 10, 10, BORDER_CONSTANT, BORDER);

        Mat mask = new Mat();
        // bounds as OpenCV scalars (3x1 doubles): a 1x1 3-channel Mat is NOT read as a scalar by inRange
        try (Mat lo = new Mat(new double[] {80, 80, 180}); Mat hi = new Mat(new double[] {180, 170, 245})) {
            inRange(img, lo, hi, mask);
        }
        try (Mat small = new Mat(3, 3, CV_8U, new Scalar(1)); Mat large = new Mat(5, 5, CV_8U, new Scalar(1));
             Mat eroded = new Mat()) {
            erode(mask, eroded, small, new Point(-1, -1), 2, BORDER_CONSTANT, morphologyDefaultBorderValue());
            dilate(eroded, mask, large, new Point(-1, -1), 5, BORDER_CONSTANT, morphologyDefaultBorderValue());
        }
        Mat edges = findEdges(mask);

        MatVector found = new MatVector();
        try (Mat hierarchy = new Mat(); Mat work = edges.clone()) {
            findContours(work, found, hierarchy, RETR_EXTERNAL, CHAIN_APPROX_SIMPLE);
        }
        List<Mat> contours = new ArrayList<>();
        for (long i = 0; i < found.size(); i++) {
            contours.add(found.get(i));
        }
        contours.sort(java.util.Comparator.comparingDouble(c -> contourArea(c))); // stable, as Python's sorted
        int[] box = null; // {minX, maxX, minY, maxY} of the last non-degenerate box
        for (Mat c : contours) {
            int[] b = box(c);
            if (b != null) {
                box = b;
            }
        }
        Outcome outcome;
        Mat result;
        Mat masked = null;
        if (box == null) {
            outcome = Outcome.NO_CONTOUR;
            result = img.clone();
        } else {
            masked = img.clone();
            try (Mat fill = new Mat(img.rows(), img.cols(), CV_8UC1, new Scalar(0))) {
                drawContours(fill, found, (int) indexOf(found, contours.get(contours.size() - 1)), new Scalar(255), FILLED,
                        org.bytedeco.opencv.global.opencv_imgproc.LINE_8, new Mat(), Integer.MAX_VALUE, new Point(0, 0));
                try (Mat outside = new Mat()) {
                    org.bytedeco.opencv.global.opencv_core.bitwise_not(fill, outside);
                    masked.setTo(new Mat(1, 1, CV_8UC3, new Scalar(0, 0, 0, 0)), outside);
                }
            }
            int[] ys = slice(box[2], box[3], masked.rows());
            int[] xs = slice(box[0], box[1], masked.cols());
            if (ys[1] > ys[0] && xs[1] > xs[0]) {
                outcome = Outcome.CROPPED;
                try (Mat roi = new Mat(masked, new Rect(xs[0], ys[0], xs[1] - xs[0], ys[1] - ys[0]))) {
                    result = roi.clone();
                }
            } else {
                outcome = Outcome.EMPTY_SLICE;
                result = masked.clone();
            }
        }
        Stages s = new Stages(keep ? img : null, keep ? mask : null, keep ? edges : null, keep ? masked : null,
                result, outcome, box, contours.size());
        if (!keep) {
            img.close();
            mask.close();
            edges.close();
            if (masked != null) {
                masked.close();
            }
        }
        found.close();
        return s;
    }

    private static long indexOf(MatVector v, Mat m) {
        for (long i = 0; i < v.size(); i++) {
            if (v.get(i).address() == m.address()) {
                return i;
            }
        }
        throw new IllegalStateException("contour not found");
    }

    private static Mat findEdges(Mat mask) {
        Mat blurred = new Mat();
        GaussianBlur(mask, blurred, new Size(1, 1), 0);
        Mat filtered = new Mat();
        bilateralFilter(blurred, filtered, 9, 75, 75);
        Mat edged = new Mat();
        Canny(filtered, edged, 100, 400);
        Mat tmp = new Mat();
        dilate(edged, tmp, new Mat(), new Point(-1, -1), 1, BORDER_CONSTANT, morphologyDefaultBorderValue());
        erode(tmp, edged, new Mat(), new Point(-1, -1), 1, BORDER_CONSTANT, morphologyDefaultBorderValue());
        blurred.close();
        filtered.close();
        tmp.close();
        return edged;
    }

    /**
     * The contour's minimum-area box as {minX, maxX, minY, maxY}, corners truncated to int as numpy's
     * astype(int) does; null when two adjacent corners coincide (the report skips such boxes).
     */
    static int[] box(Mat contour) {
        RotatedRect r = minAreaRect(contour);
        try (Mat pts = new Mat()) {
            boxPoints(r, pts);
            FloatIndexer ix = pts.createIndexer();
            int[][] p = new int[4][2];
            for (int i = 0; i < 4; i++) {
                p[i][0] = (int) ix.get(i, 0); // Java's cast truncates toward zero, like numpy
                p[i][1] = (int) ix.get(i, 1);
            }
            ix.close();
            if (dist(p[0], p[3]) <= 0 || dist(p[0], p[1]) <= 0) {
                return null;
            }
            int minX = Integer.MAX_VALUE, maxX = Integer.MIN_VALUE, minY = Integer.MAX_VALUE, maxY = Integer.MIN_VALUE;
            for (int[] q : p) {
                minX = Math.min(minX, q[0]);
                maxX = Math.max(maxX, q[0]);
                minY = Math.min(minY, q[1]);
                maxY = Math.max(maxY, q[1]);
            }
            return new int[] {minX, maxX, minY, maxY};
        }
    }

    private static double dist(int[] a, int[] b) {
        return Math.hypot(a[0] - b[0], a[1] - b[1]);
    }

    /** Start and end of {@code [start:end]} along an axis of length n, by this cropper's rules. */
    int[] slice(int start, int end, int n) {
        if (mode == Mode.CLAMPED) {
            return new int[] {Math.max(0, Math.min(n, start)), Math.max(0, Math.min(n, end))};
        }
        return pythonSlice(start, end, n);
    }

    /** Python's slice rules: negative indices count from the end, then both are clipped to [0, n]. */
    static int[] pythonSlice(int start, int end, int n) {
        int s = start < 0 ? Math.max(0, start + n) : Math.min(start, n);
        int e = end < 0 ? Math.max(0, end + n) : Math.min(end, n);
        return new int[] {s, e};
    }
}

package org.leukolab.plots;

import java.awt.Color;
import java.awt.Font;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import org.leukolab.data.LoadedImages;

/** Grids of images with captions: example cells per class, pairs of near-duplicates, errors. */
public final class Montage {
    private static final int LABEL_W = 130;
    private static final int CAPTION_H = 18;

    private Montage() {}

    /**
     * {@code perClass} images of each class (chosen at random with {@code seed}), one row per class,
     * the class name and its image count at the left.
     */
    public static Figure perClass(LoadedImages images, int perClass, long seed) {
        List<String> classes = images.classes();
        int[] labels = images.labels();
        int tile = Math.max(images.height(), images.width());
        int rows = classes.size();
        BufferedImage out = canvas(LABEL_W + perClass * (tile + 4) + 4, rows * (tile + 4) + 4 + CAPTION_H);
        Graphics2D g = graphics(out);
        Random rnd = new Random(seed);
        g.setColor(Color.DARK_GRAY);
        g.drawString(images.index().name() + " (" + images.size() + " images, " + images.height() + "x"
                + images.width() + ")", 6, 14);
        for (int c = 0; c < rows; c++) {
            List<Integer> members = new ArrayList<>();
            for (int i = 0; i < labels.length; i++) {
                if (labels[i] == c) {
                    members.add(i);
                }
            }
            Collections.shuffle(members, rnd);
            int y = CAPTION_H + 4 + c * (tile + 4);
            g.setColor(Color.BLACK);
            g.drawString(classes.get(c), 6, y + tile / 2);
            g.setColor(Color.GRAY);
            g.drawString(members.size() + " images", 6, y + tile / 2 + 16);
            for (int j = 0; j < Math.min(perClass, members.size()); j++) {
                g.drawImage(images.image(members.get(j)), LABEL_W + j * (tile + 4), y, null);
            }
        }
        g.dispose();
        return Figure.of("examples per class: " + images.index().name(), out);
    }

    /**
     * The same classes from different source datasets side by side: one row per class, {@code perSource} images of
     * each source (chosen at random with {@code seed}), as the network sees them (the loaded size). Rows of classes
     * a source lacks show only the other.
     */
    public static Figure bySource(LoadedImages images, int perSource, long seed) {
        List<String> sources = images.index().sources();
        List<BufferedImage> imgs = new ArrayList<>();
        List<String> captions = new ArrayList<>();
        Random rnd = new Random(seed);
        int columns = perSource * sources.size();
        for (String cls : images.classes()) {
            for (String src : sources) {
                List<Integer> members = new ArrayList<>();
                for (int i = 0; i < images.size(); i++) {
                    var r = images.index().get(i);
                    if (r.label().equals(cls) && r.source().equals(src)) {
                        members.add(i);
                    }
                }
                Collections.shuffle(members, rnd);
                for (int j = 0; j < perSource; j++) {
                    if (j < members.size()) {
                        imgs.add(images.image(members.get(j)));
                        captions.add(cls + " | " + src);
                    } else {
                        imgs.add(canvas(images.width(), images.height()));
                        captions.add(cls + " | (none from " + src + ")");
                    }
                }
            }
        }
        return grid("each class from each source, at " + images.height() + "x" + images.width() + " (sources: "
                + String.join(", ", sources) + ")", imgs, captions, columns, Math.min(160, Math.max(images.height(), 96)));
    }

    /**
     * Originals beside augmented copies made from them: for each class with copies, its first
     * {@code perClass} copies, each after its original ({@code original | copy} pairs in a row).
     */
    public static Figure augmentations(org.leukolab.balancing.ClassBalancer.Result balanced, int perClass, int tile) {
        List<BufferedImage> imgs = new ArrayList<>();
        List<String> captions = new ArrayList<>();
        for (org.leukolab.balancing.ClassBalancer.Copy c : balanced.copies(perClass)) {
            imgs.add(decoded(c.original()));
            captions.add(c.original().label() + ": original");
            imgs.add(decoded(c.copy()));
            captions.add(c.copy().fileName());
        }
        if (imgs.isEmpty()) {
            return Figure.of("no augmented copies: every class already had as many images as the largest",
                    canvas(400, 30));
        }
        return grid("originals and their augmented copies", imgs, captions, Math.min(6, 2 * perClass), tile);
    }

    /**
     * The same images through several batch transforms, one row per transform (the first row the images as they are),
     * each image captioned with its label after the transform (the two largest label weights when labels are mixed).
     * The transforms must work on pixel values 0..255 (augmentations before the backbone's preprocessing).
     */
    public static Figure augmented(String title, LoadedImages images, int[] positions,
                                   java.util.Map<String, org.leukolab.augmentation.BatchTransform> transforms, long seed, int tile) {
        LoadedImages few = images.subset(positions);
        org.nd4j.linalg.api.ndarray.INDArray x = few.features();
        org.nd4j.linalg.api.ndarray.INDArray y = few.labelsOneHot();
        List<BufferedImage> imgs = new ArrayList<>();
        List<String> caps = new ArrayList<>();
        java.util.Map<String, org.leukolab.augmentation.BatchTransform> rows = new java.util.LinkedHashMap<>();
        rows.put("original", org.leukolab.augmentation.BatchTransform.identity());
        rows.putAll(transforms);
        for (var e : rows.entrySet()) {
            var d = e.getValue().apply(x, y, new Random(seed));
            for (int i = 0; i < positions.length; i++) {
                imgs.add(toImage(d.getFeatures().slice(i)));
                caps.add(e.getKey() + ": " + labelText(d.getLabels().getRow(i).toDoubleVector(), few.classes()));
            }
        }
        return grid(title, imgs, caps, positions.length, tile);
    }

    private static String labelText(double[] y, List<String> classes) {
        int a = 0;
        for (int c = 1; c < y.length; c++) {
            if (y[c] > y[a]) {
                a = c;
            }
        }
        if (y[a] > 0.999) {
            return classes.get(a);
        }
        int b = a == 0 ? 1 : 0;
        for (int c = 0; c < y.length; c++) {
            if (c != a && y[c] > y[b]) {
                b = c;
            }
        }
        return String.format(java.util.Locale.ROOT, "%.2f %s %.2f %s", y[a], classes.get(a).substring(0, Math.min(4, classes.get(a).length())),
                y[b], classes.get(b).substring(0, Math.min(4, classes.get(b).length())));
    }

    /** An NCHW image (values 0..255) as a picture. */
    private static BufferedImage toImage(org.nd4j.linalg.api.ndarray.INDArray chw) {
        int h = (int) chw.size(1);
        int w = (int) chw.size(2);
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        float[] v = chw.dup('c').data().asFloat();
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int r = clip8(v[y * w + x]);
                int g = clip8(v[h * w + y * w + x]);
                int b = clip8(v[2 * h * w + y * w + x]);
                out.setRGB(x, y, r << 16 | g << 8 | b);
            }
        }
        return out;
    }

    private static int clip8(float v) {
        return Math.max(0, Math.min(255, Math.round(v)));
    }

    /**
     * Grad-CAM maps over their images: for each position, the image beside the same image with its map laid over it
     * (a blue-to-red colour scale, half transparent), captioned.
     */
    public static Figure gradCam(String title, LoadedImages images, int[] positions, double[][][] maps, List<String> captions,
                                 int tile) {
        List<BufferedImage> imgs = new ArrayList<>();
        List<String> caps = new ArrayList<>();
        for (int k = 0; k < positions.length; k++) {
            BufferedImage img = images.image(positions[k]);
            imgs.add(img);
            caps.add(k < captions.size() ? captions.get(k) : "");
            imgs.add(overlay(img, maps[k]));
            caps.add("Grad-CAM");
        }
        return grid(title, imgs, caps, Math.min(8, 2 * positions.length), tile);
    }

    /**
     * Grad-CAM of a classifier on some of the images it was evaluated on: for each position (into {@code images}, in
     * the order of {@code predictions}) the map of the class it predicted, computed on the images after
     * {@code preprocessing}, captioned with the true class, the prediction and its probability.
     */
    public static Figure gradCam(String title, org.leukolab.evaluation.GradCam cam,
                                 org.leukolab.preprocessing.KerasPreprocessing preprocessing,
                                 org.leukolab.evaluation.Predictions predictions, LoadedImages images, int[] positions, int tile) {
        if (images.size() != predictions.size()) {
            throw new IllegalArgumentException(images.size() + " images but " + predictions.size() + " predictions: pass the images "
                    + "the predictions were made on, in the same order");
        }
        int[] pred = predictions.predicted();
        int[] classes = java.util.Arrays.stream(positions).map(i -> pred[i]).toArray();
        double[][][] maps = cam.maps(preprocessing.apply(images.subset(positions).features()), classes);
        List<String> captions = new ArrayList<>();
        for (int i : positions) {
            String actual = predictions.classes().get(predictions.actual()[i]);
            String guess = predictions.classes().get(pred[i]);
            captions.add(actual.equals(guess)
                    ? String.format(java.util.Locale.ROOT, "%s (%.2f)", actual, predictions.probabilities()[i][pred[i]])
                    : String.format(java.util.Locale.ROOT, "%s as %s (%.2f)", actual, guess, predictions.probabilities()[i][pred[i]]));
        }
        return gradCam(title + " · Grad-CAM at " + cam.layer(), images, positions, maps, captions, tile);
    }

    /** The image with a heat map (values 0..1, the image's size) blended over it. */
    public static BufferedImage overlay(BufferedImage img, double[][] map) {
        int h = img.getHeight();
        int w = img.getWidth();
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int y = 0; y < h; y++) {
            for (int x = 0; x < w; x++) {
                int rgb = img.getRGB(x, y);
                double v = map[Math.min(map.length - 1, y * map.length / h)][Math.min(map[0].length - 1, x * map[0].length / w)];
                int[] heat = jet(v);
                double a = 0.5;
                int r = (int) ((1 - a) * ((rgb >> 16) & 0xFF) + a * heat[0]);
                int g = (int) ((1 - a) * ((rgb >> 8) & 0xFF) + a * heat[1]);
                int b = (int) ((1 - a) * (rgb & 0xFF) + a * heat[2]);
                out.setRGB(x, y, r << 16 | g << 8 | b);
            }
        }
        return out;
    }

    /** The "jet" colour scale: blue (0) through cyan, yellow, to red (1). */
    private static int[] jet(double v) {
        double t = Math.max(0, Math.min(1, v));
        double r = Math.max(0, Math.min(1, 1.5 - Math.abs(4 * t - 3)));
        double g = Math.max(0, Math.min(1, 1.5 - Math.abs(4 * t - 2)));
        double b = Math.max(0, Math.min(1, 1.5 - Math.abs(4 * t - 1)));
        return new int[] {(int) (255 * r), (int) (255 * g), (int) (255 * b)};
    }

    /**
     * The {@code count} most similar pairs of a near-duplicate search (an image of {@code a} beside its nearest
     * image in {@code b}), captioned with class, file and similarity: what a leakage audit looks at.
     */
    public static Figure nearestPairs(String title, LoadedImages a, LoadedImages b,
                                      org.leukolab.evaluation.NearDuplicates.Nearest nearest, int count) {
        List<Integer> order = java.util.stream.IntStream.range(0, a.size()).boxed()
                .sorted(java.util.Comparator.comparingDouble(i -> -nearest.similarity()[i])).limit(count).toList();
        List<BufferedImage> imgs = new ArrayList<>();
        List<String> captions = new ArrayList<>();
        for (int i : order) {
            int j = nearest.index()[i];
            imgs.add(a.image(i));
            captions.add(a.index().get(i).label().substring(0, Math.min(3, a.index().get(i).label().length())) + " "
                    + a.index().get(i).fileName());
            imgs.add(b.image(j));
            captions.add(String.format(java.util.Locale.ROOT, "%.3f %s", nearest.similarity()[i], b.index().get(j).fileName()));
        }
        return grid(title, imgs, captions, 4, 150);
    }

    private static BufferedImage decoded(org.leukolab.data.ImageRecord r) {
        org.leukolab.data.ImageDecoder.Decoded d = org.leukolab.data.ImageDecoder.decode(r);
        if (!d.ok()) {
            throw new IllegalStateException(r.path() + ": " + d.error());
        }
        try (org.bytedeco.opencv.opencv_core.Mat m = d.rgb()) {
            return MatImages.of(m);
        }
    }

    /** Images in a grid of {@code columns}, each with its caption underneath (scaled to fit {@code tile} px, aspect kept). */
    public static Figure grid(String title, List<BufferedImage> imgs, List<String> captions, int columns, int tile) {
        int rows = (imgs.size() + columns - 1) / columns;
        BufferedImage out = canvas(columns * (tile + 8) + 8, CAPTION_H + rows * (tile + CAPTION_H + 8) + 8);
        Graphics2D g = graphics(out);
        g.setColor(Color.DARK_GRAY);
        g.drawString(title, 6, 14);
        for (int i = 0; i < imgs.size(); i++) {
            int x = 8 + (i % columns) * (tile + 8);
            int y = CAPTION_H + 8 + (i / columns) * (tile + CAPTION_H + 8);
            BufferedImage im = imgs.get(i);
            double scale = Math.min((double) tile / im.getWidth(), (double) tile / im.getHeight());
            int w = (int) Math.round(im.getWidth() * scale);
            int h = (int) Math.round(im.getHeight() * scale);
            g.drawImage(im, x + (tile - w) / 2, y + (tile - h) / 2, w, h, null);
            if (i < captions.size()) {
                g.setColor(Color.BLACK);
                g.drawString(fit(g, captions.get(i), tile), x, y + tile + 14);
            }
        }
        g.dispose();
        return Figure.of(title, out);
    }

    private static String fit(Graphics2D g, String s, int width) {
        String t = s;
        while (t.length() > 3 && g.getFontMetrics().stringWidth(t) > width) {
            t = t.substring(0, t.length() - 2);
        }
        return t.equals(s) ? s : t + "…";
    }

    private static BufferedImage canvas(int w, int h) {
        BufferedImage out = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, w, h);
        g.dispose();
        return out;
    }

    private static Graphics2D graphics(BufferedImage img) {
        Graphics2D g = img.createGraphics();
        g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
        g.setRenderingHint(RenderingHints.KEY_INTERPOLATION, RenderingHints.VALUE_INTERPOLATION_BILINEAR);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 12));
        return g;
    }
}

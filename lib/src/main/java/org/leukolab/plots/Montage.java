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

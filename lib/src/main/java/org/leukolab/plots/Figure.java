package org.leukolab.plots;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Base64;
import java.util.Map;
import javax.imageio.ImageIO;
import org.knowm.xchart.BitmapEncoder;
import org.knowm.xchart.internal.chartpart.Chart;
import org.leukolab.notebook.Notebook;
import org.leukolab.notebook.Rich;

/**
 * A rendered figure: shown inline when a notebook cell ends with it (or by {@link #show()}), and
 * savable as PNG. Wraps an XChart chart or any image (montages, combined panels).
 */
public final class Figure implements Rich {
    private final String title;
    private final BufferedImage image;
    private final Chart<?, ?> chart;

    private Figure(String title, BufferedImage image, Chart<?, ?> chart) {
        this.title = title;
        this.image = image;
        this.chart = chart;
    }

    public static Figure of(Chart<?, ?> chart) {
        return new Figure(chart.getTitle(), BitmapEncoder.getBufferedImage(chart), chart);
    }

    public static Figure of(String title, BufferedImage image) {
        return new Figure(title, image, null);
    }

    /** Figures side by side (top-aligned, white background). */
    public static Figure row(String title, Figure... parts) {
        int w = 0;
        int h = 0;
        for (Figure f : parts) {
            w += f.image.getWidth();
            h = Math.max(h, f.image.getHeight());
        }
        BufferedImage out = new BufferedImage(Math.max(1, w), Math.max(1, h), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, out.getWidth(), out.getHeight());
        int x = 0;
        for (Figure f : parts) {
            g.drawImage(f.image, x, 0, null);
            x += f.image.getWidth();
        }
        g.dispose();
        return new Figure(title, out, null);
    }

    /** Figures stacked top to bottom (left-aligned, white background). */
    public static Figure column(String title, Figure... parts) {
        int w = 0;
        int h = 0;
        for (Figure f : parts) {
            w = Math.max(w, f.image.getWidth());
            h += f.image.getHeight();
        }
        BufferedImage out = new BufferedImage(Math.max(1, w), Math.max(1, h), BufferedImage.TYPE_INT_RGB);
        Graphics2D g = out.createGraphics();
        g.setColor(Color.WHITE);
        g.fillRect(0, 0, out.getWidth(), out.getHeight());
        int y = 0;
        for (Figure f : parts) {
            g.drawImage(f.image, 0, y, null);
            y += f.image.getHeight();
        }
        g.dispose();
        return new Figure(title, out, null);
    }

    public String title() {
        return title;
    }

    public BufferedImage image() {
        return image;
    }

    /** The XChart chart behind this figure, to restyle it; null for image figures. */
    public Chart<?, ?> chart() {
        return chart;
    }

    public int width() {
        return image.getWidth();
    }

    public int height() {
        return image.getHeight();
    }

    /** Writes a PNG (atomically: a temporary file renamed into place); creates parent folders. */
    public Figure save(Path png) {
        org.leukolab.system.AtomicFiles.write(png, pngBytes());
        return this;
    }

    public byte[] pngBytes() {
        try (ByteArrayOutputStream out = new ByteArrayOutputStream()) {
            ImageIO.write(image, "png", out);
            return out.toByteArray();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Displays the figure now (useful inside loops); outside a notebook prints its description. */
    public void show() {
        Notebook.show(this);
    }

    @Override
    public String toString() {
        return "Figure '" + title + "' (" + image.getWidth() + "x" + image.getHeight() + ")";
    }

    @Override
    public Map<String, Object> mimeBundle() {
        return Map.of("text/plain", toString(), "image/png", Base64.getEncoder().encodeToString(pngBytes()));
    }
}

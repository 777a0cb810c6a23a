package org.leukolab.data;

import java.awt.Color;
import java.awt.Graphics2D;
import java.awt.image.BufferedImage;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import javax.imageio.ImageIO;
import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.global.opencv_imgcodecs;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Scalar;

/** Real image files (good and deliberately broken) written by the tests themselves. */
public final class TestImages {
    private TestImages() {}

    /** A solid-colour RGB image encoded as JPEG or PNG. */
    static Path solid(Path file, int w, int h, Color c, String format) throws IOException {
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = img.createGraphics();
        g.setColor(c);
        g.fillRect(0, 0, w, h);
        g.dispose();
        return write(file, img, format);
    }

    static Path write(Path file, BufferedImage img, String format) throws IOException {
        Files.createDirectories(file.getParent());
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        if (!ImageIO.write(img, format, out)) {
            throw new IOException("no ImageIO writer for " + format);
        }
        Files.write(file, out.toByteArray());
        return file;
    }

    public static Path jpeg(Path file) throws IOException {
        return solid(file, 40, 30, new Color(200, 100, 50), "jpg");
    }

    /** A JPEG cut after half its bytes (no end-of-image marker). */
    static Path truncatedJpeg(Path file) throws IOException {
        jpeg(file);
        byte[] b = Files.readAllBytes(file);
        Files.write(file, Arrays.copyOf(b, b.length / 2));
        return file;
    }

    /**
     * A JPEG whose scan data stops half-way but which still ends with an end-of-image marker (FF D9), as a download
     * cut short and "repaired" by a tool would: libjpeg decodes it with the warning "Corrupt JPEG data: premature end
     * of data segment" and fills the rest grey. A noisy picture, so the scan data is long.
     */
    public static Path prematureEndJpeg(Path file) throws IOException {
        BufferedImage img = new BufferedImage(64, 64, BufferedImage.TYPE_INT_RGB);
        java.util.Random r = new java.util.Random(7);
        for (int y = 0; y < 64; y++) {
            for (int x = 0; x < 64; x++) {
                img.setRGB(x, y, r.nextInt(0x1000000));
            }
        }
        write(file, img, "jpg");
        byte[] b = Files.readAllBytes(file);
        int sos = 0;
        for (int i = 0; i + 1 < b.length; i++) {
            if ((b[i] & 0xFF) == 0xFF && (b[i + 1] & 0xFF) == 0xDA) {
                sos = i;
                break;
            }
        }
        int cut = sos + (b.length - sos) / 2;
        byte[] out = Arrays.copyOf(b, cut + 2);
        out[cut] = (byte) 0xFF;
        out[cut + 1] = (byte) 0xD9;
        Files.write(file, out);
        return file;
    }

    /** What a macOS .DS_Store looks like (it starts with 00 00 00 01 'Bud1'), under an image name. */
    static Path dsStoreNamedJpg(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        byte[] b = new byte[6148];
        byte[] head = {0, 0, 0, 1, 'B', 'u', 'd', '1', 0, 0, 0x10, 0};
        System.arraycopy(head, 0, b, 0, head.length);
        Files.write(file, b);
        return file;
    }

    static Path grayPng(Path file, int value) throws IOException {
        BufferedImage img = new BufferedImage(20, 10, BufferedImage.TYPE_BYTE_GRAY);
        Graphics2D g = img.createGraphics();
        g.setColor(new Color(value, value, value));
        g.fillRect(0, 0, 20, 10);
        g.dispose();
        return write(file, img, "png");
    }

    static Path rgbaPng(Path file, Color c, int alpha) throws IOException {
        BufferedImage img = new BufferedImage(20, 10, BufferedImage.TYPE_INT_ARGB);
        int argb = alpha << 24 | c.getRed() << 16 | c.getGreen() << 8 | c.getBlue();
        for (int y = 0; y < 10; y++) {
            for (int x = 0; x < 20; x++) {
                img.setRGB(x, y, argb);
            }
        }
        return write(file, img, "png");
    }

    /** A 16-bit-per-channel colour PNG (written by OpenCV, which keeps 16-bit depth); values given as RGB. */
    static Path png16(Path file, int r16, int g16, int b16) throws IOException {
        Files.createDirectories(file.getParent());
        try (Mat m = new Mat(10, 20, opencv_core.CV_16UC3, new Scalar(b16, g16, r16, 0))) {
            if (!opencv_imgcodecs.imwrite(file.toString(), m)) {
                throw new IOException("OpenCV could not write " + file);
            }
        }
        return file;
    }

    /** Starts like a JPEG and ends like one, but the middle is not JPEG data. */
    static Path garbageJpeg(Path file) throws IOException {
        Files.createDirectories(file.getParent());
        byte[] b = new byte[2000];
        b[0] = (byte) 0xFF;
        b[1] = (byte) 0xD8;
        b[2] = (byte) 0xFF;
        b[3] = (byte) 0xE0;
        b[4] = 0;
        b[5] = 4;
        for (int i = 8; i < b.length - 2; i++) {
            b[i] = (byte) (i * 31);
        }
        b[b.length - 2] = (byte) 0xFF;
        b[b.length - 1] = (byte) 0xD9;
        Files.write(file, b);
        return file;
    }

    static Path text(Path file, String content) throws IOException {
        Files.createDirectories(file.getParent());
        return Files.writeString(file, content, StandardCharsets.UTF_8);
    }
}

package org.leukolab.plots;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.opencv.opencv_core.Mat;
import org.leukolab.preprocessing.ContourCropper;

/** OpenCV images as Java images, and the pictures of the contour-crop recipe. */
public final class MatImages {
    private MatImages() {}

    /** An 8-bit RGB (3 channels) or grayscale (1 channel) Mat as a Java image. */
    public static BufferedImage of(Mat m) {
        int h = m.rows();
        int w = m.cols();
        int ch = m.channels();
        byte[] px = new byte[h * w * ch];
        Mat c = m.isContinuous() ? m : m.clone();
        c.data().get(px);
        BufferedImage img = new BufferedImage(w, h, BufferedImage.TYPE_INT_RGB);
        for (int i = 0; i < h * w; i++) {
            int r = px[i * ch] & 0xFF;
            int g = ch == 3 ? px[i * ch + 1] & 0xFF : r;
            int b = ch == 3 ? px[i * ch + 2] & 0xFF : r;
            img.setRGB(i % w, i / w, r << 16 | g << 8 | b);
        }
        return img;
    }

    /** The recipe's stages for one cell, side by side: bordered image, colour mask, edges, masked, result. */
    public static Figure cropStages(String title, ContourCropper.Stages s) {
        List<BufferedImage> imgs = new ArrayList<>();
        List<String> captions = new ArrayList<>();
        imgs.add(of(s.bordered()));
        captions.add("bordered input");
        imgs.add(of(s.mask()));
        captions.add("colour mask, cleaned");
        imgs.add(of(s.edges()));
        captions.add("edges (" + s.contours() + " contours)");
        imgs.add(s.masked() == null ? of(s.bordered()) : of(s.masked()));
        captions.add(s.masked() == null ? "no contour" : "outside largest contour: black");
        imgs.add(of(s.result()));
        captions.add(s.outcome().name().toLowerCase(java.util.Locale.ROOT) + " " + s.result().cols() + "x" + s.result().rows());
        return Montage.grid(title, imgs, captions, 5, 170);
    }
}

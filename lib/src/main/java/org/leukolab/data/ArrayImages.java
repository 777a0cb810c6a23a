package org.leukolab.data;

import java.nio.file.Path;
import java.util.Arrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Images held in one array instead of files: {@code [n, h, w, 3]} (RGB) or {@code [n, h, w]} (grayscale),
 * 8-bit, as MedMNIST's npz files and numpy code keep them. Each image is one {@link Row} of an
 * {@link ImageRecord}, so an array dataset is indexed, split, merged, loaded and cached exactly like a folder
 * of image files.
 *
 * @param file  the file the array was read from (its modification time keys the image cache), or a
 *              made-up path for arrays built in memory
 * @param name  the array's name in that file (e.g. {@code train_images})
 */
public record ArrayImages(Path file, String name, INDArray pixels) {
    public ArrayImages {
        long[] s = pixels.shape();
        if (s.length != 4 && s.length != 3) {
            throw new IllegalArgumentException(file + " " + name + ": images must be [n, h, w, 3] or [n, h, w], got shape "
                    + Arrays.toString(s));
        }
        if (s.length == 4 && s[3] != 3) {
            throw new IllegalArgumentException(file + " " + name + ": images must have 3 colour channels last, got shape "
                    + Arrays.toString(s));
        }
        if (pixels.dataType() != DataType.UBYTE && pixels.dataType() != DataType.UINT8) {
            throw new IllegalArgumentException(file + " " + name + ": images must be 8-bit (uint8), got " + pixels.dataType());
        }
    }

    /** One image of the array. */
    public record Row(ArrayImages images, int index) {
        /** Its pixels as 8-bit RGB bytes, row by row, pixel by pixel (HWC); grayscale is copied to R, G and B. */
        public byte[] rgb() {
            return images.rgb(index);
        }
    }

    public int size() {
        return (int) pixels.size(0);
    }

    public int height() {
        return (int) pixels.size(1);
    }

    public int width() {
        return (int) pixels.size(2);
    }

    public boolean grayscale() {
        return pixels.rank() == 3;
    }

    byte[] rgb(int i) {
        INDArray img = pixels.get(NDArrayIndex.point(i)).dup('c');
        byte[] raw = img.data().asBytes();
        if (!grayscale()) {
            return raw;
        }
        byte[] rgb = new byte[raw.length * 3];
        for (int q = 0; q < raw.length; q++) {
            rgb[3 * q] = raw[q];
            rgb[3 * q + 1] = raw[q];
            rgb[3 * q + 2] = raw[q];
        }
        return rgb;
    }

    @Override
    public String toString() {
        return file.getFileName() + ":" + name + " " + Arrays.toString(pixels.shape());
    }
}

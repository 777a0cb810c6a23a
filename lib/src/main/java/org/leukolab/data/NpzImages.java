package org.leukolab.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Reads MedMNIST's npz files (BloodMNIST and its 64/128/224 versions) into an {@link ImageIndex} whose
 * splits are the official ones ({@code train}, {@code val}, {@code test}).
 *
 * <p>An npz file is a zip archive of numpy {@code .npy} arrays, compressed in MedMNIST's case; the archive is
 * read with the JDK's zip support and each array by {@link Npy}, which checks numpy's header (type, shape, size
 * against the bytes present) before it allocates anything. ND4J's own readers are not used: {@code createFromNpzFile}
 * reads the stored bytes without inflating them (it fails on compressed archives like MedMNIST's), and its native npy
 * reader trusts the header (an object array crashed the JVM; a header claiming terabytes exhausted memory).
 *
 * <p>A MedMNIST file holds {@code <split>_images} ({@code [n, h, w, 3]} uint8, or {@code [n, h, w]} for the
 * grayscale sets) and {@code <split>_labels} ({@code [n, 1]}) for the three splits. A truncated or damaged
 * file, or one without these arrays, is an error that names the file and what it holds. An empty training split is
 * refused; an empty validation or test split is loaded and reported in the index's issues.
 */
public final class NpzImages {
    /** The official MedMNIST splits, in the order of their arrays. */
    public static final List<String> SPLITS = List.of("train", "val", "test");

    private NpzImages() {}

    /** Every array in an npz file, by name (without {@code .npy}), in the archive's order. */
    public static Map<String, INDArray> read(Path npz) {
        if (!Files.isRegularFile(npz)) {
            throw new DatasetException.Missing(npz + " does not exist");
        }
        Map<String, INDArray> out = new LinkedHashMap<>();
        try (ZipFile z = new ZipFile(npz.toFile())) {
            for (ZipEntry e : Collections.list(z.entries())) {
                if (!e.getName().endsWith(".npy")) {
                    continue;
                }
                String name = e.getName().substring(0, e.getName().length() - 4);
                String what = npz + ": the array " + name;
                try (InputStream in = new java.io.BufferedInputStream(z.getInputStream(e))) {
                    Npy.Header h = Npy.header(in, what);
                    long available = e.getSize() < 0 ? -1 : e.getSize() - h.dataOffset();
                    out.put(name, Npy.data(in, h, available, what));
                }
            }
        } catch (ZipException e) {
            throw new DatasetException.Layout(npz + " is not a complete npz (zip) file (" + e.getMessage()
                    + "); it is truncated or damaged: delete it and fetch it again.");
        } catch (IOException e) {
            throw new DatasetException.Layout(npz + " cannot be read (" + e.getMessage() + "); if it is truncated or "
                    + "damaged, delete it and fetch it again.");
        }
        return out;
    }

    /**
     * A MedMNIST npz as an index: one record per image, split as the file splits it, labels named by
     * {@code classes} (MedMNIST's label order), every record's source {@code source}.
     */
    public static ImageIndex index(Path npz, String source, List<String> classes) {
        Map<String, INDArray> arrays = read(npz);
        List<String> missing = new ArrayList<>();
        for (String s : SPLITS) {
            for (String kind : List.of("_images", "_labels")) {
                if (!arrays.containsKey(s + kind)) {
                    missing.add(s + kind);
                }
            }
        }
        if (!missing.isEmpty()) {
            throw new DatasetException.Layout(npz + " is not a MedMNIST file: it lacks " + missing + "; it holds "
                    + new TreeSet<>(arrays.keySet()) + ". MedMNIST files hold train_images, train_labels, val_images, "
                    + "val_labels, test_images and test_labels.");
        }
        Map<String, ArrayImages> images = new LinkedHashMap<>();
        Map<String, int[]> labels = new LinkedHashMap<>();
        for (String s : SPLITS) {
            ArrayImages a;
            try {
                a = new ArrayImages(npz, s + "_images", arrays.get(s + "_images"));
            } catch (IllegalArgumentException e) {
                throw new DatasetException.Layout(e.getMessage());
            }
            INDArray y = arrays.get(s + "_labels");
            if (y.length() != a.size()) {
                throw new DatasetException.Layout(npz + ": " + s + "_images holds " + a.size() + " images but " + s
                        + "_labels holds " + y.length() + " labels");
            }
            if (y.dataType() == org.nd4j.linalg.api.buffer.DataType.BOOL || !(y.dataType().isIntType() || y.dataType().isFPType())) {
                throw new DatasetException.Layout(npz + ": " + s + "_labels are " + y.dataType() + ", not class numbers; save them "
                        + "as integers (numpy.int64).");
            }
            int[] yi = y.length() == 0 ? new int[0] : y.reshape(-1).toIntVector();
            for (int i = 0; i < yi.length; i++) {
                if (yi[i] < 0 || yi[i] >= classes.size()) {
                    throw new DatasetException.Layout(npz + ": " + s + "_labels[" + i + "] is " + yi[i] + ", outside the "
                            + classes.size() + " classes " + classes);
                }
            }
            images.put(s, a);
            labels.put(s, yi);
        }
        if (images.get("train").size() == 0) {
            throw new DatasetException.Layout(npz + ": train_images holds no images (shape "
                    + java.util.Arrays.toString(images.get("train").pixels().shape()) + "); there is nothing to train on. The file "
                    + "was saved from an empty selection: check the code that wrote it, or fetch the official file again.");
        }
        ImageIndex index = ImageIndex.fromArrays(source, npz, images, labels, classes);
        for (String s : SPLITS) {
            if (images.get(s).size() == 0) {
                index.issues().add(new DataIssue(npz, DataIssue.Kind.EMPTY_SPLIT, "the " + s + " split holds no images ("
                        + s + "_images has shape " + java.util.Arrays.toString(images.get(s).pixels().shape())
                        + "): nothing can be " + (s.equals("val") ? "validated" : "tested") + " on it", "loaded, flagged"));
            }
        }
        return index;
    }
}

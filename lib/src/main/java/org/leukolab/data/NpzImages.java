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
 * read with the JDK's zip support and each array with ND4J's npy reader ({@code Nd4j.createNpyFromByteArray},
 * which knows numpy's header and uint8). ND4J's own {@code createFromNpzFile} is not used: it reads the
 * stored bytes without inflating them, so it fails on compressed archives like MedMNIST's.
 *
 * <p>A MedMNIST file holds {@code <split>_images} ({@code [n, h, w, 3]} uint8, or {@code [n, h, w]} for the
 * grayscale sets) and {@code <split>_labels} ({@code [n, 1]}) for the three splits. A truncated or damaged
 * file, or one without these arrays, is an error that names the file and what it holds.
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
                byte[] bytes;
                try (InputStream in = z.getInputStream(e)) {
                    bytes = in.readAllBytes();
                }
                try {
                    out.put(e.getName().substring(0, e.getName().length() - 4), Nd4j.createNpyFromByteArray(bytes));
                } catch (RuntimeException x) {
                    throw new DatasetException.Layout(npz + ": the array " + e.getName() + " cannot be read as a numpy "
                            + "array (" + x.getMessage() + "). The file is damaged: fetch it again.");
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
            int[] yi = y.reshape(-1).toIntVector();
            for (int i = 0; i < yi.length; i++) {
                if (yi[i] < 0 || yi[i] >= classes.size()) {
                    throw new DatasetException.Layout(npz + ": " + s + "_labels[" + i + "] is " + yi[i] + ", outside the "
                            + classes.size() + " classes " + classes);
                }
            }
            images.put(s, a);
            labels.put(s, yi);
        }
        return ImageIndex.fromArrays(source, npz, images, labels, classes);
    }
}

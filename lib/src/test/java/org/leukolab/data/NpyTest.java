package org.leukolab.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import java.util.zip.ZipEntry;
import java.util.zip.ZipOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * npy and npz files written byte by byte as numpy writes them (version 1.0 header, padded to 64 bytes), including the
 * broken ones real downloads and real mistakes make: an object (pickled) array, a header claiming terabytes, empty
 * splits. None of them may reach native code with a header it cannot trust.
 */
class NpyTest {
    static final List<String> EIGHT = NpzImagesTest.EIGHT;

    @TempDir
    Path dir;

    /** numpy's .npy bytes: magic, version 1.0, the header dict padded with spaces to a multiple of 64, the data. */
    static byte[] npy(String descr, boolean fortran, long[] shape, byte[] data) {
        String dims = Arrays.stream(shape).mapToObj(Long::toString).collect(Collectors.joining(", "));
        if (shape.length == 1) {
            dims += ",";
        }
        String dict = "{'descr': '" + descr + "', 'fortran_order': " + (fortran ? "True" : "False") + ", 'shape': (" + dims + "), }";
        return withHeader(dict, data);
    }

    static byte[] withHeader(String dict, byte[] data) {
        int total = 10 + dict.length() + 1;
        int pad = (64 - total % 64) % 64;
        String h = dict + " ".repeat(pad) + "\n";
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 1, 0}, 0, 8);
        out.write(h.length() & 0xFF);
        out.write(h.length() >> 8);
        out.writeBytes(h.getBytes(StandardCharsets.ISO_8859_1));
        out.writeBytes(data);
        return out.toByteArray();
    }

    static Path npz(Path file, Map<String, byte[]> arrays) throws Exception {
        try (ZipOutputStream z = new ZipOutputStream(Files.newOutputStream(file))) {
            for (Map.Entry<String, byte[]> e : arrays.entrySet()) {
                z.putNextEntry(new ZipEntry(e.getKey() + ".npy"));
                z.write(e.getValue());
                z.closeEntry();
            }
        }
        return file;
    }

    static byte[] images(int n, int h, int w) {
        byte[] px = new byte[n * h * w * 3];
        for (int i = 0; i < px.length; i++) {
            px[i] = (byte) (i * 7);
        }
        return npy("|u1", false, new long[] {n, h, w, 3}, px);
    }

    static byte[] labels(int... y) {
        ByteBuffer b = ByteBuffer.allocate(8 * y.length).order(ByteOrder.LITTLE_ENDIAN);
        for (int v : y) {
            b.putLong(v);
        }
        return npy("<i8", false, new long[] {y.length, 1}, b.array());
    }

    /** A MedMNIST-shaped npz with 4 training, 2 validation and 2 test images, with some arrays replaced. */
    Path medmnist(String name, Map<String, byte[]> replace) throws Exception {
        Map<String, byte[]> a = new LinkedHashMap<>();
        a.put("train_images", images(4, 3, 3));
        a.put("train_labels", labels(0, 1, 2, 3));
        a.put("val_images", images(2, 3, 3));
        a.put("val_labels", labels(0, 1));
        a.put("test_images", images(2, 3, 3));
        a.put("test_labels", labels(1, 0));
        a.putAll(replace);
        return npz(dir.resolve(name), a);
    }

    @Test
    void aHandWrittenFileReadsLikeNumpysFixture() throws Exception {
        ImageIndex idx = NpzImages.index(medmnist("ok.npz", Map.of()), "x", EIGHT);
        assertEquals(8, idx.size());
        assertEquals(4, idx.split("train").size());
        assertTrue(idx.issues().isEmpty(), idx.issues().all().toString());
        byte[] px = idx.split("train").get(1).array().rgb();
        assertEquals((byte) (27 * 7), px[0], "the second image starts at element 27");
    }

    @Test
    void anObjectArrayOfLabelsIsRefusedWithoutUnpickling() throws Exception {
        // what np.savez(..., train_labels=np.array(labels, dtype=object)) writes: a '|O' header, then a pickle
        byte[] pickle = {(byte) 0x80, 4, (byte) 0x95, 20, 0, 0, 0, 0, 0, 0, 0, (byte) 0x8c, 8, 'b', 'u', 'i', 'l', 't', 'i', 'n', 's', (byte) 0x94, '.'};
        Path f = medmnist("object-labels.npz", Map.of("train_labels", npy("|O", false, new long[] {4, 1}, pickle)));
        DatasetException e = assertThrows(DatasetException.Layout.class, () -> NpzImages.index(f, "x", EIGHT));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("train_labels")
                && e.getMessage().contains("object array") && e.getMessage().contains("dtype=numpy.int64"), e.getMessage());
    }

    @Test
    void aHeaderClaimingTerabytesIsRefusedBeforeAnyAllocation() throws Exception {
        byte[] small = new byte[1800];
        Path f = medmnist("huge.npz", Map.of("train_images", npy("|u1", false, new long[] {10_000_000, 200, 200, 3}, small)));
        DatasetException e = assertThrows(DatasetException.Layout.class, () -> NpzImages.index(f, "x", EIGHT));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("train_images")
                && e.getMessage().contains("1.2 TB") && e.getMessage().contains("larger than the file"), e.getMessage());
        // the same as a lone .npy file
        Path lone = Files.write(dir.resolve("huge.npy"), npy("<f8", false, new long[] {Long.MAX_VALUE / 4, 4}, small));
        DatasetException e2 = assertThrows(DatasetException.Layout.class, () -> Npy.read(lone));
        assertTrue(e2.getMessage().contains(lone.toString()) && e2.getMessage().contains("larger than the file"), e2.getMessage());
    }

    @Test
    void aShapeThatDoesNotMatchTheBytesIsRefused() throws Exception {
        Path f = medmnist("short.npz", Map.of("val_images", npy("|u1", false, new long[] {2, 3, 3, 3}, new byte[40])));
        DatasetException e = assertThrows(DatasetException.Layout.class, () -> NpzImages.index(f, "x", EIGHT));
        assertTrue(e.getMessage().contains("val_images") && e.getMessage().contains("54 bytes")
                && e.getMessage().contains("40 bytes"), e.getMessage());
    }

    @Test
    void structuredStringAndComplexDtypesAreRefused() throws Exception {
        Path structured = Files.write(dir.resolve("s.npy"),
                withHeader("{'descr': [('a', '<i4'), ('b', '<f4')], 'fortran_order': False, 'shape': (2,), }", new byte[16]));
        assertTrue(assertThrows(DatasetException.Layout.class, () -> Npy.read(structured)).getMessage().contains("structured dtype"));
        Path strings = Files.write(dir.resolve("u.npy"), npy("<U5", false, new long[] {2}, new byte[40]));
        assertTrue(assertThrows(DatasetException.Layout.class, () -> Npy.read(strings)).getMessage().contains("unicode strings"));
        Path complex = Files.write(dir.resolve("c.npy"), npy("<c16", false, new long[] {1}, new byte[16]));
        assertTrue(assertThrows(DatasetException.Layout.class, () -> Npy.read(complex)).getMessage().contains("complex"));
        Path garbage = Files.write(dir.resolve("g.npy"), "hello, not numpy".getBytes(StandardCharsets.US_ASCII));
        assertTrue(assertThrows(DatasetException.Layout.class, () -> Npy.read(garbage)).getMessage().contains("magic"));
        Path cut = Files.write(dir.resolve("cut.npy"), Arrays.copyOf(npy("|u1", false, new long[] {3}, new byte[3]), 20));
        assertTrue(assertThrows(DatasetException.Layout.class, () -> Npy.read(cut)).getMessage().contains("truncated"));
    }

    @Test
    void bigEndianFortranOrderAndBooleansReadCorrectly() throws Exception {
        ByteBuffer be = ByteBuffer.allocate(24).order(ByteOrder.BIG_ENDIAN);
        for (int v : new int[] {1, 2, 3, 4, 5, 6}) {
            be.putInt(v);
        }
        // Fortran order: the 2x3 matrix [[1, 2, 3], [4, 5, 6]] is stored column by column: 1 4 2 5 3 6
        ByteBuffer col = ByteBuffer.allocate(24).order(ByteOrder.BIG_ENDIAN);
        for (int v : new int[] {1, 4, 2, 5, 3, 6}) {
            col.putInt(v);
        }
        INDArray a = Npy.read(Files.write(dir.resolve("be.npy"), npy(">i4", false, new long[] {2, 3}, be.array())));
        INDArray f = Npy.read(Files.write(dir.resolve("f.npy"), npy(">i4", true, new long[] {2, 3}, col.array())));
        assertEquals(DataType.INT32, a.dataType());
        assertArrayEquals(new long[] {2, 3}, a.shape());
        assertEquals(a, f);
        assertEquals(6, a.getInt(1, 2));
        INDArray b = Npy.read(Files.write(dir.resolve("b.npy"), npy("|b1", false, new long[] {3}, new byte[] {1, 0, 1})));
        assertEquals(DataType.BOOL, b.dataType());
        assertEquals(List.of(true, false, true), List.of(b.getDouble(0) != 0, b.getDouble(1) != 0, b.getDouble(2) != 0), b.toString());
    }

    @Test
    void anEmptyTrainingSplitIsRefusedAndAnEmptyTestSplitReported() throws Exception {
        Path noTrain = medmnist("no-train.npz", Map.of("train_images", images(0, 3, 3), "train_labels", labels()));
        DatasetException e = assertThrows(DatasetException.Layout.class, () -> NpzImages.index(noTrain, "x", EIGHT));
        assertTrue(e.getMessage().contains(noTrain.toString()) && e.getMessage().contains("train_images holds no images")
                && e.getMessage().contains("nothing to train on"), e.getMessage());

        ImageIndex idx = NpzImages.index(medmnist("no-test.npz", Map.of("test_images", images(0, 3, 3), "test_labels", labels())),
                "x", EIGHT);
        assertEquals(6, idx.size());
        List<DataIssue> empty = idx.issues().of(DataIssue.Kind.EMPTY_SPLIT);
        assertEquals(1, empty.size(), idx.issues().all().toString());
        assertTrue(empty.get(0).detail().contains("test split holds no images"), empty.get(0).detail());
        assertFalse(idx.toString().contains("no problems found"), idx.toString());
    }

    @Test
    void textLabelsAreRefusedWithTheFix() throws Exception {
        Path f = medmnist("text.npz", Map.of("val_labels", npy("<U3", false, new long[] {2, 1}, new byte[24])));
        DatasetException e = assertThrows(DatasetException.Layout.class, () -> NpzImages.index(f, "x", EIGHT));
        assertTrue(e.getMessage().contains("val_labels") && e.getMessage().contains("unicode strings"), e.getMessage());
    }
}

package org.leukolab.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Against npz files written by numpy (data-scripts/test-fixtures/make_fixtures.py). */
class NpzImagesTest {
    static final List<String> EIGHT = List.of("basophil", "eosinophil", "erythroblast", "ig", "lymphocyte", "monocyte",
            "neutrophil", "platelet");

    @TempDir
    Path dir;

    static Path fixture(Path dir, String name) throws Exception {
        Path p = dir.resolve(name);
        try (var in = NpzImagesTest.class.getResourceAsStream(name)) {
            Files.copy(in, p);
        }
        return p;
    }

    /** numpy's pixel (i, y, x, c) = (base + 7 i + 3 y + x + 50 c) mod 256. */
    private static int expected(String split, int i, int y, int x, int c) {
        int base = switch (split) {
            case "train" -> 0;
            case "val" -> 100;
            default -> 200;
        };
        return (base + 7 * i + 3 * y + x + 50 * c) % 256;
    }

    @Test
    void readsTheOfficialSplitsLabelsAndPixels() throws Exception {
        Path npz = fixture(dir, "tiny-medmnist.npz");
        ImageIndex idx = NpzImages.index(npz, "bloodmnist", EIGHT);
        assertEquals(List.of("test", "train", "val"), idx.splits());
        assertEquals(12, idx.split("train").size());
        assertEquals(4, idx.split("val").size());
        assertEquals(6, idx.split("test").size());
        ImageRecord r = idx.split("val").records().stream().filter(x -> x.fileName().equals("000003")).findFirst().orElseThrow();
        assertEquals(EIGHT.get(3), r.label(), "labels[3] = 3 % 8");
        assertTrue(r.inArray());
        assertEquals(npz, r.backingFile());
        byte[] px = r.array().rgb();
        assertEquals(6 * 5 * 3, px.length);
        for (int y = 0; y < 6; y++) {
            for (int x = 0; x < 5; x++) {
                for (int c = 0; c < 3; c++) {
                    assertEquals(expected("val", 3, y, x, c), px[(y * 5 + x) * 3 + c] & 0xFF);
                }
            }
        }
    }

    @Test
    void loadsLikeAFolderDataset() throws Exception {
        ImageIndex idx = NpzImages.index(fixture(dir, "tiny-medmnist.npz"), "bloodmnist", EIGHT);
        LoadedImages train = ImageLoader.builder().size(6, 5).noCache().progress(false).build().load(idx.split("train"));
        assertEquals(12, train.size());
        int i = train.index().records().stream().map(ImageRecord::fileName).toList().indexOf("000007");
        byte[] p = train.pixels(i);
        assertEquals(expected("train", 7, 2, 4, 1), p[(2 * 5 + 4) * 3 + 1] & 0xFF);
        LoadedImages up = ImageLoader.builder().size(24).noCache().progress(false).build().load(idx.split("test"));
        assertEquals(24, up.height(), "resized like any image");
    }

    @Test
    void grayscaleArraysBecomeRgb() throws Exception {
        ImageIndex idx = NpzImages.index(fixture(dir, "tiny-gray.npz"), "gray", EIGHT);
        byte[] px = idx.split("train").get(0).array().rgb();
        assertEquals(px[0], px[1]);
        assertEquals(px[0], px[2]);
    }

    @Test
    void aFileWithoutMedMnistsArraysNamesWhatItHolds() throws Exception {
        Path npz = fixture(dir, "not-medmnist.npz");
        DatasetException e = assertThrows(DatasetException.Layout.class, () -> NpzImages.index(npz, "x", EIGHT));
        assertTrue(e.getMessage().contains(npz.toString()) && e.getMessage().contains("[x, y]")
                && e.getMessage().contains("train_images"), e.getMessage());
    }

    @Test
    void aTruncatedFileIsAClearError() throws Exception {
        Path whole = fixture(dir, "tiny-medmnist.npz");
        byte[] b = Files.readAllBytes(whole);
        Path cut = dir.resolve("cut.npz");
        Files.write(cut, java.util.Arrays.copyOf(b, b.length / 2));
        DatasetException e = assertThrows(DatasetException.class, () -> NpzImages.index(cut, "x", EIGHT));
        assertTrue(e.getMessage().contains(cut.toString()) && e.getMessage().contains("fetch it again"), e.getMessage());
        Path missing = dir.resolve("nothing.npz");
        assertThrows(DatasetException.Missing.class, () -> NpzImages.read(missing));
    }

    @Test
    void labelsOutsideTheClassesAreRefused() throws Exception {
        Path npz = fixture(dir, "tiny-medmnist.npz");
        DatasetException e = assertThrows(DatasetException.Layout.class, () -> NpzImages.index(npz, "x", EIGHT.subList(0, 4)));
        assertTrue(e.getMessage().contains("outside the 4 classes"), e.getMessage());
    }

    @Test
    void arraysMadeInMemoryIndexTheSameWay() {
        var px = org.nd4j.linalg.factory.Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.UBYTE, 3, 4, 4, 3);
        ImageIndex idx = ImageIndex.fromArrays("mem", Path.of("/tmp/mem.npz"),
                java.util.Map.of("train", new ArrayImages(Path.of("/tmp/mem.npz"), "x", px)), java.util.Map.of("train", new int[] {0, 1, 1}),
                List.of("a", "b"));
        assertEquals(3, idx.size());
        assertArrayEquals(new int[] {0, 1, 1}, idx.labels());
    }
}

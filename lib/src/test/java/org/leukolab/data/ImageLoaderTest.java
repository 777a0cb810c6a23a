package org.leukolab.data;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.nd4j.linalg.api.ndarray.INDArray;

class ImageLoaderTest {
    @TempDir
    Path dir;

    private ImageLoader loader(int size) {
        return ImageLoader.builder().size(size).cacheDir(dir.resolve("cache")).progress(false).threads(2).build();
    }

    @Test
    void decodesResizesAndKeepsRgbOrder() throws IOException {
        Path root = dir.resolve("ds");
        TestImages.solid(root.resolve("red/a.png"), 30, 20, new Color(250, 10, 20), "png");
        TestImages.solid(root.resolve("blue/b.png"), 50, 50, new Color(5, 15, 240), "png");
        LoadedImages imgs = loader(8).load(ImageIndex.scan(root, "colours"));
        assertEquals(2, imgs.size());
        INDArray x = imgs.features();
        assertArrayEquals(new long[] {2, 3, 8, 8}, x.shape());
        // blue sorts before red: image 0 is blue
        assertEquals(5f, x.getFloat(0, 0, 3, 3), 0.5f);
        assertEquals(15f, x.getFloat(0, 1, 3, 3), 0.5f);
        assertEquals(240f, x.getFloat(0, 2, 3, 3), 0.5f);
        assertEquals(250f, x.getFloat(1, 0, 7, 7), 0.5f);
        INDArray nhwc = imgs.features(CNN2DFormat.NHWC);
        assertArrayEquals(new long[] {2, 8, 8, 3}, nhwc.shape());
        assertEquals(240f, nhwc.getFloat(0, 3, 3, 2), 0.5f);
        assertArrayEquals(new int[] {0, 1}, imgs.labels());
        assertEquals(1f, imgs.labelsOneHot().getFloat(1, 1));
        assertEquals((250 << 16 | 10 << 8 | 20), imgs.image(1).getRGB(2, 2) & 0xFFFFFF);
    }

    @Test
    void convertsGrayAlphaAndSixteenBitToEightBitRgbAndSaysSo() throws IOException {
        Path root = dir.resolve("odd");
        TestImages.grayPng(root.resolve("c/gray.png"), 77);
        TestImages.rgbaPng(root.resolve("c/rgba.png"), new Color(10, 200, 30), 100);
        TestImages.png16(root.resolve("c/deep.png"), 65535, 32896, 0);
        LoadedImages imgs = loader(4).load(ImageIndex.scan(root, "odd"));
        assertEquals(3, imgs.size());
        List<String> files = imgs.index().records().stream().map(ImageRecord::fileName).toList();
        assertEquals(List.of("deep.png", "gray.png", "rgba.png"), files);
        INDArray x = imgs.features();
        assertEquals(255f, x.getFloat(0, 0, 1, 1), 0.5f); // 65535 / 257
        assertEquals(128f, x.getFloat(0, 1, 1, 1), 0.5f); // 32896 / 257
        assertEquals(0f, x.getFloat(0, 2, 1, 1), 0.5f);
        for (int c = 0; c < 3; c++) {
            assertEquals(77f, x.getFloat(1, c, 1, 1), 0.5f);
        }
        assertEquals(10f, x.getFloat(2, 0, 1, 1), 0.5f);
        assertEquals(200f, x.getFloat(2, 1, 1, 1), 0.5f);
        List<DataIssue> converted = imgs.issues().of(DataIssue.Kind.CONVERTED);
        assertEquals(3, converted.size());
        String all = converted.toString();
        assertTrue(all.contains("16-bit scaled to 8-bit"), all);
        assertTrue(all.contains("grayscale copied"), all);
        assertTrue(all.contains("alpha channel dropped"), all);
    }

    @Test
    void aJpegDecodedWithAWarningIsKeptAndFlagged() throws IOException {
        Path root = dir.resolve("warn");
        TestImages.jpeg(root.resolve("A/good.jpg"));
        Path cut = TestImages.prematureEndJpeg(root.resolve("A/cut.jpg"));
        assertTrue(JpegWarnings.of(Files.readAllBytes(root.resolve("A/good.jpg"))).isEmpty(), "a clean JPEG has no warning");
        List<String> w = JpegWarnings.of(Files.readAllBytes(cut));
        assertTrue(w.stream().anyMatch(s -> s.contains("premature end of data segment")), w.toString());
        LoadedImages imgs = loader(8).load(ImageIndex.scan(root, "warn"));
        assertEquals(2, imgs.size(), "the file is loaded");
        List<DataIssue> flagged = imgs.issues().of(DataIssue.Kind.DECODE_WARNING);
        assertEquals(1, flagged.size());
        assertEquals(cut, flagged.get(0).file());
        assertEquals("loaded, flagged", flagged.get(0).action());
        assertTrue(flagged.get(0).detail().contains("premature end of data segment"), flagged.get(0).detail());
    }

    @Test
    void undecodableFileIsSkippedAndCountedNotThrown() throws IOException {
        Path root = dir.resolve("ds");
        TestImages.jpeg(root.resolve("A/good.jpg"));
        Path bad = TestImages.garbageJpeg(root.resolve("A/bad.jpg"));
        ImageIndex idx = ImageIndex.scan(root, "ds");
        assertEquals(2, idx.size()); // passes the byte-level checks
        LoadedImages imgs = loader(8).load(idx);
        assertEquals(1, imgs.size());
        assertEquals("good.jpg", imgs.index().get(0).fileName());
        List<DataIssue> failed = imgs.issues().of(DataIssue.Kind.DECODE_FAILED);
        assertEquals(1, failed.size());
        assertEquals(bad, failed.get(0).file());
        assertEquals(1, imgs.issues().count("skipped"));
    }

    @Test
    void secondLoadComesFromTheCacheWithTheSamePixelsAndIssues() throws IOException {
        Path root = dir.resolve("ds");
        TestImages.jpeg(root.resolve("A/a.jpg"));
        TestImages.solid(root.resolve("B/b.jpg"), 64, 48, Color.MAGENTA, "jpg");
        TestImages.garbageJpeg(root.resolve("B/c.jpg"));
        ImageIndex idx = ImageIndex.scan(root, "ds");
        LoadedImages first = loader(16).load(idx);
        LoadedImages second = loader(16).load(idx);
        assertFalse(first.fromCache());
        assertTrue(second.fromCache());
        assertEquals(first.size(), second.size());
        for (int i = 0; i < first.size(); i++) {
            assertArrayEquals(first.pixels(i), second.pixels(i));
        }
        assertEquals(first.index().records(), second.index().records());
        assertEquals(first.issues().counts(), second.issues().counts());
    }

    @Test
    void changedSettingsOrFilesMissTheCache() throws IOException {
        Path root = dir.resolve("ds");
        Path a = TestImages.jpeg(root.resolve("A/a.jpg"));
        ImageIndex idx = ImageIndex.scan(root, "ds");
        loader(16).load(idx);
        assertFalse(loader(20).load(idx).fromCache(), "other size must not hit the cache");
        TestImages.solid(a, 40, 30, Color.CYAN, "jpg");
        Files.setLastModifiedTime(a, java.nio.file.attribute.FileTime.fromMillis(System.currentTimeMillis() + 5000));
        assertFalse(loader(16).load(ImageIndex.scan(root, "ds")).fromCache(), "changed file must not hit the cache");
    }

    @Test
    void damagedCacheFileIsRebuiltNotTrusted() throws IOException {
        Path root = dir.resolve("ds");
        TestImages.jpeg(root.resolve("A/a.jpg"));
        ImageIndex idx = ImageIndex.scan(root, "ds");
        LoadedImages first = loader(16).load(idx);
        Path cacheFile;
        try (Stream<Path> s = Files.list(dir.resolve("cache"))) {
            cacheFile = s.filter(p -> p.toString().endsWith(".img")).findFirst().orElseThrow();
        }
        byte[] b = Files.readAllBytes(cacheFile);
        Files.write(cacheFile, java.util.Arrays.copyOf(b, b.length - 100)); // as if a run died mid-write
        LoadedImages again = loader(16).load(idx);
        assertFalse(again.fromCache());
        assertArrayEquals(first.pixels(0), again.pixels(0));
        assertTrue(loader(16).load(idx).fromCache(), "rebuilt cache is used next time");
    }

    @Test
    void noTemporaryFilesAreLeftInTheCache() throws IOException {
        Path root = dir.resolve("ds");
        TestImages.jpeg(root.resolve("A/a.jpg"));
        loader(16).load(ImageIndex.scan(root, "ds"));
        try (Stream<Path> s = Files.list(dir.resolve("cache"))) {
            assertEquals(List.of(), s.filter(p -> p.toString().endsWith(".tmp")).toList());
        }
    }

    @Test
    void subsetKeepsLabelsAndPixelsTogether() throws IOException {
        Path root = dir.resolve("ds");
        TestImages.solid(root.resolve("A/a.png"), 8, 8, Color.RED, "png");
        TestImages.solid(root.resolve("B/b.png"), 8, 8, Color.GREEN, "png");
        LoadedImages imgs = loader(8).load(ImageIndex.scan(root, "ds"));
        LoadedImages sub = imgs.subset(1);
        assertEquals(1, sub.size());
        assertArrayEquals(new int[] {1}, sub.labels());
        assertArrayEquals(imgs.pixels(1), sub.pixels(0));
    }

    private Path mixedSet() throws IOException {
        Path root = dir.resolve("ds");
        TestImages.jpeg(root.resolve("A/a.jpg"));
        TestImages.solid(root.resolve("A/b.png"), 40, 30, new Color(12, 200, 90), "png");
        TestImages.garbageJpeg(root.resolve("B/bad.jpg"));
        TestImages.solid(root.resolve("B/c.jpg"), 64, 48, Color.MAGENTA, "jpg");
        TestImages.grayPng(root.resolve("B/d.png"), 77);
        return root;
    }

    @Test
    void imagesKeptOnDiskReadTheSameAsInMemory() throws IOException {
        ImageIndex idx = ImageIndex.scan(mixedSet(), "ds");
        LoadedImages mem = ImageLoader.builder().size(16).cacheDir(dir.resolve("c1")).progress(false)
                .storage(ImageLoader.Storage.MEMORY).build().load(idx);
        LoadedImages disk = ImageLoader.builder().size(16).cacheDir(dir.resolve("c2")).progress(false)
                .storage(ImageLoader.Storage.DISK).build().load(idx);
        assertFalse(mem.onDisk());
        assertTrue(disk.onDisk());
        assertEquals(4, disk.size());
        assertEquals(mem.index().records(), disk.index().records());
        for (int i = 0; i < mem.size(); i++) {
            assertArrayEquals(mem.pixels(i), disk.pixels(i));
        }
        assertEquals(mem.features(), disk.features());
        assertEquals(mem.issues().counts(), disk.issues().counts());
        LoadedImages sub = disk.subset(3, 1);
        assertTrue(sub.onDisk());
        assertArrayEquals(mem.pixels(3), sub.pixels(0));
        assertArrayEquals(mem.pixels(1), sub.pixels(1));
        assertEquals(mem.subset(3, 1).features(CNN2DFormat.NHWC), sub.features(CNN2DFormat.NHWC));
        // the second on-disk load opens the cache file without reading it into memory
        LoadedImages again = ImageLoader.builder().size(16).cacheDir(dir.resolve("c2")).progress(false)
                .storage(ImageLoader.Storage.DISK).build().load(idx);
        assertTrue(again.fromCache() && again.onDisk());
        assertArrayEquals(mem.pixels(2), again.pixels(2));
        // and an in-memory load can read the on-disk set's cache
        LoadedImages fromDiskCache = ImageLoader.builder().size(16).cacheDir(dir.resolve("c2")).progress(false)
                .storage(ImageLoader.Storage.MEMORY).build().load(idx);
        assertTrue(fromDiskCache.fromCache() && !fromDiskCache.onDisk());
        assertArrayEquals(mem.pixels(0), fromDiskCache.pixels(0));
    }

    @Test
    void onDiskWithoutACacheFolderUsesAPrivateTemporaryFile() throws IOException {
        ImageIndex idx = ImageIndex.scan(mixedSet(), "ds");
        LoadedImages disk = ImageLoader.builder().size(8).noCache().progress(false).storage(ImageLoader.Storage.DISK)
                .build().load(idx);
        LoadedImages mem = ImageLoader.builder().size(8).noCache().progress(false).storage(ImageLoader.Storage.MEMORY)
                .build().load(idx);
        assertTrue(disk.onDisk());
        assertEquals(mem.features(), disk.features());
    }

    @Test
    void autoStorageFollowsTheMemoryBudget() {
        ImageLoader l = ImageLoader.builder().size(350).noCache().build();
        long budget = ImageLoader.memoryBudget();
        int fits = (int) (budget / (350L * 350 * 3));
        assertFalse(l.keepOnDisk(fits));
        assertTrue(l.keepOnDisk(fits + 1));
        assertEquals(6L << 30, ImageLoader.parseBytes("6g"));
        assertEquals(800L << 20, ImageLoader.parseBytes("800M"));
        assertEquals(1500, ImageLoader.parseBytes("1500"));
        org.junit.jupiter.api.Assertions.assertThrows(IllegalArgumentException.class, () -> ImageLoader.parseBytes("lots"));
    }

    @Test
    void aCacheFileOfAnOlderFormatIsRebuilt() throws IOException {
        ImageIndex idx = ImageIndex.scan(mixedSet(), "ds");
        loader(16).load(idx);
        Path cacheFile;
        try (Stream<Path> s = Files.list(dir.resolve("cache"))) {
            cacheFile = s.filter(p -> p.toString().endsWith(".img")).findFirst().orElseThrow();
        }
        byte[] b = Files.readAllBytes(cacheFile);
        System.arraycopy("LKIMGv1\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII), 0, b, 0, 8);
        Files.write(cacheFile, b);
        assertFalse(loader(16).load(idx).fromCache());
        assertTrue(loader(16).load(idx).fromCache());
    }
}

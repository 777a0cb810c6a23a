package org.leukolab.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import tech.tablesaw.api.Table;

class ImageIndexTest {
    @TempDir
    Path dir;

    private Path splitDataset() throws IOException {
        Path root = dir.resolve("ds");
        for (String split : List.of("TRAIN", "TEST")) {
            for (String label : List.of("A", "B")) {
                for (int i = 0; i < 3; i++) {
                    TestImages.jpeg(root.resolve(split).resolve(label).resolve("img" + i + ".jpg"));
                }
            }
        }
        return root;
    }

    @Test
    void indexesSplitClassLayoutAsTable() throws IOException {
        ImageIndex idx = ImageIndex.scan(splitDataset(), "toy", List.of("TRAIN", "TEST"));
        assertEquals(12, idx.size());
        assertEquals(List.of("A", "B"), idx.classes());
        assertEquals(List.of("TEST", "TRAIN"), idx.splits());
        assertTrue(idx.issues().isEmpty());
        Table t = idx.table();
        assertEquals(List.of("path", "label", "split", "source", "format", "width", "height", "channels", "bytes"),
                t.columnNames());
        assertEquals("toy", t.stringColumn("source").get(0));
        assertEquals(40, t.intColumn("width").get(0));
        assertEquals(30, t.intColumn("height").get(0));
        Table counts = idx.classCounts();
        assertEquals(List.of("label", "TEST", "TRAIN", "total"), counts.columnNames());
        assertEquals(6, counts.intColumn("total").get(0));
        assertEquals(6, idx.split("TRAIN").size());
    }

    @Test
    void indexesClassLayoutWithoutSplits() throws IOException {
        Path root = dir.resolve("flat");
        TestImages.jpeg(root.resolve("x/a.jpg"));
        TestImages.jpeg(root.resolve("y/b.jpeg"));
        ImageIndex idx = ImageIndex.scan(root, "flat");
        assertEquals(List.of(ImageRecord.NO_SPLIT), idx.splits());
        assertEquals(List.of("x", "y"), idx.classes());
    }

    @Test
    void skipsAndReportsNonImageWithImageExtension() throws IOException {
        Path root = splitDataset();
        Path bogus = TestImages.dsStoreNamedJpg(root.resolve("TRAIN/A/.DS_169665.jpg"));
        ImageIndex idx = ImageIndex.scan(root, "toy");
        assertEquals(12, idx.size());
        List<DataIssue> bad = idx.issues().of(DataIssue.Kind.NOT_AN_IMAGE);
        assertEquals(1, bad.size());
        assertEquals(bogus, bad.get(0).file());
        assertEquals("skipped", bad.get(0).action());
        assertTrue(bad.get(0).detail().contains("Bud1"), bad.get(0).detail());
        assertTrue(idx.issues().summary(5).contains(".DS_169665.jpg"));
    }

    @Test
    void skipsTruncatedAndEmptyFiles() throws IOException {
        Path root = splitDataset();
        TestImages.truncatedJpeg(root.resolve("TEST/B/cut.jpg"));
        Files.write(root.resolve("TEST/B/zero.png"), new byte[0]);
        ImageIndex idx = ImageIndex.scan(root, "toy");
        assertEquals(12, idx.size());
        assertEquals(1, idx.issues().of(DataIssue.Kind.TRUNCATED).size());
        assertEquals(1, idx.issues().of(DataIssue.Kind.EMPTY_FILE).size());
        assertTrue(idx.issues().of(DataIssue.Kind.TRUNCATED).get(0).detail().contains("end-of-image"));
    }

    @Test
    void reportsOtherFilesInClassFoldersInsteadOfDroppingThemSilently() throws IOException {
        Path root = splitDataset();
        TestImages.text(root.resolve("TRAIN/A/notes.txt"), "hello");
        ImageIndex idx = ImageIndex.scan(root, "toy");
        List<DataIssue> other = idx.issues().of(DataIssue.Kind.NOT_IMAGE_FILE);
        assertEquals(1, other.size());
        assertEquals("ignored", other.get(0).action());
    }

    @Test
    void reportsEmptyClassFolder() throws IOException {
        Path root = splitDataset();
        Files.createDirectories(root.resolve("TRAIN/C"));
        ImageIndex idx = ImageIndex.scan(root, "toy");
        assertEquals(List.of("A", "B"), idx.classes());
        List<DataIssue> empty = idx.issues().of(DataIssue.Kind.EMPTY_CLASS_FOLDER);
        assertEquals(1, empty.size());
        assertTrue(empty.get(0).detail().contains("'C'"));
    }

    @Test
    void classFolderHoldingOnlyBadFilesCountsAsEmpty() throws IOException {
        Path root = splitDataset();
        TestImages.dsStoreNamedJpg(root.resolve("TEST/C/x.jpg"));
        ImageIndex idx = ImageIndex.scan(root, "toy");
        assertFalse(idx.classes().contains("C"));
        assertEquals(1, idx.issues().of(DataIssue.Kind.EMPTY_CLASS_FOLDER).size());
        assertEquals(1, idx.issues().of(DataIssue.Kind.NOT_AN_IMAGE).size());
    }

    @Test
    void unknownLayoutStopsWithAMessageNamingTheFolder() throws IOException {
        Path root = dir.resolve("odd");
        TestImages.jpeg(root.resolve("loose.jpg"));
        TestImages.jpeg(root.resolve("A/a.jpg"));
        DatasetException.Layout e = assertThrows(DatasetException.Layout.class, () -> ImageIndex.scan(root, "odd"));
        assertTrue(e.getMessage().contains(root.toString()), e.getMessage());
        assertTrue(e.getMessage().contains("loose.jpg"), e.getMessage());
        assertTrue(e.getMessage().contains("<root>/<class>/<images>"), e.getMessage());
    }

    @Test
    void aStraySubFolderInAClassFolderIsIgnoredAndReported() throws IOException {
        Path root = dir.resolve("flat");
        for (int i = 0; i < 3; i++) {
            TestImages.jpeg(root.resolve("A/a" + i + ".jpg"));
            TestImages.jpeg(root.resolve("B/b" + i + ".jpg"));
        }
        TestImages.jpeg(root.resolve("A/thumbnails/t.jpg"));
        ImageIndex idx = ImageIndex.scan(root, "flat");
        assertEquals(List.of("A", "B"), idx.classes());
        assertEquals(6, idx.size(), "the stray folder's image is not indexed");
        List<DataIssue> stray = idx.issues().of(DataIssue.Kind.NOT_IMAGE_FILE);
        assertEquals(1, stray.size());
        assertTrue(stray.get(0).file().endsWith("A/thumbnails") && stray.get(0).detail().contains("folder inside a class folder"));
    }

    @Test
    void aFolderWithAsManyClassFoldersAsImagesReadsAsASplitWithAStrayFile() throws IOException {
        Path root = dir.resolve("mixed");
        TestImages.jpeg(root.resolve("TRAIN/loose.jpg"));
        TestImages.jpeg(root.resolve("TRAIN/A/a.jpg"));
        ImageIndex idx = ImageIndex.scan(root, "mixed");
        assertEquals(List.of("TRAIN"), idx.splits());
        assertEquals(1, idx.size());
        assertTrue(idx.issues().of(DataIssue.Kind.NOT_IMAGE_FILE).get(0).detail().contains("directly in a split folder"));
    }

    @Test
    void macOsMetadataFoldersAreIgnoredAndReportedAtEveryLevel() throws IOException {
        Path root = splitDataset();
        // what a zip made on macOS carries: AppleDouble files under __MACOSX, mirroring the tree
        TestImages.dsStoreNamedJpg(root.resolve("__MACOSX/TRAIN/A/._img0.jpg"));
        TestImages.dsStoreNamedJpg(root.resolve("TRAIN/__MACOSX/A/._img1.jpg"));
        TestImages.dsStoreNamedJpg(root.resolve("TRAIN/A/__MACOSX/._img2.jpg"));
        ImageIndex idx = ImageIndex.scan(root, "toy");
        assertEquals(List.of("A", "B"), idx.classes());
        assertEquals(List.of("TEST", "TRAIN"), idx.splits().stream().sorted().toList());
        assertEquals(12, idx.size());
        List<DataIssue> os = idx.issues().of(DataIssue.Kind.OS_METADATA);
        assertEquals(3, os.size(), os.toString());
        assertTrue(os.stream().allMatch(i -> i.action().equals("ignored") && i.file().getFileName().toString().equals("__MACOSX")));
    }

    @Test
    void missingExpectedSplitStopsTheScan() throws IOException {
        Path root = dir.resolve("half");
        TestImages.jpeg(root.resolve("TRAIN/A/a.jpg"));
        DatasetException.Layout e = assertThrows(DatasetException.Layout.class,
                () -> ImageIndex.scan(root, "half", List.of("TRAIN", "TEST")));
        assertTrue(e.getMessage().contains("[TEST]"), e.getMessage());
    }

    @Test
    void askingForAnAbsentSplitNamesTheSplitsThereAre() throws IOException {
        ImageIndex idx = ImageIndex.scan(splitDataset(), "toy");
        DatasetException.NoSuchSplit e = assertThrows(DatasetException.NoSuchSplit.class, () -> idx.split("VAL"));
        assertTrue(e.getMessage().contains("[TEST, TRAIN]"), e.getMessage());
    }

    @Test
    void missingFolderIsAClearMissingError() {
        DatasetException.Missing e = assertThrows(DatasetException.Missing.class,
                () -> ImageIndex.scan(dir.resolve("nope"), "nope"));
        assertTrue(e.getMessage().contains("does not exist"));
    }

    @Test
    void folderWithoutAnyUsableImageStops() throws IOException {
        Path root = dir.resolve("bad");
        TestImages.dsStoreNamedJpg(root.resolve("A/x.jpg"));
        DatasetException.Layout e = assertThrows(DatasetException.Layout.class, () -> ImageIndex.scan(root, "bad"));
        assertTrue(e.getMessage().contains("no usable image"), e.getMessage());
    }

    // ---------------------------------------------------------------------------------- splits

    private ImageIndex many() throws IOException {
        Path root = dir.resolve("many");
        byte[] jpg = Files.readAllBytes(TestImages.jpeg(dir.resolve("one.jpg")));
        for (String label : List.of("A", "B", "C")) {
            int n = label.equals("C") ? 10 : 40;
            Files.createDirectories(root.resolve(label));
            for (int i = 0; i < n; i++) {
                Files.write(root.resolve(label).resolve(String.format("%03d.jpg", i)), jpg);
            }
        }
        return ImageIndex.scan(root, "many");
    }

    @Test
    void randomSplitIsReproducibleDisjointAndComplete() throws IOException {
        ImageIndex idx = many();
        ImageIndex.Split a = idx.randomSplit(0.8, 42);
        ImageIndex.Split b = idx.randomSplit(0.8, 42);
        ImageIndex.Split c = idx.randomSplit(0.8, 7);
        assertEquals(a.train().records(), b.train().records());
        assertNotEquals(a.train().records(), c.train().records());
        assertEquals(72, a.train().size());
        assertEquals(18, a.validation().size());
        Set<Path> seen = new HashSet<>();
        a.train().records().forEach(r -> seen.add(r.path()));
        a.validation().records().forEach(r -> assertTrue(seen.add(r.path()), "in both parts: " + r.path()));
        assertEquals(90, seen.size());
        assertEquals(idx.classes(), a.validation().classes());
    }

    @Test
    void groupedSplitKeepsEveryGroupOnOneSide() throws IOException {
        ImageIndex idx = many();
        int[] groups = new int[idx.size()];
        for (int i = 0; i < groups.length; i++) {
            groups[i] = i / 5; // groups of five consecutive images
        }
        ImageIndex.Split s = idx.groupedSplit(groups, 0.8, 3);
        Set<Integer> trainGroups = new HashSet<>();
        java.util.Map<Path, Integer> pos = new java.util.HashMap<>();
        for (int i = 0; i < idx.size(); i++) {
            pos.put(idx.get(i).path(), i);
        }
        s.train().records().forEach(r -> trainGroups.add(groups[pos.get(r.path())]));
        s.validation().records().forEach(r -> assertFalse(trainGroups.contains(groups[pos.get(r.path())]),
                "a group on both sides"));
        assertEquals(idx.size(), s.train().size() + s.validation().size());
        assertTrue(Math.abs(s.train().size() - 72) <= 5, "about 80% in train: " + s.train().size());
        assertEquals(s.train().records(), idx.groupedSplit(groups, 0.8, 3).train().records());
    }

    @Test
    void randomSplitCountsLikeScikitLearn() {
        assertEquals(1992, ImageIndex.validationCount(0.8, 9957)); // report 002: 7,965 / 1,992
        assertEquals(20, ImageIndex.validationCount(0.8, 100));
        assertEquals(1, ImageIndex.validationCount(0.9, 5));
    }

    @Test
    void stratifiedSplitKeepsClassProportions() throws IOException {
        ImageIndex.Split s = many().stratifiedSplit(0.75, 1);
        Table counts = s.validation().classCounts();
        // train gets round(0.75 * n) of each class: 30 of 40, 30 of 40, round(7.5) = 8 of 10
        assertEquals(List.of(10, 10, 2), counts.intColumn(1).asList());
    }

    @Test
    void stratifiedSampleTakesAtMostNPerClass() throws IOException {
        ImageIndex s = many().stratifiedSample(12, 3);
        assertEquals(List.of(12, 12, 10), s.classCounts().intColumn(1).asList());
        assertEquals(s.records(), many().stratifiedSample(12, 3).records());
    }

    @Test
    void labelsFollowTheClassListOfTheWholeIndex() throws IOException {
        ImageIndex idx = many();
        ImageIndex onlyC = idx.filter("C only", r -> r.label().equals("C"));
        assertEquals(List.of("A", "B", "C"), onlyC.classes());
        for (int y : onlyC.labels()) {
            assertEquals(2, y);
        }
    }

    @Test
    void rejectsSillyFractions() throws IOException {
        ImageIndex idx = many();
        assertThrows(IllegalArgumentException.class, () -> idx.randomSplit(1.0, 1));
        assertThrows(IllegalArgumentException.class, () -> idx.stratifiedSplit(0, 1));
        assertThrows(IllegalArgumentException.class, () -> idx.stratifiedSample(0, 1));
    }

    /**
     * The documented choice for class folders equal ignoring case: kept as the classes their names say, with a warning
     * naming both and the call that merges them; the merge keeps the spelling with more images.
     */
    @Test
    void classFoldersDifferingOnlyInCaseAreFlaggedAndCanBeMerged() throws IOException {
        Path root = dir.resolve("cased");
        for (int i = 0; i < 3; i++) {
            TestImages.jpeg(root.resolve("Good/g" + i + ".jpg"));
        }
        TestImages.jpeg(root.resolve("good/late.jpg"));
        TestImages.jpeg(root.resolve("bad/b.jpg"));
        ImageIndex idx = ImageIndex.scan(root, "cased");
        assertEquals(List.of("Good", "bad", "good"), idx.classes(), "kept as the folders name them");
        List<DataIssue> w = idx.issues().of(DataIssue.Kind.CLASS_NAMES_DIFFER_IN_CASE);
        assertEquals(1, w.size(), idx.issues().all().toString());
        assertTrue(w.get(0).detail().contains("'Good' (3 images) and 'good' (1 image)")
                && w.get(0).detail().contains("mergeClassesIgnoringCase()"), w.get(0).detail());
        assertFalse(idx.toString().contains("no problems found"), idx.toString());

        ImageIndex merged = idx.mergeClassesIgnoringCase();
        assertEquals(List.of("Good", "bad"), merged.classes());
        assertEquals(4, merged.records().stream().filter(r -> r.label().equals("Good")).count());
        assertTrue(merged.issues().all().stream().allMatch(x -> x.action().equals("merged")), merged.issues().all().toString());
        ImageIndex plain = ImageIndex.scan(splitDataset(), "toy");
        assertTrue(plain.mergeClassesIgnoringCase() == plain, "nothing to merge: the same index");
    }
}

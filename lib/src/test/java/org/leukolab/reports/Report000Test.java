package org.leukolab.reports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.leukolab.balancing.Augmenter;
import org.leukolab.balancing.ClassBalancer;
import org.leukolab.data.ImageIndex;
import org.leukolab.data.ImageRecord;
import tech.tablesaw.api.Table;

class Report000Test {
    @TempDir
    Path dir;

    @Test
    void quickProfileImitatesTheFullImbalance() {
        assertEquals(Map.of("Basophil", 6, "Eosinophil", 6, "Lymphocyte", 12, "Monocyte", 6, "Neutrophil", 30),
                Report000.quickTrainCounts());
        assertEquals(10_175, Report000.FULL_TRAIN_COUNTS.values().stream().mapToInt(Integer::intValue).sum());
    }

    /** A: 12 originals, B: 4 (copies of the fixture cells under different names). */
    private ImageIndex toy() throws IOException {
        byte[][] pics = new byte[4][];
        String[] names = {"input-0.png", "input-1.png", "draw-0-0-raw.png", "draw-1-3-raw.png"};
        for (int i = 0; i < 4; i++) {
            try (InputStream in = getClass().getResourceAsStream("/org/leukolab/balancing/" + names[i])) {
                pics[i] = in.readAllBytes();
            }
        }
        Path root = dir.resolve("Train");
        for (int i = 0; i < 12; i++) {
            write(root.resolve("A/a" + i + ".png"), pics[i % 4]);
        }
        for (int i = 0; i < 4; i++) {
            write(root.resolve("B/b" + i + ".png"), pics[(i + 1) % 4]);
        }
        return ImageIndex.scan(root, "toy");
    }

    private static void write(Path f, byte[] b) throws IOException {
        Files.createDirectories(f.getParent());
        Files.write(f, b);
    }

    private ClassBalancer balancer() {
        return new ClassBalancer(Augmenter.report000(), Report000.SEED, ClassBalancer.Output.PUBLISHED, dir.resolve("cache"));
    }

    private static int sharedTotal(Table t) {
        return t.intColumn("original also in training").get(t.rowCount() - 1);
    }

    @Test
    void balancingBeforeSplittingLeaksOriginalsIntoValidation() throws IOException {
        Report000.Split s = Report000.asPublished(toy(), balancer());
        assertEquals(24, s.train().size() + s.validation().size());
        assertEquals(5, s.validation().size()); // 20% of 24, rounded up as scikit-learn counts
        assertTrue(sharedTotal(s.leakage()) > 0, "B's 4 originals and 8 copies cannot all fall on one side: " + s.leakage().print());
        // every validation image of B shares its original with training here (4 originals, 12 images)
        Set<String> trainOrigins = s.train().records().stream().map(r -> r.label() + "/" + ClassBalancer.originalName(r))
                .collect(Collectors.toSet());
        long shared = s.validation().records().stream()
                .filter(r -> trainOrigins.contains(r.label() + "/" + ClassBalancer.originalName(r))).count();
        assertEquals(shared, sharedTotal(s.leakage()));
    }

    @Test
    void splittingFirstKeepsValidationUntouched() throws IOException {
        ImageIndex folder = toy();
        Report000.Split s = Report000.splitFirst(folder, balancer());
        assertEquals(0, sharedTotal(s.leakage()));
        assertTrue(s.validation().records().stream().noneMatch(ClassBalancer::isAugmented));
        assertTrue(s.validation().records().stream().allMatch(r -> r.path().startsWith(folder.root())), "validation = originals");
        // stratified 80/20: A 12 -> 10/2 (round), B 4 -> 3/1; training part balanced to 10 each
        assertEquals(3, s.validation().size());
        assertEquals(20, s.train().size());
        Map<String, Long> perClass = s.train().records().stream().collect(Collectors.groupingBy(ImageRecord::label, Collectors.counting()));
        assertEquals(Map.of("A", 10L, "B", 10L), perClass);
    }

    @Test
    void sampleTakesItsOwnCountPerClass() throws IOException {
        ImageIndex s = toy().sample(Map.of("A", 5, "B", 9), 1);
        Map<String, Long> perClass = s.records().stream().collect(Collectors.groupingBy(ImageRecord::label, Collectors.counting()));
        assertEquals(Map.of("A", 5L, "B", 4L), perClass);
        assertEquals(s.records(), toy().sample(Map.of("A", 5, "B", 9), 1).records(), "seeded");
        assertEquals(Set.of("A"), toy().sample(Map.of("A", 2), 1).records().stream().map(ImageRecord::label).collect(Collectors.toSet()));
    }

    /** The Kaggle archive's held-out folder is Test-A (Test-B is another microscope's); the mirror's sample calls it Test. */
    @org.junit.jupiter.api.Test
    void theTestFolderIsTestAInTheRealArchiveAndTestInTheSample(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
            throws java.io.IOException {
        for (String split : java.util.List.of("Train", "Test-A", "Test-B")) {
            org.leukolab.data.TestImages.jpeg(dir.resolve("full").resolve(split).resolve("Basophil").resolve("a.jpg"));
        }
        org.leukolab.data.TestImages.jpeg(dir.resolve("full/Test-A/Basophil/b.jpg"));
        for (String split : java.util.List.of("Train", "Test")) {
            org.leukolab.data.TestImages.jpeg(dir.resolve("sample").resolve(split).resolve("Basophil").resolve("a.jpg"));
        }
        var full = org.leukolab.data.ImageIndex.scan(dir.resolve("full"), "raabin-wbc");
        org.junit.jupiter.api.Assertions.assertEquals(java.util.List.of("Test-A"),
                Report000.testFolder(full, org.leukolab.system.Profile.FULL).splits());
        org.junit.jupiter.api.Assertions.assertEquals(2, Report000.testFolder(full, org.leukolab.system.Profile.FULL).size());
        var sample = org.leukolab.data.ImageIndex.scan(dir.resolve("sample"), "raabin-wbc-sample");
        org.junit.jupiter.api.Assertions.assertEquals(java.util.List.of("Test"),
                Report000.testFolder(sample, org.leukolab.system.Profile.QUICK).splits());
    }
}

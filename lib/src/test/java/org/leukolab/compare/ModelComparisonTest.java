package org.leukolab.compare;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.leukolab.data.ImageIndex;
import org.leukolab.data.ImageRecord;

class ModelComparisonTest {
    @TempDir
    Path tmp;

    /** {@code n} PNG images of random coloured noise (tinted by class) in {@code root/<label>/}, 40x40. */
    static void images(Path root, String label, int n, long seed) throws IOException {
        images(root, label, n, seed, 40);
    }

    /** As above, {@code side} x {@code side}. */
    static void images(Path root, String label, int n, long seed, int side) throws IOException {
        Random r = new Random(seed);
        Path dir = Files.createDirectories(root.resolve(label));
        int tint = label.hashCode();
        for (int i = 0; i < n; i++) {
            BufferedImage img = new BufferedImage(side, side, BufferedImage.TYPE_INT_RGB);
            for (int y = 0; y < side; y++) {
                for (int x = 0; x < side; x++) {
                    img.setRGB(x, y, (r.nextInt(0xffffff) & 0x7f7f7f) | (tint & 0x808080));
                }
            }
            ImageIO.write(img, "png", dir.resolve(label + "-" + i + ".png").toFile());
        }
    }

    private ModelComparison.Settings settings(Path folder) {
        return ModelComparison.Settings.of(folder).size(32).out(tmp.resolve("out"));
    }

    @Test
    void aFolderWithOneClassIsRefusedWithWhatToDo() throws IOException {
        Path f = tmp.resolve("one");
        images(f, "neutrophil", 12, 1);
        var e = assertThrows(IllegalArgumentException.class, () -> ModelComparison.prepare(settings(f)));
        assertTrue(e.getMessage().contains("one class folder") && e.getMessage().contains("at least two")
                && e.getMessage().contains(f.toString()), e.getMessage());
    }

    @Test
    void classesWithFewerThanTenImagesAreLeftOutAndTheFirstAuditSaysSo() throws IOException {
        Path f = tmp.resolve("small");
        images(f, "a", 12, 1);
        images(f, "b", 12, 2);
        images(f, "c", 3, 3);
        var cmp = ModelComparison.prepare(settings(f));
        assertEquals(List.of("a", "b"), cmp.index().classes());
        assertEquals(24, cmp.index().size());
        Audit first = cmp.audits().audits().get(0);
        assertEquals(Audit.Level.PROBLEM, first.level());
        assertTrue(String.join(" ", first.details()).contains("c (3)") && first.verdict().contains("left out"), first.toString());
    }

    @Test
    void imagesTheLoaderConvertedAreShownInTheFirstAudit() throws IOException {
        Path f = tmp.resolve("gray");
        images(f, "a", 11, 1);
        images(f, "b", 12, 2);
        BufferedImage gray = new BufferedImage(40, 40, BufferedImage.TYPE_BYTE_GRAY);
        ImageIO.write(gray, "png", f.resolve("a").resolve("gray.png").toFile());
        Audit first = ModelComparison.prepare(settings(f)).audits().audits().get(0);
        assertEquals(Audit.Level.WARNING, first.level());
        assertTrue(first.figure() != null && String.join(" ", first.details()).contains("gray.png"), first.toString());
    }

    @Test
    void onlyOneClassLargeEnoughIsRefused() throws IOException {
        Path f = tmp.resolve("tiny");
        images(f, "a", 12, 1);
        images(f, "b", 4, 2);
        var e = assertThrows(IllegalArgumentException.class, () -> ModelComparison.prepare(settings(f)));
        assertTrue(e.getMessage().contains("Add images to the small classes"), e.getMessage());
    }

    @Test
    void splitFoldersAreRefusedNamingTheFolderToUse() throws IOException {
        Path f = tmp.resolve("splits");
        images(f.resolve("train"), "a", 10, 1);
        images(f.resolve("train"), "b", 10, 2);
        var e = assertThrows(IllegalArgumentException.class, () -> ModelComparison.prepare(settings(f)));
        assertTrue(e.getMessage().contains("split folders") && e.getMessage().contains(f.resolve("train").toString()), e.getMessage());
    }

    @Test
    void aSecondSourceWithOtherClassNamesNeedsAMapping() throws IOException {
        Path a = tmp.resolve("lab-a");
        images(a, "neutrophil", 10, 1);
        images(a, "lymphocyte", 10, 2);
        Path b = tmp.resolve("lab-b");
        images(b, "Neutrophils", 10, 3);
        images(b, "LYMPHOCYTE", 10, 4);
        var e = assertThrows(IllegalArgumentException.class, () -> ModelComparison.prepare(settings(a).secondSource(b, Map.of())));
        assertTrue(e.getMessage().contains("[Neutrophils]") && e.getMessage().contains("--map 'Neutrophils=")
                && !e.getMessage().contains("LYMPHOCYTE"), "names the unmatched folder only (case is ignored): " + e.getMessage());
        var cmp = ModelComparison.prepare(settings(a).secondSource(b, Map.of("Neutrophils", "neutrophil")));
        assertEquals(40, cmp.index().size());
        assertEquals(List.of("lab-a", "lab-b"), cmp.index().sources());
        assertEquals(List.of("lymphocyte", "neutrophil"), cmp.index().classes());
        var shortcut = cmp.audits().audits().stream().filter(x -> x.name().startsWith("shortcut")).findFirst().orElseThrow();
        assertTrue(String.join(" ", shortcut.details()).contains("balanced accuracy"), shortcut.toString());
    }

    @Test
    void aSizeThatGoesWithTheClassIsAWarning() throws IOException {
        Path f = tmp.resolve("sizes");
        images(f, "a", 12, 1);
        images(f, "b", 12, 5, 64);
        Audit sizes = ModelComparison.prepare(settings(f)).audits().audits().stream().filter(x -> x.name().equals("image sizes"))
                .findFirst().orElseThrow();
        assertEquals(Audit.Level.WARNING, sizes.level());
        assertTrue(sizes.verdict().contains("goes with the class"), sizes.toString());
    }

    @Test
    void aTooSmallImageSizeIsRefused() throws IOException {
        Path f = tmp.resolve("two");
        images(f, "a", 10, 1);
        images(f, "b", 10, 2);
        var e = assertThrows(IllegalArgumentException.class, () -> ModelComparison.prepare(settings(f).size(16)));
        assertTrue(e.getMessage().contains("at least 32x32"), e.getMessage());
    }

    @Test
    void theGroupedSplitKeepsEveryGroupOfCopiesOnOneSide() throws IOException {
        Path f = tmp.resolve("copies");
        images(f, "a", 30, 1);
        images(f, "b", 30, 2);
        ImageIndex all = ImageIndex.scan(f, "copies");
        int[] groups = new int[all.size()];
        for (int i = 0; i < groups.length; i++) {
            groups[i] = i / 3; // groups of three copies, in file order (within one class)
        }
        var stratified = all.stratifiedSplit(0.70, 0.15, 0.15, 1);
        assertTrue(ModelComparison.crossing(all, stratified, groups) > 0, "a stratified split separates copies");
        var grouped = ModelComparison.groupedSplit(all, groups, 1);
        assertEquals(0, ModelComparison.crossing(all, grouped, groups));
        Set<java.nio.file.Path> seen = new HashSet<>();
        for (ImageIndex part : List.of(grouped.train(), grouped.validation(), grouped.test())) {
            assertTrue(part.size() > 0, "every part has images");
            part.records().stream().map(ImageRecord::path).forEach(p -> assertTrue(seen.add(p), "an image in two parts: " + p));
        }
        assertEquals(all.size(), seen.size());
    }

    @Test
    void modelsThatDoNotFitTheBudgetAreLeftOutWithTheirEstimate() throws IOException {
        Path f = tmp.resolve("budget");
        images(f, "a", 12, 1);
        images(f, "b", 12, 2);
        var cmp = ModelComparison.prepare(settings(f).budgetMinutes(1e-6)
                .models(ModelComparison.Model.RANDOM_FOREST, ModelComparison.Model.SMALL_CNN));
        cmp.run();
        assertTrue(cmp.results().isEmpty());
        assertEquals(List.of("random-forest-pixels", "small-cnn"), cmp.dropped().stream().map(ModelComparison.Dropped::model).toList());
        cmp.dropped().forEach(d -> assertTrue(d.reason().contains("estimated") && d.reason().contains("--budget"), d.reason()));
        var json = com.google.gson.JsonParser.parseString(Files.readString(cmp.write())).getAsJsonObject();
        assertEquals(2, json.getAsJsonArray("dropped").size());
        assertEquals(0, json.getAsJsonArray("models").size());
        assertEquals("full", json.getAsJsonObject("data").get("kind").getAsString(), "a folder that is not a catalog dataset is the user's own");
    }

    @Test
    void theForestIsTimedOnEveryClassEvenWhenTheFirstTrainingImagesAreOneClass() throws IOException {
        Path f = tmp.resolve("ordered");
        images(f, "a", 310, 1); // 217 of them in training, ahead of every 'b' image in the index's order
        images(f, "b", 12, 2);
        var cmp = ModelComparison.prepare(settings(f).models(ModelComparison.Model.RANDOM_FOREST).budgetMinutes(30));
        cmp.run();
        assertEquals(List.of("random-forest-pixels"), cmp.results().stream().map(ModelComparison.Result::name).toList());
    }

    @Test
    void theCommandLineRefusesWhatItCannotUse() {
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CompareCommand.parse(new String[] {"dir", "--colour", "x"}))
                .getMessage().contains("unknown option --colour"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CompareCommand.parse(new String[] {"dir", "--map", "A=a"}))
                .getMessage().contains("--second"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CompareCommand.parse(new String[] {"dir", "--budget", "-3"}))
                .getMessage().contains("positive"));
        assertTrue(assertThrows(IllegalArgumentException.class, () -> CompareCommand.parse(new String[] {"dir", "--models", "svm"}))
                .getMessage().contains("unknown model 'svm'"));
        var s = CompareCommand.parse(new String[] {"dir", "--size", "64", "--budget", "5", "--seeds", "1,2,3", "--split", "grouped"});
        assertEquals(64, s.size());
        assertEquals(5.0, s.budgetMinutes());
        assertEquals(List.of(1L, 2L, 3L), s.seeds());
        assertEquals(ModelComparison.SplitChoice.GROUPED, s.split());
    }
}

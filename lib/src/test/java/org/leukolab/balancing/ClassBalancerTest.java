package org.leukolab.balancing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.leukolab.data.DataIssue;
import org.leukolab.data.ImageIndex;
import org.leukolab.data.ImageRecord;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ClassBalancerTest {
    @TempDir
    Path dir;
    Path source;
    Path cache;

    static byte[] resource(String name) throws IOException {
        try (InputStream in = ClassBalancerTest.class.getResourceAsStream("/org/leukolab/balancing/" + name)) {
            return in.readAllBytes();
        }
    }

    /** A: 5 images, B: 2, C: 1 good and 1 that looks like a JPEG but does not decode. */
    @BeforeEach
    void dataset() throws IOException {
        source = dir.resolve("Train");
        cache = dir.resolve("cache");
        String[] pics = {"input-0.png", "input-1.png", "draw-0-0-raw.png", "draw-1-0-raw.png", "draw-0-1-published.jpg"};
        for (int i = 0; i < 5; i++) {
            write(source.resolve("A/a" + i + (pics[i].endsWith(".jpg") ? ".jpg" : ".png")), resource(pics[i]));
        }
        write(source.resolve("B/b0.jpg"), resource("draw-1-1-published.jpg"));
        write(source.resolve("B/b1.png"), resource("draw-1-3-raw.png"));
        write(source.resolve("C/c0.png"), resource("draw-0-3-raw.png"));
        byte[] bad = new byte[600];
        bad[0] = (byte) 0xFF;
        bad[1] = (byte) 0xD8;
        bad[2] = (byte) 0xFF;
        bad[3] = (byte) 0xE0;
        for (int i = 8; i < bad.length - 2; i++) {
            bad[i] = (byte) (i * 31);
        }
        bad[bad.length - 2] = (byte) 0xFF;
        bad[bad.length - 1] = (byte) 0xD9;
        write(source.resolve("C/broken.jpg"), bad);
    }

    static void write(Path f, byte[] b) throws IOException {
        Files.createDirectories(f.getParent());
        Files.write(f, b);
    }

    ClassBalancer balancer(long seed) {
        return new ClassBalancer(Augmenter.report000(), seed, ClassBalancer.Output.PUBLISHED, cache);
    }

    ImageIndex index() {
        return ImageIndex.scan(source, "toy");
    }

    /** Relative path -> (size, modification time, content hash) of every file under a folder. */
    static Map<String, String> snapshot(Path root) throws IOException {
        Map<String, String> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.filter(Files::isRegularFile).toList()) {
                m.put(root.relativize(p).toString(), Files.size(p) + "|" + Files.getLastModifiedTime(p) + "|"
                        + java.util.Arrays.hashCode(Files.readAllBytes(p)));
            }
        }
        return m;
    }

    @Test
    void topsEveryClassUpToTheLargestWithoutTouchingTheSource() throws IOException {
        Map<String, String> before = snapshot(source);
        ClassBalancer.Result r = balancer(5).balance(index());
        assertEquals(before, snapshot(source), "the source folders are never written");
        assertFalse(r.reused());
        assertTrue(r.folder().startsWith(cache));
        assertEquals(Map.of("A", 5, "B", 2, "C", 1), r.before());
        assertEquals(Map.of("A", 5, "B", 5, "C", 5), r.after());
        assertEquals(7, r.augmentedCopies());
        assertEquals(15, r.index().size());
        // the undecodable original is reported, and neither copied nor augmented
        assertEquals(1, r.issues().of(DataIssue.Kind.DECODE_FAILED).size());
        assertTrue(r.issues().all().get(0).file().endsWith("broken.jpg"));
        assertTrue(r.index().records().stream().noneMatch(x -> x.fileName().contains("broken")));
        // originals are byte-identical; copies are named after their original, cycling in order
        assertArrayEquals(Files.readAllBytes(source.resolve("B/b1.png")), Files.readAllBytes(r.folder().resolve("B/b1.png")));
        List<String> bNames = r.index().filter("B", x -> x.label().equals("B")).records().stream().map(ImageRecord::fileName).sorted().toList();
        assertEquals(List.of("aug_0_b0.jpg", "aug_1_b1.png", "aug_2_b0.jpg", "b0.jpg", "b1.png"), bNames);
        List<String> cOrigins = r.index().filter("C", x -> x.label().equals("C")).records().stream()
                .map(ClassBalancer::originalName).distinct().toList();
        assertEquals(List.of("c0.png"), cOrigins);
        long augmented = r.index().records().stream().filter(ClassBalancer::isAugmented).count();
        assertEquals(7, augmented);
        // an augmented copy differs from its original but has its size
        byte[] orig = Files.readAllBytes(r.folder().resolve("C/c0.png"));
        byte[] copy = Files.readAllBytes(r.folder().resolve("C/aug_0_c0.png"));
        assertFalse(java.util.Arrays.equals(orig, copy));
        try (var a = AugmenterTest.decode(orig); var b = AugmenterTest.decode(copy)) {
            assertEquals(a.rows(), b.rows());
            assertEquals(a.cols(), b.cols());
        }
        assertEquals(List.of("A", "B", "C"), r.counts().stringColumn("class").asList());
    }

    @Test
    void theSameSourceAndSettingsReuseTheBuiltSet() throws IOException {
        ClassBalancer.Result first = balancer(5).balance(index());
        Path copy = first.folder().resolve("B/aug_0_b0.jpg");
        Files.setLastModifiedTime(copy, FileTime.fromMillis(1_000_000L));
        Map<String, String> built = snapshot(first.folder());
        ClassBalancer.Result second = balancer(5).balance(index());
        assertTrue(second.reused());
        assertEquals(first.folder(), second.folder());
        assertEquals(built, snapshot(second.folder()), "nothing is rewritten on reuse");
        assertEquals(first.before(), second.before());
        assertEquals(first.issues().all().size(), second.issues().all().size());
        // a copy of the same source elsewhere (same contents) finds the same set
        Path moved = dir.resolve("elsewhere");
        copyTree(source, moved);
        assertTrue(balancer(5).balance(ImageIndex.scan(moved, "toy")).reused());
    }

    @Test
    void aChangedSettingOrSourceBuildsANewSet() throws IOException {
        ClassBalancer.Result base = balancer(5).balance(index());
        ClassBalancer.Result otherSeed = balancer(6).balance(index());
        assertFalse(otherSeed.reused());
        assertNotEquals(base.folder(), otherSeed.folder());
        assertFalse(java.util.Arrays.equals(Files.readAllBytes(base.folder().resolve("B/aug_0_b0.jpg")),
                Files.readAllBytes(otherSeed.folder().resolve("B/aug_0_b0.jpg"))));
        ClassBalancer.Result otherAug = new ClassBalancer(new Augmenter(10, 0.1, true), 5, ClassBalancer.Output.PUBLISHED, cache)
                .balance(index());
        assertFalse(otherAug.reused());
        ClassBalancer.Result otherOutput = new ClassBalancer(Augmenter.report000(), 5, ClassBalancer.Output.CLEAN, cache)
                .balance(index());
        assertFalse(otherOutput.reused());
        assertEquals(4, Stream.of(base, otherSeed, otherAug, otherOutput).map(ClassBalancer.Result::folder).distinct().count());
        // same file names, one image's content changed
        write(source.resolve("B/b1.png"), resource("draw-1-2-raw.png"));
        ClassBalancer.Result changed = balancer(5).balance(index());
        assertFalse(changed.reused());
        assertNotEquals(base.folder(), changed.folder());
        // the earlier sets are still there: going back to the old contents finds their set again
        write(source.resolve("B/b1.png"), resource("draw-1-3-raw.png"));
        ClassBalancer.Result back = balancer(6).balance(index());
        assertTrue(back.reused());
        assertEquals(otherSeed.folder(), back.folder());
    }

    @Test
    void theSameSeedGivesTheSameBytesAnywhere() throws IOException {
        ClassBalancer.Result a = balancer(11).balance(index());
        ClassBalancer.Result b = new ClassBalancer(Augmenter.report000(), 11, ClassBalancer.Output.PUBLISHED, dir.resolve("cache2"))
                .balance(index());
        assertFalse(b.reused());
        Map<String, byte[]> fa = contents(a.folder());
        Map<String, byte[]> fb = contents(b.folder());
        assertEquals(fa.keySet(), fb.keySet());
        fa.forEach((k, v) -> assertArrayEquals(v, fb.get(k), k));
    }

    @Test
    void anInterruptedBuildLeavesNothingThatLooksComplete() throws IOException {
        assertThrows(IllegalStateException.class, () -> balancer(5).failingAfter(3).balance(index()));
        try (Stream<Path> s = Files.list(cache)) {
            assertEquals(List.of(), s.toList(), "no half-built folder and no temporary left behind");
        }
        ClassBalancer.Result r = balancer(5).balance(index());
        assertFalse(r.reused());
        assertEquals(15, r.index().size());
    }

    @Test
    void aDamagedSetIsBuiltAgain() throws IOException {
        ClassBalancer.Result first = balancer(5).balance(index());
        Files.delete(first.folder().resolve("C/aug_1_c0.png"));
        ClassBalancer.Result again = balancer(5).balance(index());
        assertFalse(again.reused());
        assertEquals(first.folder(), again.folder());
        assertTrue(Files.exists(again.folder().resolve("C/aug_1_c0.png")));
        assertEquals(15, again.index().size());
    }

    @Test
    void classWeightsAreTheBalancedHeuristic() {
        ImageIndex idx = index().filter("AB", r -> !r.label().equals("C"));
        var t = ClassBalancer.classWeights(idx);
        // n / (classes x count): 7 / (2 x 5) and 7 / (2 x 2)
        assertEquals(0.7, t.doubleColumn("weight").get(0), 1e-12);
        assertEquals(1.75, t.doubleColumn("weight").get(1), 1e-12);
        double[] w = ClassBalancer.classWeightArray(index());
        // C counts both its files here (weights are computed from the index, before decoding): 9 / (3 x 2)
        assertEquals(List.of("A", "B", "C"), index().classes());
        assertArrayEquals(new double[] {9.0 / 15, 9.0 / 6, 9.0 / 6}, w, 1e-12);
    }

    static Map<String, byte[]> contents(Path root) throws IOException {
        Map<String, byte[]> m = new TreeMap<>();
        try (Stream<Path> s = Files.walk(root)) {
            for (Path p : s.filter(Files::isRegularFile).filter(p -> !p.getFileName().toString().startsWith(".")).toList()) {
                m.put(root.relativize(p).toString(), Files.readAllBytes(p));
            }
        }
        return m;
    }

    static void copyTree(Path from, Path to) throws IOException {
        try (Stream<Path> s = Files.walk(from)) {
            for (Path p : s.toList()) {
                Path t = to.resolve(from.relativize(p).toString());
                if (Files.isDirectory(p)) {
                    Files.createDirectories(t);
                } else {
                    Files.copy(p, t);
                }
            }
        }
    }
}

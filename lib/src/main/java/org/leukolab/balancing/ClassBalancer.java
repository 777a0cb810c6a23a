package org.leukolab.balancing;

import static org.bytedeco.opencv.global.opencv_imgcodecs.IMWRITE_JPEG_QUALITY;
import static org.bytedeco.opencv.global.opencv_imgcodecs.imencode;
import static org.bytedeco.opencv.global.opencv_imgproc.COLOR_RGB2BGR;
import static org.bytedeco.opencv.global.opencv_imgproc.cvtColor;

import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.opencv.opencv_core.Mat;
import org.leukolab.data.DataIssue;
import org.leukolab.data.DataIssues;
import org.leukolab.data.ImageDecoder;
import org.leukolab.data.ImageIndex;
import org.leukolab.data.ImageRecord;
import org.leukolab.notebook.Progress;
import org.leukolab.system.Hashing;
import org.leukolab.system.Workspace;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Balances classes by augmentation, as report 000 did: every original is kept, and each smaller class is
 * topped up to the size of the largest with augmented copies ({@link Augmenter}), made by cycling through
 * its originals in order. The balanced set is written as a folder-per-class dataset in the cache
 * ({@code <cache>/balanced/<key>/}), never into the source folders.
 *
 * <p>The key is a SHA-256 over the source images' contents and classes and every setting, so the same
 * source and settings find the existing folder, and any change builds a new one. A folder is built under a
 * temporary name and renamed when complete (with a {@code .complete.json} record), so an interrupted run
 * never leaves a half-balanced set that looks whole.
 *
 * <p>{@link Output#PUBLISHED} writes the copies as report 000 did: Keras' {@code array_to_img} stretched
 * each copy's own value range to 0..255 (more contrast) and PIL saved it as JPEG at quality 75.
 * {@link Output#CLEAN} keeps the copies' values and saves them at JPEG quality 95.
 */
public final class ClassBalancer {
    private static final Logger LOG = LoggerFactory.getLogger(ClassBalancer.class);
    static final int VERSION = 1;
    /** File-name prefix of augmented copies, as report 000 named them: {@code aug_<n>_<original name>}. */
    public static final String AUGMENTED_PREFIX = "aug_";

    /** How augmented copies are written. */
    public enum Output { PUBLISHED, CLEAN }

    private final Augmenter augmenter;
    private final long seed;
    private final Output output;
    private final Path cacheRoot;
    private int failAfter = -1;
    private static final String COMPLETE = ".complete.json";

    public ClassBalancer(Augmenter augmenter, long seed, Output output) {
        this(augmenter, seed, output, Workspace.cacheDir().resolve("balanced"));
    }

    public ClassBalancer(Augmenter augmenter, long seed, Output output, Path cacheRoot) {
        this.augmenter = augmenter;
        this.seed = seed;
        this.output = output;
        this.cacheRoot = cacheRoot;
    }

    /** The balanced set and whether it was built now or found in the cache. */
    public record Result(ImageIndex index, Path folder, boolean reused, Map<String, Integer> before,
                         Map<String, Integer> after, DataIssues issues) {
        /** Images per class before and after balancing. */
        public Table counts() {
            List<String> cls = new ArrayList<>(before.keySet());
            return Table.create("class counts: original and balanced", StringColumn.create("class", cls),
                    IntColumn.create("original", cls.stream().mapToInt(before::get).toArray()),
                    IntColumn.create("augmented copies", cls.stream().mapToInt(c -> after.get(c) - before.get(c)).toArray()),
                    IntColumn.create("balanced", cls.stream().mapToInt(after::get).toArray()));
        }

        /**
         * Augmented copies with the originals they were made from: for each class (in order) its first
         * {@code perClass} copies by copy number.
         */
        public List<Copy> copies(int perClass) {
            Map<String, ImageRecord> originals = new java.util.HashMap<>();
            for (ImageRecord r : index.records()) {
                if (!isAugmented(r)) {
                    originals.put(r.label() + "/" + r.fileName(), r);
                }
            }
            List<Copy> out = new ArrayList<>();
            for (String cls : index.classes()) {
                index.records().stream().filter(r -> r.label().equals(cls) && isAugmented(r))
                        .sorted(java.util.Comparator.comparingInt(ClassBalancer::copyNumber)).limit(perClass)
                        .forEach(c -> {
                            ImageRecord o = originals.get(cls + "/" + originalName(c));
                            if (o != null) {
                                out.add(new Copy(o, c));
                            }
                        });
            }
            return out;
        }

        /** How many augmented copies were made in all. */
        public int augmentedCopies() {
            return after.values().stream().mapToInt(Integer::intValue).sum() - before.values().stream().mapToInt(Integer::intValue).sum();
        }
    }

    /**
     * Balances the images of {@code source} (one split, folder-per-class). Originals that do not decode are
     * left out (listed in the result's issues), neither copied nor used for augmentation.
     */
    public Result balance(ImageIndex source) {
        Map<String, List<ImageRecord>> byClass = new TreeMap<>();
        for (ImageRecord r : source.records()) {
            byClass.computeIfAbsent(r.label(), k -> new ArrayList<>()).add(r);
        }
        if (byClass.isEmpty()) {
            throw new IllegalArgumentException(source.name() + " has no images to balance");
        }
        String key = key(byClass);
        Path folder = cacheRoot.resolve(key);
        Path record = folder.resolve(COMPLETE);
        if (Files.isRegularFile(record)) {
            try {
                Result r = read(record, folder, source.name());
                LOG.info("balanced set found in the cache: {}", folder);
                return r;
            } catch (IOException | RuntimeException e) {
                LOG.warn("balanced set {} is unusable ({}); building it again", folder, e.getMessage());
                deleteTree(folder);
            }
        }
        build(byClass, folder, key);
        try {
            return withReused(read(record, folder, source.name()), false);
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read the balanced set just built in " + folder, e);
        }
    }

    private static Result withReused(Result r, boolean reused) {
        return new Result(r.index(), r.folder(), reused, r.before(), r.after(), r.issues());
    }

    private Result read(Path record, Path folder, String sourceName) throws IOException {
        JsonObject o = JsonParser.parseString(Files.readString(record, StandardCharsets.UTF_8)).getAsJsonObject();
        Map<String, Integer> before = new LinkedHashMap<>();
        Map<String, Integer> after = new LinkedHashMap<>();
        o.getAsJsonObject("original").entrySet().forEach(e -> before.put(e.getKey(), e.getValue().getAsInt()));
        o.getAsJsonObject("balanced").entrySet().forEach(e -> after.put(e.getKey(), e.getValue().getAsInt()));
        DataIssues issues = new DataIssues(null);
        for (JsonElement e : o.getAsJsonArray("skipped")) {
            JsonObject i = e.getAsJsonObject();
            issues.add(DataIssue.skipped(Path.of(i.get("file").getAsString()), DataIssue.Kind.DECODE_FAILED,
                    i.get("detail").getAsString()));
        }
        ImageIndex index = ImageIndex.scan(folder, sourceName + " (balanced)");
        Map<String, Integer> found = new LinkedHashMap<>();
        index.records().forEach(r -> found.merge(r.label(), 1, Integer::sum));
        if (!found.equals(after)) {
            throw new IOException("the folder holds " + found + " images, its record says " + after);
        }
        return new Result(index, folder, true, before, after, issues);
    }

    private void build(Map<String, List<ImageRecord>> byClass, Path folder, String key) {
        Path tmp = cacheRoot.resolve("." + key + ".tmp-" + ProcessHandle.current().pid());
        try {
            deleteTree(tmp);
            Files.createDirectories(tmp);
            // 1. which originals decode (an undecodable one is neither copied nor augmented)
            int total = byClass.values().stream().mapToInt(List::size).sum();
            Map<String, List<ImageRecord>> good = new TreeMap<>();
            JsonArray skipped = new JsonArray();
            try (Progress bar = Progress.start("balancing: checking " + total + " originals", total, "img")) {
                for (Map.Entry<String, List<ImageRecord>> e : byClass.entrySet()) {
                    List<ImageRecord> ok = new ArrayList<>();
                    for (ImageRecord r : e.getValue()) {
                        ImageDecoder.Decoded d = ImageDecoder.decode(r);
                        if (d.ok()) {
                            ok.add(r);
                            d.rgb().close();
                        } else {
                            JsonObject i = new JsonObject();
                            i.addProperty("file", r.path().toString());
                            i.addProperty("detail", d.error() + "; not copied, not augmented");
                            skipped.add(i);
                            LOG.warn("{}: {} (left out of the balanced set)", r.path(), d.error());
                        }
                        bar.step();
                    }
                    if (ok.isEmpty()) {
                        throw new IllegalStateException("class " + e.getKey() + " has no decodable image: nothing to "
                                + "balance it from (see the log for each file)");
                    }
                    good.put(e.getKey(), ok);
                }
            }
            int target = good.values().stream().mapToInt(List::size).max().orElse(0);
            int needed = good.values().stream().mapToInt(l -> target - l.size()).sum();
            // 2. originals, then augmented copies cycling through each class's originals in order
            int made = 0;
            try (Progress bar = Progress.start("balancing: " + needed + " augmented copies", needed, "img")) {
                for (Map.Entry<String, List<ImageRecord>> e : good.entrySet()) {
                    Path dir = Files.createDirectories(tmp.resolve(e.getKey()));
                    for (ImageRecord r : e.getValue()) {
                        copyOrLink(r.path(), dir.resolve(r.fileName()));
                    }
                    int missing = target - e.getValue().size();
                    Random rnd = new Random(seed * 31 + e.getKey().hashCode());
                    for (int g = 0; g < missing; g++) {
                        if (failAfter >= 0 && made >= failAfter) {
                            throw new IllegalStateException("simulated failure after " + made + " copies (test hook)");
                        }
                        ImageRecord src = e.getValue().get(g % e.getValue().size());
                        ImageDecoder.Decoded d = ImageDecoder.decode(src);
                        if (!d.ok()) {
                            throw new IllegalStateException(src.path() + " decoded a moment ago but not now: " + d.error());
                        }
                        try (Mat img = d.rgb(); Mat aug = augmenter.applyFloat(img, augmenter.draw(rnd))) {
                            String name = AUGMENTED_PREFIX + g + "_" + src.fileName();
                            Files.write(dir.resolve(name), encode(aug, extension(src.fileName())));
                        }
                        made++;
                        bar.step();
                    }
                }
            }
            JsonObject done = new JsonObject();
            done.addProperty("key", key);
            done.addProperty("settings", settings());
            done.addProperty("target_per_class", target);
            JsonObject before = new JsonObject();
            JsonObject after = new JsonObject();
            good.forEach((k, v) -> {
                before.addProperty(k, v.size());
                after.addProperty(k, target);
            });
            done.add("original", before);
            done.add("balanced", after);
            done.add("skipped", skipped);
            Files.writeString(tmp.resolve(COMPLETE), done.toString(), StandardCharsets.UTF_8);
            try {
                Files.move(tmp, folder, StandardCopyOption.ATOMIC_MOVE);
            } catch (java.nio.file.FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException raced) {
                deleteTree(tmp); // another run finished the same set first: theirs is as good
            }
        } catch (IOException e) {
            deleteTree(tmp);
            throw new UncheckedIOException("cannot build the balanced set in " + cacheRoot + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            deleteTree(tmp);
            throw e;
        }
    }

    /** A copy that fails after {@code n} augmented copies (tests of the atomic build). */
    ClassBalancer failingAfter(int n) {
        ClassBalancer b = new ClassBalancer(augmenter, seed, output, cacheRoot);
        b.failAfter = n;
        return b;
    }

    /** Writes one augmented copy (float RGB) in the output's way, in the format its file name says. */
    byte[] encode(Mat rgbFloat, String ext) {
        Mat img = new Mat();
        try {
            if (output == Output.PUBLISHED) {
                img.close();
                img = Augmenter.arrayToImage(rgbFloat);
            } else {
                rgbFloat.convertTo(img, org.bytedeco.opencv.global.opencv_core.CV_8U);
            }
            return encodeWritten(img, ext);
        } finally {
            img.close();
        }
    }

    /** Encodes an 8-bit RGB image as the output writes it (JPEG quality 75 published, 95 clean). */
    byte[] encodeWritten(Mat rgb8, String ext) {
        int quality = output == Output.PUBLISHED ? 75 : 95;
        try (Mat bgr = new Mat(); BytePointer buf = new BytePointer();
             IntPointer params = new IntPointer(IMWRITE_JPEG_QUALITY, quality)) {
            cvtColor(rgb8, bgr, COLOR_RGB2BGR);
            if (!imencode("." + ext, bgr, buf, params)) {
                throw new IllegalStateException("cannot encode an image as ." + ext);
            }
            byte[] out = new byte[(int) buf.limit()];
            buf.get(out);
            return out;
        }
    }

    /**
     * The original an image of a balanced set was made from: its own file name for an original, the
     * name after {@code aug_<n>_} for an augmented copy.
     */
    public static String originalName(ImageRecord r) {
        String f = r.fileName();
        if (!f.startsWith(AUGMENTED_PREFIX)) {
            return f;
        }
        int sep = f.indexOf('_', AUGMENTED_PREFIX.length());
        return sep < 0 ? f : f.substring(sep + 1);
    }

    /** An augmented copy and the original it was made from. */
    public record Copy(ImageRecord original, ImageRecord copy) {}

    /** The n of {@code aug_<n>_<original>} (MAX_VALUE for anything else). */
    static int copyNumber(ImageRecord r) {
        String f = r.fileName();
        int end = f.indexOf('_', AUGMENTED_PREFIX.length());
        try {
            return end < 0 ? Integer.MAX_VALUE : Integer.parseInt(f.substring(AUGMENTED_PREFIX.length(), end));
        } catch (NumberFormatException e) {
            return Integer.MAX_VALUE;
        }
    }

    /** True for an augmented copy in a balanced set. */
    public static boolean isAugmented(ImageRecord r) {
        return r.fileName().startsWith(AUGMENTED_PREFIX) && !originalName(r).equals(r.fileName());
    }

    /**
     * Class weights that make every class count equally, {@code n / (k n_c)} with {@code k} the number of classes
     * that occur (scikit-learn's {@code compute_class_weight("balanced")} over the classes present, as Keras users
     * pass it), for label indices {@code labels} of {@code classes} classes; a class without examples gets 0 (it has
     * no loss to weigh). For {@code Trainer.builder(..).classWeights(..)}.
     */
    public static double[] classWeights(int[] labels, int classes) {
        int[] count = new int[classes];
        for (int y : labels) {
            if (y < 0 || y >= classes) {
                throw new IllegalArgumentException("label " + y + " is outside the " + classes + " classes");
            }
            count[y]++;
        }
        long present = java.util.Arrays.stream(count).filter(c -> c > 0).count();
        double[] w = new double[classes];
        for (int c = 0; c < classes; c++) {
            w[c] = count[c] == 0 ? 0 : (double) labels.length / (present * count[c]);
        }
        return w;
    }

    /** Class weights that make every class count equally: n / (classes x count), scikit-learn's "balanced". */
    public static Table classWeights(ImageIndex index) {
        List<String> cls = index.classes();
        int[] counts = new int[cls.size()];
        for (int y : index.labels()) {
            counts[y]++;
        }
        return org.leukolab.notebook.Tables.rounded(Table.create("class weights (balanced)", StringColumn.create("class", cls),
                IntColumn.create("images", counts), DoubleColumn.create("weight", classWeightArray(index))), 4);
    }

    /** The same weights as an array in the index's class order (0 for a class without images). */
    public static double[] classWeightArray(ImageIndex index) {
        return classWeights(index.labels(), index.classes().size());
    }

    private String settings() {
        return String.format(Locale.ROOT, "v%d %s seed=%d output=%s", VERSION, augmenter.id(), seed, output);
    }

    private String key(Map<String, List<ImageRecord>> byClass) {
        Hashing h = Hashing.sha256().add(settings());
        for (Map.Entry<String, List<ImageRecord>> e : byClass.entrySet()) {
            for (ImageRecord r : e.getValue()) {
                try {
                    h.add("\n" + e.getKey() + "/" + r.fileName() + "\n").add(r.inArray() ? r.array().rgb() : Files.readAllBytes(r.path()));
                } catch (IOException x) {
                    throw new UncheckedIOException("cannot read " + r.path() + ": " + x.getMessage(), x);
                }
            }
        }
        return h.hex().substring(0, 32);
    }

    private static void copyOrLink(Path from, Path to) throws IOException {
        try {
            Files.createLink(to, from);
        } catch (IOException | UnsupportedOperationException e) {
            Files.copy(from, to, StandardCopyOption.REPLACE_EXISTING);
        }
    }

    private static String extension(String file) {
        int dot = file.lastIndexOf('.');
        String ext = dot < 0 ? "" : file.substring(dot + 1).toLowerCase(Locale.ROOT);
        return ext.equals("png") || ext.equals("bmp") || ext.equals("tif") || ext.equals("tiff") ? ext : "jpg";
    }

    private static void deleteTree(Path p) {
        if (!Files.exists(p)) {
            return;
        }
        try (Stream<Path> s = Files.walk(p)) {
            s.sorted(java.util.Comparator.reverseOrder()).forEach(x -> {
                try {
                    Files.deleteIfExists(x);
                } catch (IOException ignored) {
                    // best effort: a leftover temporary folder is never taken for a complete one
                }
            });
        } catch (IOException ignored) {
            // as above
        }
    }
}

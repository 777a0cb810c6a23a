package org.leukolab.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.Predicate;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.leukolab.notebook.Rich;
import org.leukolab.notebook.Tables;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * The images of a folder-per-class dataset, as typed records and as a Tablesaw table
 * ({@code path, label, split, source, format, width, height, channels, bytes}).
 *
 * <p>Two layouts are understood: {@code <root>/<class>/<image>} (no splits; every image gets split
 * {@value ImageRecord#NO_SPLIT}) and {@code <root>/<split>/<class>/<image>}. Bad files are expected:
 * each is checked by its content ({@link ImageFileCheck}) and, if unusable, skipped and listed in
 * {@link #issues()}, never dropped silently. A folder that fits neither layout stops the scan with a
 * {@link DatasetException.Layout} that says what was found and what was expected.
 *
 * <p>Records are kept sorted (split, label, file name), so every derived subset and split is the
 * same on every machine for the same seed. The class list (and so each label's index) is fixed at
 * scan time and carried into every subset, so label indices agree across splits.
 */
public final class ImageIndex implements Rich {
    /** File name extensions treated as images (case-insensitive). */
    public static final Set<String> IMAGE_EXTENSIONS =
            Set.of("jpg", "jpeg", "png", "bmp", "gif", "tif", "tiff", "webp");

    private final String name;
    private final Path root;
    private final List<ImageRecord> records;
    private final List<String> classes;
    private final DataIssues issues;

    ImageIndex(String name, Path root, List<ImageRecord> records, List<String> classes, DataIssues issues) {
        this.name = name;
        this.root = root;
        this.records = List.copyOf(records);
        this.classes = List.copyOf(classes);
        this.issues = issues;
    }

    // ------------------------------------------------------------------------------------- scanning

    /** Indexes the dataset under {@code root}, detecting its layout; {@code source} names the dataset. */
    public static ImageIndex scan(Path root, String source) {
        return scan(root, source, List.of());
    }

    /**
     * Indexes the dataset under {@code root} and checks that each of {@code expectedSplits} is there
     * (an empty list: no expectation).
     */
    public static ImageIndex scan(Path root, String source, List<String> expectedSplits) {
        Path r = root.toAbsolutePath().normalize();
        if (!Files.isDirectory(r)) {
            throw new DatasetException.Missing(r + " is not a folder" + (Files.exists(r) ? "" : " (it does not exist)")
                    + ". Point the index at the folder that holds the class (or split) folders.");
        }
        DataIssues issues = new DataIssues(r);
        noteOsFolders(r, issues);
        List<Path> subdirs = folders(r);
        List<Path> rootImages = children(r).stream().filter(Files::isRegularFile).filter(ImageIndex::hasImageExtension).toList();

        Map<Path, String> kinds = new LinkedHashMap<>();
        for (Path d : subdirs) {
            kinds.put(d, folderKind(d));
        }
        Set<String> voted = kinds.values().stream().filter(k -> !k.equals("empty")).collect(Collectors.toCollection(TreeSet::new));
        if (!rootImages.isEmpty() || voted.size() != 1 || voted.contains("mixed")) {
            throw new DatasetException.Layout(layoutMessage(r, rootImages, kinds));
        }
        boolean splitLayout = voted.contains("split");
        if (!expectedSplits.isEmpty() && !splitLayout) {
            throw new DatasetException.Layout(r + ": expected split folders " + expectedSplits
                    + " but the class folders are directly under it (" + names(subdirs) + ").");
        }
        if (splitLayout) {
            Set<String> present = subdirs.stream().map(p -> p.getFileName().toString()).collect(Collectors.toSet());
            List<String> missing = expectedSplits.stream().filter(s -> !present.contains(s)).toList();
            if (!missing.isEmpty()) {
                throw new DatasetException.Layout(r + ": split folder(s) " + missing + " missing; found "
                        + names(subdirs) + ". The copy is incomplete: fetch the dataset again.");
            }
        }

        List<Path[]> classFolders = new ArrayList<>(); // {split folder or null, class folder}
        for (Path d : subdirs) {
            if (splitLayout) {
                noteOsFolders(d, issues);
                List<Path> inner = folders(d);
                if (inner.isEmpty()) {
                    issues.add(new DataIssue(d, DataIssue.Kind.EMPTY_CLASS_FOLDER, "split folder without class folders", "ignored"));
                }
                children(d).stream().filter(Files::isRegularFile).forEach(f -> issues.add(new DataIssue(f,
                        DataIssue.Kind.NOT_IMAGE_FILE, "a file directly in a split folder (images belong in class folders)", "ignored")));
                inner.forEach(c -> classFolders.add(new Path[] {d, c}));
            } else {
                classFolders.add(new Path[] {null, d});
            }
        }

        List<ImageRecord> records = Collections.synchronizedList(new ArrayList<>());
        for (Path[] sc : classFolders) {
            String split = sc[0] == null ? ImageRecord.NO_SPLIT : sc[0].getFileName().toString();
            String label = sc[1].getFileName().toString();
            List<Path> files = children(sc[1]);
            List<Path> candidates = new ArrayList<>();
            for (Path f : files) {
                if (Files.isDirectory(f) && osFolder(f)) {
                    issues.add(osIssue(f));
                } else if (Files.isDirectory(f)) {
                    issues.add(new DataIssue(f, DataIssue.Kind.NOT_IMAGE_FILE,
                            "a folder inside a class folder; its contents are not indexed", "ignored"));
                } else if (!hasImageExtension(f)) {
                    issues.add(new DataIssue(f, DataIssue.Kind.NOT_IMAGE_FILE,
                            "not an image file name (extension not one of " + new TreeSet<>(IMAGE_EXTENSIONS) + ")", "ignored"));
                } else {
                    candidates.add(f);
                }
            }
            int before = records.size();
            candidates.parallelStream().forEach(f -> {
                ImageFileCheck.Result c = ImageFileCheck.inspect(f);
                if (c.ok()) {
                    records.add(new ImageRecord(f, label, split, source, c.format(), c.width(), c.height(), c.channels(), c.bytes()));
                } else {
                    issues.add(DataIssue.skipped(f, kindOf(c), c.problem()));
                }
            });
            if (records.size() == before) {
                issues.add(new DataIssue(sc[1], DataIssue.Kind.EMPTY_CLASS_FOLDER,
                        "class folder '" + label + "'" + (sc[0] == null ? "" : " of split " + split) + " holds no usable image", "ignored"));
            }
        }
        if (records.isEmpty()) {
            throw new DatasetException.Layout(r + ": no usable image found. " + issues.summary(10));
        }
        List<ImageRecord> sorted = new ArrayList<>(records);
        sorted.sort(ORDER);
        List<String> classes = sorted.stream().map(ImageRecord::label).distinct().sorted().toList();
        noteClassesDifferingInCase(r, sorted, issues);
        return new ImageIndex(source, r, sorted, classes, issues);
    }

    /**
     * Class folders whose names are equal ignoring case ({@code Good/} and {@code good/}, as merged downloads and
     * copies from case-insensitive file systems make them) stay separate classes, as their names say, and each such
     * group is reported as a warning naming the folders and their image counts and the call that merges them
     * ({@link #mergeClassesIgnoringCase()}).
     */
    private static void noteClassesDifferingInCase(Path root, List<ImageRecord> records, DataIssues issues) {
        Map<String, Map<String, Integer>> byFolded = new TreeMap<>();
        for (ImageRecord rec : records) {
            byFolded.computeIfAbsent(rec.label().toLowerCase(Locale.ROOT), k -> new TreeMap<>()).merge(rec.label(), 1, Integer::sum);
        }
        for (Map<String, Integer> group : byFolded.values()) {
            if (group.size() > 1) {
                String names = group.entrySet().stream().map(e -> "'" + e.getKey() + "' (" + e.getValue() + (e.getValue() == 1 ? " image)" : " images)"))
                        .collect(Collectors.joining(" and "));
                issues.add(new DataIssue(root, DataIssue.Kind.CLASS_NAMES_DIFFER_IN_CASE, "class folders " + names
                        + " differ only in upper and lower case; they are kept as " + group.size() + " classes. If they are one "
                        + "class, merge them with index.mergeClassesIgnoringCase() (or rename one folder)", "kept, flagged"));
            }
        }
    }

    /**
     * The same images with classes whose names are equal ignoring case merged into one, named by the spelling that
     * has the most images (the first in sorted order on a tie); the index itself when there are none.
     */
    public ImageIndex mergeClassesIgnoringCase() {
        Map<String, Map<String, Integer>> byFolded = new TreeMap<>();
        for (ImageRecord rec : records) {
            byFolded.computeIfAbsent(rec.label().toLowerCase(Locale.ROOT), k -> new TreeMap<>()).merge(rec.label(), 1, Integer::sum);
        }
        Map<String, String> to = new LinkedHashMap<>();
        byFolded.forEach((folded, group) -> {
            String keep = group.entrySet().stream().max(Map.Entry.<String, Integer>comparingByValue()
                    .thenComparing(Map.Entry.comparingByKey(Comparator.reverseOrder()))).orElseThrow().getKey();
            group.keySet().forEach(name -> to.put(name, keep));
        });
        if (to.entrySet().stream().allMatch(e -> e.getKey().equals(e.getValue()))) {
            return this;
        }
        List<String> merged = classes.stream().map(c -> to.getOrDefault(c, c)).distinct().sorted().toList();
        List<ImageRecord> out = new ArrayList<>(records.size());
        records.forEach(rec -> out.add(rec.withLabel(to.get(rec.label()))));
        out.sort(ORDER);
        DataIssues kept = new DataIssues(root);
        issues.all().stream().filter(i -> i.kind() != DataIssue.Kind.CLASS_NAMES_DIFFER_IN_CASE).forEach(kept::add);
        to.forEach((from, into) -> {
            if (!from.equals(into)) {
                kept.add(new DataIssue(root, DataIssue.Kind.CLASS_NAMES_DIFFER_IN_CASE, "class '" + from + "' merged into '" + into
                        + "' (names equal ignoring case)", "merged"));
            }
        });
        return new ImageIndex(name, root, out, merged, kept);
    }

    /**
     * Single image files (to classify, not to train on): one record each, in the order given, class
     * {@value #UNLABELLED}. A file that is not a usable image is an error naming it and the problem.
     */
    public static ImageIndex ofFiles(String name, List<Path> files) {
        List<ImageRecord> recs = new ArrayList<>();
        for (Path f : files) {
            Path p = f.toAbsolutePath().normalize();
            ImageFileCheck.Result c = ImageFileCheck.inspect(p);
            if (!c.ok()) {
                throw new DatasetException(p + " cannot be used as an image: " + c.problem());
            }
            recs.add(new ImageRecord(p, UNLABELLED, ImageRecord.NO_SPLIT, name, c.format(), c.width(), c.height(), c.channels(), c.bytes()));
        }
        Path root = recs.isEmpty() ? Path.of(".") : recs.get(0).path().getParent();
        return new ImageIndex(name, root, recs, List.of(UNLABELLED), new DataIssues(root));
    }

    /** The class of images given without one ({@link #ofFiles}). */
    public static final String UNLABELLED = "(unlabelled)";

    private static final Comparator<ImageRecord> ORDER = Comparator.comparing(ImageRecord::split)
            .thenComparing(ImageRecord::label).thenComparing(ImageRecord::fileName);

    private static DataIssue.Kind kindOf(ImageFileCheck.Result c) {
        String p = c.problem();
        if (p.startsWith("empty")) {
            return DataIssue.Kind.EMPTY_FILE;
        }
        if (p.startsWith("truncated")) {
            return DataIssue.Kind.TRUNCATED;
        }
        if (p.startsWith("cannot be read")) {
            return DataIssue.Kind.UNREADABLE;
        }
        return DataIssue.Kind.NOT_AN_IMAGE;
    }

    /**
     * "class" (holds image files), "split" (holds folders that hold files) or "empty". A folder holding both is
     * judged by what dominates: more images than image-holding sub-folders makes it a class folder with stray
     * sub-folders (each reported when indexed), otherwise a split folder with stray files.
     */
    private static String folderKind(Path d) {
        List<Path> kids = children(d);
        long images = kids.stream().filter(p -> Files.isRegularFile(p) && hasImageExtension(p)).count();
        List<Path> folders = kids.stream().filter(p -> Files.isDirectory(p) && !hidden(p) && !osFolder(p)).toList();
        if (images > 0 && !folders.isEmpty()) {
            long classLike = folders.stream().filter(f -> children(f).stream()
                    .anyMatch(p -> Files.isRegularFile(p) && hasImageExtension(p))).count();
            return images > classLike ? "class" : "split";
        }
        return images > 0 ? "class" : !folders.isEmpty() ? "split" : "empty";
    }

    /** Folders an operating system or archiver adds, never data: macOS zips' {@code __MACOSX}, Windows' recycle bin. */
    static final Set<String> OS_FOLDERS = Set.of("__MACOSX", "$RECYCLE.BIN", "System Volume Information", "lost+found");

    private static boolean osFolder(Path p) {
        return OS_FOLDERS.contains(p.getFileName().toString());
    }

    private static DataIssue osIssue(Path f) {
        return new DataIssue(f, DataIssue.Kind.OS_METADATA, "a folder the operating system or an archiver added (e.g. a zip "
                + "made on macOS), not part of the data", "ignored");
    }

    /** The data folders of a folder: not hidden, not OS metadata. */
    private static List<Path> folders(Path dir) {
        return children(dir).stream().filter(Files::isDirectory).filter(p -> !hidden(p) && !osFolder(p)).toList();
    }

    private static void noteOsFolders(Path dir, DataIssues issues) {
        children(dir).stream().filter(Files::isDirectory).filter(ImageIndex::osFolder).forEach(f -> issues.add(osIssue(f)));
    }

    private static String layoutMessage(Path r, List<Path> rootImages, Map<Path, String> kinds) {
        StringBuilder sb = new StringBuilder(r + ": cannot tell this dataset's layout. Expected either "
                + "<root>/<class>/<images> or <root>/<split>/<class>/<images>. Found:");
        if (!rootImages.isEmpty()) {
            sb.append(" ").append(rootImages.size()).append(" image file(s) directly in the root (e.g. ")
              .append(rootImages.get(0).getFileName()).append(");");
        }
        Map<String, List<String>> byKind = new TreeMap<>();
        kinds.forEach((p, k) -> byKind.computeIfAbsent(k, x -> new ArrayList<>()).add(p.getFileName().toString()));
        byKind.forEach((k, v) -> sb.append(" ").append(switch (k) {
            case "class" -> "folders holding images";
            case "split" -> "folders holding sub-folders";
            case "mixed" -> "folders holding both images and sub-folders";
            default -> "empty folders";
        }).append(": ").append(v).append(";"));
        if (kinds.isEmpty() && rootImages.isEmpty()) {
            sb.append(" nothing (the folder is empty).");
        }
        return sb.toString();
    }

    private static List<Path> children(Path dir) {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException("cannot list " + dir + ": " + e.getMessage(), e);
        }
    }

    private static boolean hidden(Path p) {
        return p.getFileName().toString().startsWith(".");
    }

    static boolean hasImageExtension(Path p) {
        String n = p.getFileName().toString();
        int dot = n.lastIndexOf('.');
        return dot >= 0 && IMAGE_EXTENSIONS.contains(n.substring(dot + 1).toLowerCase(Locale.ROOT));
    }

    private static String names(List<Path> ps) {
        return ps.stream().map(p -> p.getFileName().toString()).toList().toString();
    }

    // ------------------------------------------------------------------------------------- access

    /** The dataset (and subset) name, e.g. {@code blood-cells/TRAIN}. */
    public String name() {
        return name;
    }

    public Path root() {
        return root;
    }

    public List<ImageRecord> records() {
        return records;
    }

    public ImageRecord get(int i) {
        return records.get(i);
    }

    public int size() {
        return records.size();
    }

    /** Class names in label-index order. */
    public List<String> classes() {
        return classes;
    }

    /** Problems met while scanning (skipped files, ignored folders). */
    public DataIssues issues() {
        return issues;
    }

    /** The split names present, in sorted order. */
    public List<String> splits() {
        return records.stream().map(ImageRecord::split).distinct().sorted().toList();
    }

    /** Label index of each record, following {@link #classes()}. */
    public int[] labels() {
        Map<String, Integer> idx = new LinkedHashMap<>();
        for (int i = 0; i < classes.size(); i++) {
            idx.put(classes.get(i), i);
        }
        return records.stream().mapToInt(r -> idx.get(r.label())).toArray();
    }

    /** The images of one split; a {@link DatasetException.NoSuchSplit} naming the splits there are if absent. */
    public ImageIndex split(String split) {
        List<ImageRecord> sub = records.stream().filter(r -> r.split().equals(split)).toList();
        if (sub.isEmpty()) {
            throw new DatasetException.NoSuchSplit(name + " has no split '" + split + "'; its splits are " + splits()
                    + (splits().equals(List.of(ImageRecord.NO_SPLIT))
                       ? " (this dataset ships without splits: make one with stratifiedSplit or randomSplit)" : ""));
        }
        return derive(name + "/" + split, sub);
    }

    /** The records matching {@code keep}, under a new name. */
    public ImageIndex filter(String newName, Predicate<ImageRecord> keep) {
        return derive(newName, records.stream().filter(keep).toList());
    }

    /** This index and others as one (for example two datasets with the same classes). */
    public ImageIndex concat(String newName, ImageIndex... others) {
        List<ImageRecord> all = new ArrayList<>(records);
        Set<String> cls = new TreeSet<>(classes);
        for (ImageIndex o : others) {
            all.addAll(o.records);
            cls.addAll(o.classes);
        }
        all.sort(ORDER);
        DataIssues merged = new DataIssues(null);
        merged.addAll(issues);
        for (ImageIndex o : others) {
            merged.addAll(o.issues);
        }
        return new ImageIndex(newName, root, all, new ArrayList<>(cls), merged);
    }

    /**
     * Images held in arrays (one {@link ArrayImages} per split, with the label index of each image) as an
     * index like a scanned folder's: each image is a record named {@code <file>!/<split>/<row>}, whose pixels
     * the loader takes from the array. {@link NpzImages} builds MedMNIST files this way.
     */
    public static ImageIndex fromArrays(String source, Path file, Map<String, ArrayImages> imagesBySplit,
                                        Map<String, int[]> labelsBySplit, List<String> classes) {
        List<ImageRecord> recs = new ArrayList<>();
        for (Map.Entry<String, ArrayImages> e : imagesBySplit.entrySet()) {
            ArrayImages a = e.getValue();
            int[] y = labelsBySplit.get(e.getKey());
            if (y == null || y.length != a.size()) {
                throw new IllegalArgumentException("split " + e.getKey() + ": " + a.size() + " images but "
                        + (y == null ? "no" : y.length) + " labels");
            }
            for (int i = 0; i < a.size(); i++) {
                recs.add(new ImageRecord(file.resolveSibling(file.getFileName() + "!").resolve(e.getKey())
                        .resolve(String.format(Locale.ROOT, "%06d", i)), classes.get(y[i]), e.getKey(), source,
                        ImageFileCheck.Format.ARRAY, a.width(), a.height(), 3, (long) a.width() * a.height() * (a.grayscale() ? 1 : 3),
                        new ArrayImages.Row(a, i)));
            }
        }
        recs.sort(ORDER);
        return new ImageIndex(source, file.toAbsolutePath().getParent(), recs, classes, new DataIssues(file));
    }

    /**
     * Datasets with different class lists as one index over {@code classes}: each part's class names are
     * mapped through {@code mapping} (source name to target name) or, when not in it, taken as they are if
     * they name a target class; names compare case-insensitively. A class that maps to no target class is an
     * error naming it, its dataset, the target classes and the mapping. Every image keeps its split and its
     * {@link ImageRecord#source()}, so results can be broken down by origin.
     *
     * <pre>{@code
     * ImageIndex merged = ImageIndex.merge("bloodmnist + wbc", bloodMnist.classes(),
     *         Map.of("Basophil", "basophil", "Eosinophil", "eosinophil", ...), bloodMnist, wbc);
     * }</pre>
     */
    public static ImageIndex merge(String name, List<String> classes, Map<String, String> mapping, ImageIndex... parts) {
        Map<String, String> target = new LinkedHashMap<>();
        for (String c : classes) {
            if (target.put(c.toLowerCase(Locale.ROOT), c) != null) {
                throw new IllegalArgumentException("the target classes " + classes + " name '" + c + "' twice (ignoring case)");
            }
        }
        Map<String, String> map = new LinkedHashMap<>();
        mapping.forEach((from, to) -> {
            String t = target.get(to.toLowerCase(Locale.ROOT));
            if (t == null) {
                throw new IllegalArgumentException("the mapping sends '" + from + "' to '" + to + "', which is not one of the "
                        + "target classes " + classes);
            }
            map.put(from.toLowerCase(Locale.ROOT), t);
        });
        List<ImageRecord> all = new ArrayList<>();
        DataIssues issues = new DataIssues(null);
        for (ImageIndex part : parts) {
            Map<String, String> resolved = new LinkedHashMap<>();
            for (String c : part.classes()) {
                String key = c.toLowerCase(Locale.ROOT);
                String t = map.containsKey(key) ? map.get(key) : target.get(key);
                if (t == null) {
                    throw new IllegalArgumentException("class '" + c + "' of " + part.name() + " maps to none of the target classes "
                            + classes + ": add it to the mapping " + mapping + " (or leave its images out first)");
                }
                resolved.put(c, t);
            }
            part.records().forEach(r -> all.add(r.withLabel(resolved.get(r.label()))));
            issues.addAll(part.issues());
        }
        all.sort(ORDER);
        Path root = parts.length == 0 ? null : parts[0].root();
        return new ImageIndex(name, root, all, classes, issues);
    }

    /**
     * The same images with another class list, each image's class given by {@code label} (e.g. its source dataset,
     * for a probe that predicts where an image came from). A label not in {@code classes} is an error naming it.
     */
    /**
     * The same images labelled by their source dataset, over {@code sources} (for a probe that tries to tell where an
     * image came from: report 001's shortcut audit, and the comparison's with two sources).
     */
    public ImageIndex bySource(List<String> sources) {
        return relabel(name + " (label: source)", sources, ImageRecord::source);
    }

    public ImageIndex relabel(String newName, List<String> newClasses, java.util.function.Function<ImageRecord, String> label) {
        List<ImageRecord> out = new ArrayList<>(records.size());
        for (ImageRecord r : records) {
            String l = label.apply(r);
            if (!newClasses.contains(l)) {
                throw new IllegalArgumentException(r.path() + " gets the class '" + l + "', which is not one of " + newClasses);
            }
            out.add(r.withLabel(l));
        }
        out.sort(ORDER);
        return new ImageIndex(newName, root, out, newClasses, issues);
    }

    /** The datasets the records came from ({@link ImageRecord#source()}), in sorted order. */
    public List<String> sources() {
        return records.stream().map(ImageRecord::source).distinct().sorted().toList();
    }

    /** Images per class (rows) and source dataset (columns), with a total column. */
    public Table sourceCounts() {
        List<String> sources = sources();
        Table t = Table.create(name + ": images per class and source");
        t.addColumns(StringColumn.create("label", classes));
        int[] total = new int[classes.size()];
        for (String src : sources) {
            int[] col = new int[classes.size()];
            for (ImageRecord r : records) {
                if (r.source().equals(src)) {
                    col[classes.indexOf(r.label())]++;
                }
            }
            for (int i = 0; i < col.length; i++) {
                total[i] += col[i];
            }
            t.addColumns(IntColumn.create(src, col));
        }
        t.addColumns(IntColumn.create("total", total));
        return t;
    }

    private ImageIndex derive(String newName, List<ImageRecord> sub) {
        return new ImageIndex(newName, root, sub, classes, issues);
    }

    // ------------------------------------------------------------------------------------- splits

    /** Two disjoint parts of an index. */
    public record Split(ImageIndex train, ImageIndex validation) {}

    /**
     * A random split (every record equally likely to land in validation), reproducible from the seed:
     * the records, in their sorted order, are shuffled with {@code java.util.Random(seed)}; validation
     * gets {@code ceil((1 - trainFraction) * n)} of them, as scikit-learn's {@code train_test_split(test_size=...)}
     * counts (9,957 images at 0.8 give 7,965 / 1,992, report 002's sizes). This is the kind of split report
     * 002 used; the same membership is not reproducible (scikit-learn's generator and file order differ).
     */
    public Split randomSplit(double trainFraction, long seed) {
        checkFraction(trainFraction);
        List<Integer> order = shuffled(records.size(), seed);
        int nTrain = records.size() - validationCount(trainFraction, records.size());
        return splitBy(order.subList(0, nTrain), order.subList(nTrain, order.size()));
    }

    static int validationCount(double trainFraction, int n) {
        return (int) Math.ceil((1.0 - trainFraction) * n - 1e-9);
    }

    /**
     * A stratified split: each class is shuffled on its own (seeded) and divided in the same
     * proportion, so both parts keep the class balance.
     */
    public Split stratifiedSplit(double trainFraction, long seed) {
        checkFraction(trainFraction);
        List<Integer> train = new ArrayList<>();
        List<Integer> val = new ArrayList<>();
        Random rnd = new Random(seed);
        for (List<Integer> members : byClass().values()) {
            List<Integer> m = new ArrayList<>(members);
            Collections.shuffle(m, rnd);
            int nTrain = (int) Math.round(trainFraction * m.size());
            train.addAll(m.subList(0, nTrain));
            val.addAll(m.subList(nTrain, m.size()));
        }
        return splitBy(train, val);
    }

    /**
     * A split that keeps each group whole (for example the near-copies of one cell): groups are shuffled
     * with {@code Random(seed)} and added to train until it holds {@code trainFraction} of the images, the
     * rest go to validation. {@code groups[i]} is the group of record {@code i}.
     */
    public Split groupedSplit(int[] groups, double trainFraction, long seed) {
        checkFraction(trainFraction);
        if (groups.length != records.size()) {
            throw new IllegalArgumentException(groups.length + " group numbers for " + records.size() + " images");
        }
        Map<Integer, List<Integer>> members = new TreeMap<>();
        for (int i = 0; i < groups.length; i++) {
            members.computeIfAbsent(groups[i], k -> new ArrayList<>()).add(i);
        }
        List<Integer> ids = new ArrayList<>(members.keySet());
        Collections.shuffle(ids, new Random(seed));
        int target = records.size() - validationCount(trainFraction, records.size());
        List<Integer> train = new ArrayList<>();
        List<Integer> val = new ArrayList<>();
        for (int g : ids) {
            (train.size() < target ? train : val).addAll(members.get(g));
        }
        return splitBy(train, val);
    }

    /** Three disjoint parts of an index. */
    public record ThreeWaySplit(ImageIndex train, ImageIndex validation, ImageIndex test) {
        public String describe() {
            return String.format(Locale.ROOT, "train %d, validation %d, test %d", train.size(), validation.size(), test.size());
        }
    }

    /**
     * A stratified three-way split, reproducible from the seed. The part sizes are those of scikit-learn's
     * {@code train_test_split}: validation and test get {@code ceil(fraction x n)} images each, train the rest
     * (33,725 images at 70/15/15 give 23,607 / 5,059 / 5,059, report 001's counts). Each part's images are
     * shared out over the classes in proportion to the class sizes (largest remainders first), and each class is
     * shuffled on its own with {@code Random(seed)} before it is cut.
     */
    public ThreeWaySplit stratifiedSplit(double trainFraction, double validationFraction, double testFraction, long seed) {
        if (!(trainFraction > 0 && validationFraction > 0 && testFraction > 0)
                || Math.abs(trainFraction + validationFraction + testFraction - 1) > 1e-9) {
            throw new IllegalArgumentException("the three fractions must be positive and sum to 1, got " + trainFraction + ", "
                    + validationFraction + ", " + testFraction);
        }
        int n = records.size();
        int nVal = (int) Math.ceil(validationFraction * n - 1e-9);
        int nTest = (int) Math.ceil(testFraction * n - 1e-9);
        Map<String, List<Integer>> byClass = byClass();
        List<String> cls = new ArrayList<>(byClass.keySet());
        int[] sizes = cls.stream().mapToInt(c -> byClass.get(c).size()).toArray();
        int[] test = shareOut(nTest, sizes, sizes);
        int[] left = new int[sizes.length];
        for (int i = 0; i < sizes.length; i++) {
            left[i] = sizes[i] - test[i];
        }
        int[] val = shareOut(nVal, sizes, left);
        List<Integer> tr = new ArrayList<>();
        List<Integer> va = new ArrayList<>();
        List<Integer> te = new ArrayList<>();
        Random rnd = new Random(seed);
        for (int c = 0; c < cls.size(); c++) {
            List<Integer> m = new ArrayList<>(byClass.get(cls.get(c)));
            Collections.shuffle(m, rnd);
            te.addAll(m.subList(0, test[c]));
            va.addAll(m.subList(test[c], test[c] + val[c]));
            tr.addAll(m.subList(test[c] + val[c], m.size()));
        }
        return new ThreeWaySplit(part(" [train]", tr), part(" [validation]", va), part(" [test]", te));
    }

    /**
     * {@code total} shared over classes in proportion to {@code weights} (floors first, then one more to the
     * classes with the largest remainders, in class order on ties), never more than {@code cap} per class.
     */
    static int[] shareOut(int total, int[] weights, int[] cap) {
        long sum = 0;
        for (int w : weights) {
            sum += w;
        }
        int[] out = new int[weights.length];
        double[] rem = new double[weights.length];
        int given = 0;
        for (int i = 0; i < weights.length; i++) {
            double exact = sum == 0 ? 0 : (double) total * weights[i] / sum;
            out[i] = Math.min(cap[i], (int) Math.floor(exact));
            rem[i] = exact - Math.floor(exact);
            given += out[i];
        }
        while (given < total) {
            int best = -1;
            for (int i = 0; i < weights.length; i++) {
                if (out[i] < cap[i] && (best < 0 || rem[i] > rem[best])) {
                    best = i;
                }
            }
            if (best < 0) {
                throw new IllegalArgumentException("cannot take " + total + " images from classes of sizes " + Arrays.toString(cap));
            }
            out[best]++;
            rem[best] = -1 + rem[best]; // each class gets at most one extra before the others get theirs
            given++;
        }
        return out;
    }

    /** The rest of an index and a test part held out from it. */
    public record Holdout(ImageIndex rest, ImageIndex test) {}

    /**
     * A balanced test set: exactly {@code perClass} images of every class (chosen at random, seeded), the rest
     * kept with their imbalance. Report 003 tested this way so that every class weighs the same in the test
     * numbers. A class with {@code perClass} images or fewer is an error naming it.
     */
    public Holdout balancedTestSplit(int perClass, long seed) {
        if (perClass <= 0) {
            throw new IllegalArgumentException("perClass must be positive, got " + perClass);
        }
        Map<String, List<Integer>> byClass = byClass();
        for (String c : classes) {
            int have = byClass.getOrDefault(c, List.of()).size();
            if (have <= perClass) {
                throw new IllegalArgumentException("class '" + c + "' of " + name + " has " + have + " images, not more than the "
                        + perClass + " a balanced test set takes from every class: choose a smaller perClass");
            }
        }
        Random rnd = new Random(seed);
        List<Integer> rest = new ArrayList<>();
        List<Integer> test = new ArrayList<>();
        for (List<Integer> members : byClass.values()) {
            List<Integer> m = new ArrayList<>(members);
            Collections.shuffle(m, rnd);
            test.addAll(m.subList(0, perClass));
            rest.addAll(m.subList(perClass, m.size()));
        }
        return new Holdout(part(" [rest]", rest), part(" [balanced test]", test));
    }

    private ImageIndex part(String suffix, List<Integer> idx) {
        return derive(name + suffix, idx.stream().sorted().map(records::get).toList());
    }

    /** At most {@code perClass} images of each class, chosen at random (seeded); for quick runs. */
    public ImageIndex stratifiedSample(int perClass, long seed) {
        if (perClass <= 0) {
            throw new IllegalArgumentException("perClass must be positive, got " + perClass);
        }
        Random rnd = new Random(seed);
        List<ImageRecord> keep = new ArrayList<>();
        for (List<Integer> members : byClass().values()) {
            List<Integer> m = new ArrayList<>(members);
            Collections.shuffle(m, rnd);
            m.subList(0, Math.min(perClass, m.size())).forEach(i -> keep.add(records.get(i)));
        }
        keep.sort(ORDER);
        return derive(name + " (" + perClass + "/class sample)", keep);
    }

    /**
     * A random sample (seeded) with its own size for each class: {@code perClass.get(label)} images of each
     * class named (all of them if it has fewer); classes not named are left out.
     */
    public ImageIndex sample(Map<String, Integer> perClass, long seed) {
        Random rnd = new Random(seed);
        List<ImageRecord> keep = new ArrayList<>();
        for (Map.Entry<String, List<Integer>> e : byClass().entrySet()) {
            Integer want = perClass.get(e.getKey());
            if (want == null) {
                continue;
            }
            if (want < 0) {
                throw new IllegalArgumentException("negative sample size for " + e.getKey());
            }
            List<Integer> m = new ArrayList<>(e.getValue());
            Collections.shuffle(m, rnd);
            m.subList(0, Math.min(want, m.size())).forEach(i -> keep.add(records.get(i)));
        }
        keep.sort(ORDER);
        return derive(name + " (sample " + perClass + ")", keep);
    }

    private Map<String, List<Integer>> byClass() {
        Map<String, List<Integer>> m = new TreeMap<>();
        for (int i = 0; i < records.size(); i++) {
            m.computeIfAbsent(records.get(i).label(), k -> new ArrayList<>()).add(i);
        }
        return m;
    }

    private static List<Integer> shuffled(int n, long seed) {
        List<Integer> order = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            order.add(i);
        }
        Collections.shuffle(order, new Random(seed));
        return order;
    }

    private Split splitBy(List<Integer> trainIdx, List<Integer> valIdx) {
        List<ImageRecord> tr = trainIdx.stream().sorted().map(records::get).toList();
        List<ImageRecord> va = valIdx.stream().sorted().map(records::get).toList();
        return new Split(derive(name + " [train]", tr), derive(name + " [validation]", va));
    }

    private static void checkFraction(double f) {
        if (!(f > 0 && f < 1)) {
            throw new IllegalArgumentException("train fraction must be strictly between 0 and 1, got " + f);
        }
    }

    // ------------------------------------------------------------------------------------- tables

    /** One row per image. Paths are relative to {@link #root()}. */
    public Table table() {
        return Table.create(name,
                StringColumn.create("path", records.stream().map(r -> relative(r.path())).toList()),
                StringColumn.create("label", records.stream().map(ImageRecord::label).toList()),
                StringColumn.create("split", records.stream().map(ImageRecord::split).toList()),
                StringColumn.create("source", records.stream().map(ImageRecord::source).toList()),
                StringColumn.create("format", records.stream().map(r -> r.format().name()).toList()),
                IntColumn.create("width", records.stream().mapToInt(ImageRecord::width).toArray()),
                IntColumn.create("height", records.stream().mapToInt(ImageRecord::height).toArray()),
                IntColumn.create("channels", records.stream().mapToInt(ImageRecord::channels).toArray()),
                LongColumn.create("bytes", records.stream().mapToLong(ImageRecord::bytes).toArray()));
    }

    /** Images per class (rows) and split (columns), with a total column. */
    public Table classCounts() {
        List<String> splits = splits();
        Table t = Table.create(name + ": images per class");
        t.addColumns(StringColumn.create("label", classes));
        Map<String, Map<String, Integer>> counts = new TreeMap<>();
        for (ImageRecord r : records) {
            counts.computeIfAbsent(r.split(), k -> new TreeMap<>()).merge(r.label(), 1, Integer::sum);
        }
        int[] total = new int[classes.size()];
        for (String s : splits) {
            int[] col = new int[classes.size()];
            for (int i = 0; i < classes.size(); i++) {
                col[i] = counts.getOrDefault(s, Map.of()).getOrDefault(classes.get(i), 0);
                total[i] += col[i];
            }
            t.addColumns(IntColumn.create(s, col));
        }
        if (splits.size() > 1) {
            t.addColumns(IntColumn.create("total", total));
        }
        return t;
    }

    private String relative(Path p) {
        return p.startsWith(root) ? root.relativize(p).toString() : p.toString();
    }

    @Override
    public String toString() {
        Set<String> splits = new LinkedHashSet<>(splits());
        return String.format(Locale.ROOT, "%s: %d images, %d classes %s, splits %s; %s", name, size(),
                classes.size(), classes, splits, issues.isEmpty() ? "no problems found"
                        : issues.all().size() + " issue(s): " + issues.summary(0));
    }

    @Override
    public Map<String, Object> mimeBundle() {
        return Map.of("text/plain", toString() + "\n" + classCounts().print(),
                "text/html", "<p>" + Tables.escape(toString()) + "</p>" + Tables.html(classCounts(), 0));
    }
}

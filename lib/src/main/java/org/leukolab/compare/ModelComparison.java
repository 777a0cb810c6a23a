package org.leukolab.compare;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.stream.Collectors;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.leukolab.balancing.ClassBalancer;
import org.leukolab.data.DatasetCatalog;
import org.leukolab.data.ImageIndex;
import org.leukolab.data.ImageLoader;
import org.leukolab.data.ImageRecord;
import org.leukolab.data.Interpolation;
import org.leukolab.data.LoadedImages;
import org.leukolab.evaluation.Bootstrap;
import org.leukolab.evaluation.Experiment;
import org.leukolab.evaluation.Labels;
import org.leukolab.evaluation.NearDuplicates;
import org.leukolab.evaluation.Outliers;
import org.leukolab.evaluation.PairedComparison;
import org.leukolab.evaluation.Predictions;
import org.leukolab.evaluation.Repeats;
import org.leukolab.metrics.Metric;
import org.leukolab.models.CustomCnns;
import org.leukolab.models.Optimizer;
import org.leukolab.models.RandomForestBaseline;
import org.leukolab.models.backbones.Backbone;
import org.leukolab.models.backbones.Backbones;
import org.leukolab.models.backbones.FeatureCache;
import org.leukolab.models.backbones.FeatureSpeed;
import org.leukolab.models.backbones.Freeze;
import org.leukolab.models.backbones.Head;
import org.leukolab.models.backbones.Transfer;
import org.leukolab.notebook.Tables;
import org.leukolab.plots.Figure;
import org.leukolab.plots.Montage;
import org.leukolab.system.AtomicFiles;
import org.leukolab.system.Profile;
import org.leukolab.system.RunInfo;
import org.leukolab.training.Batches;
import org.leukolab.training.EarlyStopping;
import org.leukolab.training.ImageBatches;
import org.leukolab.training.Network;
import org.nd4j.linalg.dataset.DataSet;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * The whole comparison on any folder of labelled images (one folder per class; optionally a second source folder):
 * the data is audited first (the loader's issues, class balance, image sizes, exact and near duplicates within and
 * across the split, outliers, and with two sources whether the source can be told from the pixels), then the models
 * are compared under one split: a Random Forest on pixels, report 000's small CNN sized to the input, a head on every
 * backbone with real ImageNet weights on this machine, their ensemble, and the best one fine-tuned; macro F1, accuracy
 * and AUC with bootstrap intervals, McNemar's test for the pairs that matter, and the spread over seeds of the heads.
 * Each model's cost is measured on its first batches before it runs, and a model that would not fit in the time
 * budget is left out, with the reason.
 *
 * <pre>{@code
 * var cmp = ModelComparison.prepare(ModelComparison.Settings.of(Path.of("my-cells")).size(96).budgetMinutes(20));
 * cmp.audits();      // the data's problems, in plain language, with pictures
 * cmp.run();         // trains what fits in the budget (resumable: checkpoints under the output folder)
 * cmp.table();       // the models compared
 * cmp.write();       // compare.json for the page (./leukolab compare renders it)
 * }</pre>
 *
 * Everything is recorded under {@code settings.out()}: results, checkpoints and {@code compare.json}.
 */
public final class ModelComparison {
    private static final Logger LOG = LoggerFactory.getLogger(ModelComparison.class);
    /** Classes with fewer images cannot give every split part an image and are left out (with a problem audit). */
    public static final int MIN_IMAGES_PER_CLASS = 10;
    /** Cosine similarity of embeddings at or above which two images count as near-copies (report 002's audit). */
    public static final double NEAR_COPY_SIMILARITY = 0.95;
    /** The smallest input the small CNN (five stride-2 convolutions) and the backbones accept. */
    public static final int MIN_SIZE = 32;
    /** The Random Forest's pixels: every image at this side (a forest on full-size pixels takes hours). */
    public static final int FOREST_SIZE = 32;
    public static final int BATCH = 32;

    /** The models the comparison can train, in the order they are tried. */
    public enum Model {
        HEADS("heads"), RANDOM_FOREST("random-forest"), ENSEMBLE("ensemble"), SMALL_CNN("small-cnn"), FINE_TUNE("fine-tune"),
        REPEATS("repeats");

        private final String id;

        Model(String id) {
            this.id = id;
        }

        public String id() {
            return id;
        }

        public static Model of(String id) {
            for (Model m : values()) {
                if (m.id.equalsIgnoreCase(id.trim())) {
                    return m;
                }
            }
            throw new IllegalArgumentException("unknown model '" + id + "'; one of "
                    + Arrays.stream(values()).map(Model::id).toList());
        }
    }

    /** How to split: stratified, grouped by near-copies, or grouped only if near-copies cross a stratified split. */
    public enum SplitChoice { AUTO, STRATIFIED, GROUPED }

    /**
     * The knobs. {@link #of} gives the defaults: 96x96, every model, seeds {@link Repeats#seeds} of the profile, a budget
     * of 10 minutes (quick) or 120 (full), outliers kept (flagged), the split grouped when near-copies would cross it,
     * output in {@code build/compare/<folder name>}.
     */
    public record Settings(Path folder, Path secondFolder, Map<String, String> mapping, int size, Set<Model> models, List<Long> seeds,
                           double budgetMinutes, Path out, boolean removeOutliers, SplitChoice split, long seed, Profile profile) {
        public static Settings of(Path folder) {
            Profile p = Profile.current();
            Path abs = folder.toAbsolutePath().normalize();
            return new Settings(abs, null, Map.of(), 96, new LinkedHashSet<>(Arrays.asList(Model.values())), Repeats.seeds(p),
                    p.pick(10.0, 120.0), org.leukolab.system.Workspace.buildDir().resolve("compare").resolve(name(abs)), false,
                    SplitChoice.AUTO, 1, p);
        }

        public Settings secondSource(Path dir, Map<String, String> classMapping) {
            return new Settings(folder, dir == null ? null : dir.toAbsolutePath().normalize(), Map.copyOf(classMapping), size, models,
                    seeds, budgetMinutes, out, removeOutliers, split, seed, profile);
        }

        public Settings size(int side) {
            return new Settings(folder, secondFolder, mapping, side, models, seeds, budgetMinutes, out, removeOutliers, split, seed, profile);
        }

        public Settings models(Model... chosen) {
            return new Settings(folder, secondFolder, mapping, size, new LinkedHashSet<>(Arrays.asList(chosen)), seeds, budgetMinutes, out,
                    removeOutliers, split, seed, profile);
        }

        public Settings seeds(List<Long> s) {
            return new Settings(folder, secondFolder, mapping, size, models, List.copyOf(s), budgetMinutes, out, removeOutliers, split, seed,
                    profile);
        }

        public Settings budgetMinutes(double minutes) {
            return new Settings(folder, secondFolder, mapping, size, models, seeds, minutes, out, removeOutliers, split, seed, profile);
        }

        public Settings out(Path dir) {
            return new Settings(folder, secondFolder, mapping, size, models, seeds, budgetMinutes, dir.toAbsolutePath().normalize(),
                    removeOutliers, split, seed, profile);
        }

        public Settings removeOutliers(boolean remove) {
            return new Settings(folder, secondFolder, mapping, size, models, seeds, budgetMinutes, out, remove, split, seed, profile);
        }

        public Settings split(SplitChoice choice) {
            return new Settings(folder, secondFolder, mapping, size, models, seeds, budgetMinutes, out, removeOutliers, choice, seed, profile);
        }

        /** The name of the results ({@code compare-<out folder's name>}). */
        public String name() {
            return "compare-" + out.getFileName();
        }

        private static String name(Path folder) {
            return folder.getFileName() == null ? "images" : folder.getFileName().toString().replaceAll("[^A-Za-z0-9._-]+", "-");
        }
    }

    /** One trained model: its name, kind, weights, test predictions, seconds taken, and a note. */
    public record Result(String name, String kind, String weights, Predictions test, double seconds, String note) {}

    /** A model left out, and why. */
    public record Dropped(String model, String reason) {}

    private final Settings settings;
    private final ImageIndex index;
    private final String dataKind;
    private final List<Audit> audits = new ArrayList<>();
    private final List<String> leftOutClasses = new ArrayList<>();
    private final long start = System.nanoTime();
    private final Experiment exp;
    private LoadedImages images;
    private Backbone embedder;
    private DataSet embeddings;
    private ImageIndex.ThreeWaySplit split;
    private String splitKind;
    private final List<Result> results = new ArrayList<>();
    private final List<Dropped> dropped = new ArrayList<>();
    private final Map<String, Repeats> repeats = new LinkedHashMap<>();
    private final Map<String, DataSet> features = new LinkedHashMap<>();
    private final Map<String, Experiment.Run> headRuns = new LinkedHashMap<>();
    private final Map<String, Extractor> extractors = new LinkedHashMap<>();
    private List<Map<String, Object>> modelRows;

    private ModelComparison(Settings settings, ImageIndex index, String dataKind) {
        this.settings = settings;
        this.index = index;
        this.dataKind = dataKind;
        this.exp = Experiment.of(settings.name()).data(describeFolders(settings), dataKind).storeIn(settings.out());
    }

    /**
     * Indexes the folder (and the second source), checks that a comparison can be made, and leaves out classes too small
     * to split; a clear error names the folder and what to do when it cannot.
     */
    public static ModelComparison prepare(Settings s) {
        if (s.size() < MIN_SIZE) {
            throw new IllegalArgumentException("image size " + s.size() + " is too small: the small CNN and the backbones need at least "
                    + MIN_SIZE + "x" + MIN_SIZE + " (96 is the default)");
        }
        ImageIndex first = ImageIndex.scan(s.folder(), name(s.folder()));
        ImageIndex all = first;
        if (s.secondFolder() != null) {
            ImageIndex second = ImageIndex.scan(s.secondFolder(), name(s.secondFolder()));
            if (name(s.secondFolder()).equals(name(s.folder()))) {
                throw new IllegalArgumentException("the two sources have the same folder name (" + name(s.folder()) + "); "
                        + "the shortcut audit tells them apart by name: rename one");
            }
            Set<String> firstLower = first.classes().stream().map(c -> c.toLowerCase(Locale.ROOT)).collect(Collectors.toSet());
            List<String> unmatched = second.classes().stream()
                    .filter(c -> !firstLower.contains(c.toLowerCase(Locale.ROOT)) && !s.mapping().containsKey(c)).toList();
            if (!unmatched.isEmpty()) {
                throw new IllegalArgumentException(s.secondFolder() + ": class folder(s) " + unmatched + " match none of the classes of "
                        + s.folder() + " " + first.classes() + ". Say which class each one is, e.g. --map '" + unmatched.get(0) + "="
                        + first.classes().get(0) + "' (in a notebook: settings.secondSource(dir, Map.of(\"" + unmatched.get(0) + "\", \""
                        + first.classes().get(0) + "\"))), or move those folders out of the second source");
            }
            all = ImageIndex.merge(name(s.folder()) + " + " + name(s.secondFolder()), first.classes(), s.mapping(), first, second);
        }
        if (!all.splits().isEmpty() && !all.splits().equals(List.of(ImageRecord.NO_SPLIT))) {
            throw new IllegalArgumentException(s.folder() + " is organised in split folders " + all.splits() + "; the comparison makes "
                    + "its own split (and checks it for near-copies), so point it at a folder whose sub-folders are the classes "
                    + "(e.g. " + s.folder().resolve(all.splits().get(0)) + ")");
        }
        if (all.classes().size() < 2) {
            throw new IllegalArgumentException(s.folder() + " holds one class folder (" + all.classes() + "); a comparison needs at least "
                    + "two. Put each class's images in its own folder: " + s.folder() + "/<class>/<image>.jpg");
        }
        Map<String, Long> counts = all.records().stream().collect(Collectors.groupingBy(ImageRecord::label, TreeMap::new,
                Collectors.counting()));
        List<String> small = counts.entrySet().stream().filter(e -> e.getValue() < MIN_IMAGES_PER_CLASS).map(Map.Entry::getKey).toList();
        if (counts.size() - small.size() < 2) {
            throw new IllegalArgumentException(s.folder() + ": only " + (counts.size() - small.size()) + " class(es) have at least "
                    + MIN_IMAGES_PER_CLASS + " images (" + counts + "); a comparison needs two or more. Add images to the small classes.");
        }
        ImageIndex kept = all;
        if (!small.isEmpty()) {
            List<String> keptClasses = all.classes().stream().filter(c -> !small.contains(c)).toList();
            kept = all.filter(all.name(), r -> !small.contains(r.label())).relabel(all.name(), keptClasses, ImageRecord::label);
        }
        ModelComparison c = new ModelComparison(s, kept, dataKindOf(s));
        c.leftOutClasses.addAll(small.stream().map(x -> x + " (" + counts.get(x) + ")").toList());
        return c;
    }

    private static String name(Path folder) {
        return folder.getFileName() == null ? folder.toString() : folder.getFileName().toString();
    }

    private static String describeFolders(Settings s) {
        return s.folder() + (s.secondFolder() == null ? "" : ", " + s.secondFolder());
    }

    /**
     * What the data is: a catalog dataset's kind ({@code sample}, {@code stand-in}) when the folder is one (an installed
     * copy, or a mirror's folder of the same name), else {@code full} (the user's own images).
     */
    static String dataKindOf(Settings s) {
        Set<String> kinds = new LinkedHashSet<>();
        for (Path f : s.secondFolder() == null ? List.of(s.folder()) : List.of(s.folder(), s.secondFolder())) {
            kinds.add(catalogKind(f));
        }
        boolean sample = kinds.contains("sample");
        boolean standin = kinds.contains("stand-in");
        return sample && standin ? "sample + stand-in" : standin ? "stand-in" : sample ? "sample" : "full";
    }

    private static String catalogKind(Path folder) {
        DatasetCatalog catalog = DatasetCatalog.standard();
        String id = name(folder);
        Path marker = folder.resolve(DatasetCatalog.INSTALL_MARKER);
        if (Files.isRegularFile(marker)) {
            try {
                var o = com.google.gson.JsonParser.parseString(Files.readString(marker)).getAsJsonObject();
                if (o.has("id")) {
                    id = o.get("id").getAsString();
                }
            } catch (IOException | RuntimeException e) {
                LOG.warn("{}: cannot read it ({}); the data kind is taken from the folder's name", marker, e.getMessage());
            }
        }
        if (!catalog.ids().contains(id)) {
            return "full";
        }
        var spec = catalog.spec(id);
        return spec.isSample() ? "sample" : spec.isStandin() ? "stand-in" : "full";
    }

    public Settings settings() {
        return settings;
    }

    /** The images compared (after classes too small to split were left out). */
    public ImageIndex index() {
        return index;
    }

    /** {@code full}, {@code sample} or {@code stand-in}: recorded with every result and shown in every title. */
    public String dataKind() {
        return dataKind;
    }

    private String tag() {
        return dataKind.equals("full") ? "" : " [" + dataKind + "]";
    }

    // ------------------------------------------------------------------------------------------ audits

    /**
     * Runs the audits (once) and decides the split: the loader's issues, classes left out, class balance, image sizes,
     * exact and near duplicates within and across the split, outliers, and with two sources the shortcut probe.
     */
    public Audit.Summary audits() {
        if (split != null) {
            return new Audit.Summary(audits);
        }
        ImageLoader loader = ImageLoader.builder().size(settings.size()).interpolation(Interpolation.BICUBIC).build();
        images = loader.load(index);
        embedder = Backbones.imagenetOrRandom(Backbones.mobileNetV2(0.5, settings.size(), false));
        embeddings = FeatureCache.pooledFeatures(embedder, images);
        audits.add(dataIssues());
        audits.add(balance());
        audits.add(sizes());
        if (!embedder.pretrained()) {
            audits.add(new Audit("outliers (report 003's detector)", Audit.Level.WARNING, "not run: the embedder (MobileNetV2 0.5) has no "
                    + "ImageNet file here, and distances between random-weight embeddings say nothing about the images",
                    List.of("install it: ./leukolab fetch weights-mobilenetv2-0.5-224-notop", "embeddings: " + embedder), null));
            audits.add(duplicates());
            if (settings.secondFolder() != null) {
                audits.add(shortcut());
            }
            return new Audit.Summary(audits);
        }
        Outliers.Result outliers = Outliers.detect(embeddings.getFeatures(), images.index());
        audits.add(outlierAudit(outliers));
        if (settings.removeOutliers() && outliers.count() > 0) {
            ImageIndex cleaned = outliers.kept();
            images = images.subset(images.positionsOf(cleaned));
            embeddings = FeatureCache.pooledFeatures(embedder, images);
        }
        audits.add(duplicates());
        if (settings.secondFolder() != null) {
            audits.add(shortcut());
        }
        return new Audit.Summary(audits);
    }

    private Audit dataIssues() {
        var issues = new org.leukolab.data.DataIssues(index.root());
        issues.addAll(index.issues());
        issues.addAll(images.issues());
        List<String> details = new ArrayList<>();
        if (!leftOutClasses.isEmpty()) {
            details.add("left out: class(es) " + leftOutClasses + " with fewer than " + MIN_IMAGES_PER_CLASS + " images, too few to "
                    + "put some in training, validation and test. Add images to them (or remove the folders to silence this).");
        }
        issues.all().stream().limit(20).forEach(i -> details.add(i.toString()));
        if (issues.all().size() > 20) {
            details.add("... and " + (issues.all().size() - 20) + " more (index.issues() lists them all)");
        }
        if (issues.isEmpty() && leftOutClasses.isEmpty()) {
            return new Audit("the data's own problems", Audit.Level.OK, "every file is a readable image in a class folder", details, null);
        }
        Audit.Level level = leftOutClasses.isEmpty() ? Audit.Level.WARNING : Audit.Level.PROBLEM;
        String verdict = (issues.isEmpty() ? "" : issues.all().size() + " file(s) skipped, converted or flagged by the loader"
                + (leftOutClasses.isEmpty() ? "" : "; ")) + (leftOutClasses.isEmpty() ? "" : leftOutClasses.size()
                + " class(es) left out: too few images");
        return new Audit("the data's own problems", level, verdict, details, keptButFlagged(issues));
    }

    /** A montage of the images the loader kept but flagged (converted, decoded with a warning), or null if none. */
    private Figure keptButFlagged(org.leukolab.data.DataIssues issues) {
        Map<Path, String> flagged = new LinkedHashMap<>();
        issues.all().stream().filter(i -> !"skipped".equals(i.action()) && !"ignored".equals(i.action()) && i.file() != null)
                .forEach(i -> flagged.putIfAbsent(i.file().toAbsolutePath().normalize(), i.kind().toString()));
        List<java.awt.image.BufferedImage> pics = new ArrayList<>();
        List<String> captions = new ArrayList<>();
        for (int i = 0; i < images.size() && pics.size() < 16; i++) {
            String kind = flagged.get(images.index().get(i).path().toAbsolutePath().normalize());
            if (kind != null) {
                pics.add(images.image(i));
                captions.add(kind + ": " + images.index().get(i).fileName());
            }
        }
        return pics.isEmpty() ? null : Montage.grid("kept but flagged by the loader" + tag(), pics, captions, 8, 96);
    }

    private Audit balance() {
        Map<String, Integer> counts = classCounts(images.index());
        int max = counts.values().stream().mapToInt(Integer::intValue).max().orElse(0);
        int min = counts.values().stream().mapToInt(Integer::intValue).min().orElse(0);
        double ratio = (double) max / Math.max(1, min);
        List<String> details = List.of("images per class: " + counts,
                "macro F1 (every class counts the same) is the headline metric; the heads and the CNN use balanced class weights");
        Audit.Level level = ratio > 3 ? Audit.Level.WARNING : Audit.Level.OK;
        String verdict = String.format(Locale.ROOT, "%d classes, %d to %d images each (largest / smallest = %.1f)%s", counts.size(), min, max,
                ratio, ratio > 3 ? ": imbalanced; accuracy alone would flatter a model that favours the large classes" : "");
        return new Audit("class balance", level, verdict, details, Montage.perClass(images, 4, settings.seed()));
    }

    private static Map<String, Integer> classCounts(ImageIndex idx) {
        Map<String, Integer> m = new LinkedHashMap<>();
        idx.classes().forEach(c -> m.put(c, 0));
        idx.records().forEach(r -> m.merge(r.label(), 1, Integer::sum));
        return m;
    }

    private Audit sizes() {
        Map<String, Long> bySize = index.records().stream().collect(Collectors.groupingBy(r -> r.width() + "x" + r.height(), TreeMap::new,
                Collectors.counting()));
        double minAspect = index.records().stream().mapToDouble(r -> (double) r.width() / r.height()).min().orElse(1);
        double maxAspect = index.records().stream().mapToDouble(r -> (double) r.width() / r.height()).max().orElse(1);
        String target = settings.size() + "x" + settings.size();
        List<String> details = new ArrayList<>();
        bySize.entrySet().stream().sorted(Map.Entry.<String, Long>comparingByValue().reversed()).limit(8)
                .forEach(e -> details.add(e.getKey() + ": " + e.getValue() + " image(s)"));
        if (bySize.size() > 8) {
            details.add("... " + (bySize.size() - 8) + " more sizes");
        }
        boolean squashed = maxAspect / minAspect > 1.1 || Math.abs(Math.log(maxAspect)) > Math.log(1.1);
        Map<String, String> commonest = commonestSizeBy(ImageRecord::label);
        boolean byClass = new HashSet<>(commonest.values()).size() > 1;
        if (byClass) {
            details.add("the commonest size differs between classes: " + commonest + "; resizing leaves traces (sharpness, "
                    + "interpolation artefacts) a model can learn instead of the cells: compare per size, or make the sizes alike");
            return new Audit("image sizes", Audit.Level.WARNING, bySize.size() + " different sizes, and the size goes with the class; "
                    + "every image is resized to " + target + " (bicubic)", details, null);
        }
        if (bySize.size() == 1) {
            return new Audit("image sizes", squashed ? Audit.Level.WARNING : Audit.Level.OK, "every image is " + bySize.keySet().iterator().next()
                    + "; resized to " + target + " (bicubic)" + (squashed ? ", which changes its shape (not square)" : ""), details, null);
        }
        return new Audit("image sizes", squashed ? Audit.Level.WARNING : Audit.Level.OK, String.format(Locale.ROOT,
                "%d different sizes; every image is resized to %s (bicubic)%s", bySize.size(), target, squashed ? String.format(Locale.ROOT,
                        ", so shapes change (width/height from %.2f to %.2f): if the size differs by class, a model can learn it "
                                + "instead of the cells", minAspect, maxAspect) : ""), details, null);
    }

    /** For each class (or source), its commonest image size. */
    private Map<String, String> commonestSizeBy(java.util.function.Function<ImageRecord, String> key) {
        Map<String, Map<String, Long>> counts = index.records().stream().collect(Collectors.groupingBy(key, TreeMap::new,
                Collectors.groupingBy(r -> r.width() + "x" + r.height(), Collectors.counting())));
        Map<String, String> out = new LinkedHashMap<>();
        counts.forEach((k, sizes) -> out.put(k, sizes.entrySet().stream().max(Map.Entry.<String, Long>comparingByValue()
                .thenComparing(Map.Entry.comparingByKey())).orElseThrow().getKey()));
        return out;
    }

    private Audit outlierAudit(Outliers.Result r) {
        int[] flagged = r.flaggedPositions();
        List<String> details = new ArrayList<>();
        for (Outliers.Rule rule : Outliers.Rule.values()) {
            details.add(rule + ": " + r.count(rule));
        }
        details.add(settings.removeOutliers() ? "removed before the split (removeOutliers)"
                : "kept: look at them, and set removeOutliers (--remove-outliers) to leave them out");
        details.add("embeddings: " + embedder);
        if (flagged.length == 0) {
            return new Audit("outliers (report 003's detector)", Audit.Level.OK, "no image stands apart from its class", details, null);
        }
        int[] shown = Arrays.copyOf(flagged, Math.min(16, flagged.length));
        List<java.awt.image.BufferedImage> pics = new ArrayList<>();
        List<String> captions = new ArrayList<>();
        for (int i : shown) {
            pics.add(images.image(i));
            captions.add(images.index().get(i).label() + ": " + images.index().get(i).fileName());
        }
        double share = (double) flagged.length / images.size();
        return new Audit("outliers (report 003's detector)", share > 0.02 ? Audit.Level.PROBLEM : Audit.Level.WARNING,
                String.format(Locale.ROOT, "%d image(s) (%.1f%%) stand apart from their class: non-cells, mislabels or near-copies",
                        flagged.length, 100 * share), details,
                Montage.grid("flagged outliers" + tag() + " (first " + shown.length + ")", pics, captions, 8, 96));
    }

    private Audit duplicates() {
        int n = images.size();
        int[] exactGroup = exactGroups();
        long exactCopies = n - Arrays.stream(exactGroup).distinct().count();
        // near-copies need meaningful embeddings; with a random-weight embedder only exact copies are grouped
        int[] groups = embedder.pretrained() ? NearDuplicates.of(embeddings.getFeatures()).groups(NEAR_COPY_SIMILARITY) : exactGroup;
        long nearCopies = n - Arrays.stream(groups).distinct().count();
        ImageIndex.ThreeWaySplit stratified = images.index().stratifiedSplit(0.70, 0.15, 0.15, settings.seed());
        int crossing = crossing(images.index(), stratified, groups);
        boolean group = settings.split() == SplitChoice.GROUPED || (settings.split() == SplitChoice.AUTO && crossing > 0);
        List<String> details = new ArrayList<>();
        if (group) {
            ImageIndex.ThreeWaySplit grouped = groupedSplit(images.index(), groups, settings.seed());
            if (grouped.train().size() == 0 || grouped.validation().size() == 0 || grouped.test().size() == 0) {
                group = false; // one group too large to leave room for the other parts
                details.add("a split by groups of copies would leave a part empty (" + grouped.describe() + "): one group holds too "
                        + "many images; the split is stratified instead, and its scores are optimistic");
            } else {
                split = grouped;
            }
        }
        if (!group) {
            split = stratified;
        }
        splitKind = group ? "grouped by " + (embedder.pretrained() ? "near-copies" : "exact copies") + " (70/15/15, seed "
                + settings.seed() + ")" : "stratified (70/15/15, seed " + settings.seed() + ")";
        if (!embedder.pretrained()) {
            details.add("near-copies not judged: the embedder has no ImageNet file here (./leukolab fetch "
                    + "weights-mobilenetv2-0.5-224-notop); only exact copies are grouped");
        }
        details.add(exactCopies + " exact copies (same bytes) and " + nearCopies + " near-copies (cosine similarity of embeddings >= "
                + NEAR_COPY_SIMILARITY + ") beyond the first image of their group");
        details.add("a stratified split would put " + crossing + " validation/test image(s) beside a near-copy in training");
        details.add("split used: " + splitKind + ": " + split.describe());
        if (group) {
            details.add("after grouping, " + crossing(images.index(), split, groups) + " validation/test image(s) have a near-copy in training");
        }
        Figure fig = null;
        if (nearCopies > 0) {
            fig = copiesMontage(groups);
        }
        if (crossing == 0) {
            return new Audit("duplicates and leakage", nearCopies > 0 ? Audit.Level.WARNING : Audit.Level.OK,
                    nearCopies > 0 ? "near-copies exist but none would cross the split" : "no exact or near copies found", details, fig);
        }
        return new Audit("duplicates and leakage", Audit.Level.PROBLEM, crossing + " validation/test image(s) would have a near-copy in "
                + "training under a random split: scores would be inflated. " + (group ? "The split keeps each group of copies on one side."
                : "The split is stratified (see below why): scores are optimistic."), details, fig);
    }

    private int[] exactGroups() {
        Map<String, Integer> first = new HashMap<>();
        int[] g = new int[images.size()];
        for (int i = 0; i < g.length; i++) {
            try {
                byte[] h = MessageDigest.getInstance("SHA-256").digest(Files.readAllBytes(images.index().get(i).path()));
                g[i] = first.computeIfAbsent(java.util.HexFormat.of().formatHex(h), k -> first.size());
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read " + images.index().get(i).path() + " again: " + e.getMessage(), e);
            } catch (java.security.NoSuchAlgorithmException e) {
                throw new IllegalStateException(e);
            }
        }
        return g;
    }

    /**
     * How many validation and test images of {@code s} share a group of near-copies ({@code groups}, one per image of
     * {@code all}) with a training image.
     */
    static int crossing(ImageIndex all, ImageIndex.ThreeWaySplit s, int[] groups) {
        Map<Path, Integer> group = groupsByFile(all, groups);
        Set<Integer> trainGroups = new java.util.HashSet<>();
        s.train().records().forEach(r -> trainGroups.add(group.get(r.path())));
        int count = 0;
        for (ImageIndex part : List.of(s.validation(), s.test())) {
            for (ImageRecord r : part.records()) {
                if (trainGroups.contains(group.get(r.path()))) {
                    count++;
                }
            }
        }
        return count;
    }

    private static Map<Path, Integer> groupsByFile(ImageIndex all, int[] groups) {
        if (groups.length != all.size()) {
            throw new IllegalArgumentException(groups.length + " groups for " + all.size() + " images");
        }
        Map<Path, Integer> m = new HashMap<>();
        for (int i = 0; i < groups.length; i++) {
            m.put(all.get(i).path(), groups[i]);
        }
        return m;
    }

    /**
     * A 70/15/15 split of {@code all} by whole groups of near-copies ({@code groups}, one per image): test first (15%),
     * then validation (15% of the whole) from the rest, so no group has images on two sides.
     */
    static ImageIndex.ThreeWaySplit groupedSplit(ImageIndex all, int[] groups, long seed) {
        Map<Path, Integer> group = groupsByFile(all, groups);
        ImageIndex.Split restTest = all.groupedSplit(groups, 0.85, seed);
        ImageIndex rest = restTest.train();
        int[] restGroups = rest.records().stream().mapToInt(r -> group.get(r.path())).toArray();
        ImageIndex.Split tv = rest.groupedSplit(restGroups, 0.70 / 0.85, seed);
        return new ImageIndex.ThreeWaySplit(tv.train(), tv.validation(), restTest.validation());
    }

    private Figure copiesMontage(int[] groups) {
        Map<Integer, List<Integer>> members = new LinkedHashMap<>();
        for (int i = 0; i < groups.length; i++) {
            members.computeIfAbsent(groups[i], k -> new ArrayList<>()).add(i);
        }
        List<java.awt.image.BufferedImage> pics = new ArrayList<>();
        List<String> captions = new ArrayList<>();
        for (List<Integer> m : members.values()) {
            if (m.size() < 2) {
                continue;
            }
            for (int i : m.subList(0, 2)) {
                pics.add(images.image(i));
                captions.add(images.index().get(i).label() + ": " + images.index().get(i).fileName());
            }
            if (pics.size() >= 16) {
                break;
            }
        }
        return Montage.grid("near-copies, in pairs" + tag(), pics, captions, 8, 96);
    }

    private Audit shortcut() {
        List<String> sources = images.index().sources();
        var bySource = new ImageIndex.ThreeWaySplit(split.train().bySource(sources), split.validation().bySource(sources),
                split.test().bySource(sources));
        var probe = new FeatureHeads(Head.globalAveragePooling().softmax(sources.size()), BATCH, 1e-3, settings.profile().pick(8, 30), 5, true);
        var run = probe.train(exp, "source-probe", embeddings, images, bySource, settings.seed(),
                Experiment.facts(Labels.Protocol.OURS.describe("linear probe: the source folder from frozen embeddings"),
                        Experiment.backboneFacts(embedder, true)));
        double balanced = run.test().macroRecall();
        double chance = 1.0 / sources.size();
        List<String> details = new ArrayList<>();
        details.add(String.format(Locale.ROOT, "a linear probe on %s's embeddings tells the source on the test split with balanced "
                + "accuracy %.3f (chance %.3f)", embedder.architecture(), balanced, chance));
        details.add("images per class and source: " + sourceCounts());
        boolean problem = balanced > chance + (1 - chance) / 2;
        return new Audit("shortcut (source predictable from the pixels)", problem ? Audit.Level.PROBLEM : Audit.Level.OK, problem
                ? "the source can be told from the images: if classes come from the sources in different shares, a model can learn the "
                + "source instead of the cells; compare per source, or balance each class across sources"
                : "the source is hard to tell from the images", details, Montage.bySource(images, 6, settings.seed()));
    }

    private Map<String, Map<String, Integer>> sourceCounts() {
        Map<String, Map<String, Integer>> m = new TreeMap<>();
        images.index().records().forEach(r -> m.computeIfAbsent(r.label(), k -> new TreeMap<>()).merge(r.source(), 1, Integer::sum));
        return m;
    }

    /** The split the models are compared on (after {@link #audits}). */
    public ImageIndex.ThreeWaySplit split() {
        audits();
        return split;
    }

    // ------------------------------------------------------------------------------------------ models

    private int headEpochs() {
        return Profile.epochs(settings.profile().pick(8, 40));
    }

    private int cnnEpochs() {
        return Profile.epochs(settings.profile().pick(4, 40));
    }

    private int fineTuneEpochs() {
        return Profile.epochs(settings.profile().pick(1, 10));
    }

    private double secondsLeft() {
        return settings.budgetMinutes() * 60 - (System.nanoTime() - start) / 1e9;
    }

    /** Whether {@code estimate} seconds fit in what is left of the budget; if not, the model is dropped with the reason. */
    private boolean fits(String model, double estimate) {
        double left = secondsLeft();
        if (estimate <= left) {
            LOG.info("{}: estimated {} s (measured on its first batches); {} s of the budget left", model, Math.round(estimate),
                    Math.round(left));
            return true;
        }
        dropped.add(new Dropped(model, String.format(Locale.ROOT, "estimated %.1f min (measured on its first batches), but %.1f min of "
                + "the %.0f-minute budget were left; raise the budget (--budget) to run it", estimate / 60, Math.max(0, left) / 60,
                settings.budgetMinutes())));
        LOG.warn("{} left out: {}", model, dropped.get(dropped.size() - 1).reason());
        return false;
    }

    /**
     * Seconds for one training step, measured on {@code steps} batches after a warm-up batch, with the fast kernels the
     * trainer will use installed first (without them a convolutional network times tens of times slower than it trains).
     */
    static double secondsPerStep(Network net, Batches train, int steps) {
        org.leukolab.training.Trainer.installFastKernels(net, train, BATCH);
        int n = train.size();
        int[] rows = new int[Math.min(BATCH, n)];
        for (int i = 0; i < rows.length; i++) {
            rows[i] = i;
        }
        net.fit(train.batch(rows));
        long t0 = System.nanoTime();
        for (int s = 0; s < steps; s++) {
            net.fit(train.batch(rows));
        }
        return (System.nanoTime() - t0) / 1e9 / steps;
    }

    private double epochSeconds(double perStep) {
        return perStep * Math.ceil(split.train().size() / (double) BATCH) + perStep * 0.3 * Math.ceil(
                (split.validation().size() + split.test().size()) / (double) BATCH);
    }

    /**
     * Trains every chosen model that fits in the budget, cheapest first: a head on each backbone with ImageNet weights,
     * the Random Forest, the ensemble, the small CNN, fine-tuning of the best head's backbone, and the heads' repeats over
     * seeds. Returns the model table. Rerun, it restores finished runs from their checkpoints.
     */
    public Table run() {
        audits();
        if (!results.isEmpty()) {
            return table();
        }
        Set<Model> want = settings.models();
        if (want.contains(Model.HEADS) || want.contains(Model.ENSEMBLE) || want.contains(Model.FINE_TUNE)) {
            for (Extractor e : Extractor.pretrained(settings.size())) {
                extractors.put(e.slug(), e);
            }
            if (extractors.isEmpty()) {
                dropped.add(new Dropped("heads, ensemble, fine-tuning", "no backbone has its ImageNet file on this machine (./leukolab fetch "
                        + "weights-mobilenetv2-0.5-224-notop, or see ImageNetWeights); a head on random weights would say nothing"));
            }
        }
        if (want.contains(Model.HEADS)) {
            for (Extractor e : extractors.values()) {
                head(e);
            }
        }
        if (want.contains(Model.RANDOM_FOREST)) {
            forest();
        }
        if (want.contains(Model.ENSEMBLE)) {
            ensemble();
        }
        if (want.contains(Model.SMALL_CNN)) {
            smallCnn();
        }
        if (want.contains(Model.FINE_TUNE)) {
            fineTune();
        }
        if (want.contains(Model.REPEATS)) {
            repeats();
        }
        return table();
    }

    private Map<String, Object> oursFacts(String description, Map<String, Object> weights) {
        return Experiment.facts(Labels.Protocol.OURS.describe(description), weights, Map.of("split", splitKind));
    }

    private void head(Extractor e) {
        String name = "head-" + e.slug();
        boolean cached = FeatureCache.pooledCached(e.backbone(), images);
        var speed = cached ? null : FeatureSpeed.measure(e.backbone(), images, 2); // cached features cost no extraction
        double extraction = cached ? 0 : images.size() * speed.millisecondsPerImage() / 1000;
        long width = Transfer.featureShape(e.backbone())[2];
        var heads = heads(Head.globalAveragePooling().dense(128).dropout(0.3).softmax(index.classes().size()));
        DataSet probe = new DataSet(org.nd4j.linalg.factory.Nd4j.rand(org.nd4j.linalg.api.buffer.DataType.FLOAT, BATCH, width, 1, 1),
                org.nd4j.linalg.factory.Nd4j.zeros(org.nd4j.linalg.api.buffer.DataType.FLOAT, BATCH, index.classes().size()));
        double perStep = secondsPerStep(heads.network(probe, settings.seed()), Batches.of(probe), 3);
        if (!fits(name, extraction + headEpochs() * epochSeconds(perStep))) {
            return;
        }
        long t0 = System.nanoTime();
        DataSet f = FeatureCache.pooledFeatures(e.backbone(), images);
        features.put(e.slug(), f);
        var run = heads.train(exp, name, f, images, split, settings.seed(), oursFacts("frozen backbone + head (GAP, Dense 128, "
                + "Dropout 0.3, softmax), Adam 1e-3, class weights, early stopping on validation macro F1",
                Map.of("backbone", e.backbone().toString(), Experiment.WEIGHTS_KIND, Labels.Weights.IMAGENET.words(),
                        "weights", "ImageNet (" + e.name() + ")")));
        headRuns.put(e.slug(), run);
        results.add(new Result(name, "frozen " + e.name() + " + head", "ImageNet", run.testPredictions(), (System.nanoTime() - t0) / 1e9,
                cached ? "features were cached" : String.format(Locale.ROOT, "%.1f ms/image to extract", speed.millisecondsPerImage())));
    }

    private FeatureHeads heads(Head head) {
        return new FeatureHeads(head, BATCH, 1e-3, headEpochs(), 5, true);
    }

    private void forest() {
        String name = "random-forest-pixels";
        int trees = settings.profile().pick(50, 200);
        var loader = ImageLoader.builder().size(FOREST_SIZE).interpolation(Interpolation.AREA).build();
        LoadedImages small = loader.load(images.index());
        LoadedImages train = small.subset(small.positionsOf(split.train()));
        int probeN = Math.min(train.size(), 200);
        long t0 = System.nanoTime();
        // every (n / probeN)-th training image: the training part is ordered by class, and a probe needs them all
        int[] spread = java.util.stream.IntStream.range(0, probeN).map(i -> (int) ((long) i * train.size() / probeN)).toArray();
        RandomForestBaseline.fit(train.subset(spread), 5, settings.seed());
        double probeSeconds = (System.nanoTime() - t0) / 1e9;
        double scale = (double) train.size() / probeN * Math.max(1, Math.log(train.size()) / Math.log(Math.max(2, probeN)));
        if (!fits(name, probeSeconds * trees / 5.0 * scale)) {
            return;
        }
        t0 = System.nanoTime();
        var forest = RandomForestBaseline.fit(train, trees, settings.seed());
        Map<String, Object> facts = oursFacts("Random Forest (" + trees + " trees, Gini, sqrt(p) features a split) on " + FOREST_SIZE + "x"
                + FOREST_SIZE + " RGB pixels", Experiment.weightsFacts(Labels.Weights.NONE, "none (trained from scratch)"));
        facts.put(Experiment.SEED, settings.seed());
        LoadedImages val = small.subset(small.positionsOf(split.validation()));
        LoadedImages testImages = small.subset(small.positionsOf(split.test()));
        Predictions test = exp.recordRun(name, Predictions.of(name + ", validation" + tag(), val.index(), forest.voteShares(val)),
                Predictions.of(name + ", test" + tag(), testImages.index(), forest.voteShares(testImages)), facts).testPredictions();
        results.add(new Result(name, "Random Forest on " + FOREST_SIZE + "x" + FOREST_SIZE + " pixels", "none", test,
                (System.nanoTime() - t0) / 1e9, trees + " trees"));
    }

    private void ensemble() {
        if (features.size() < 2) {
            dropped.add(new Dropped("ensemble", features.size() + " backbone head(s) ran; an ensemble needs two or more"));
            return;
        }
        String name = "ensemble-" + features.size();
        List<Extractor> members = features.keySet().stream().map(extractors::get).toList();
        DataSet f = FeatureCache.concatenatedPooledFeatures(members.stream().map(Extractor::backbone).toList(), images);
        var heads = heads(Head.globalAveragePooling().dense(128).dropout(0.3).softmax(index.classes().size()));
        double perStep = secondsPerStep(heads.network(f, settings.seed()), Batches.select(f, images, split.train()), 3);
        if (!fits(name, headEpochs() * epochSeconds(perStep))) {
            return;
        }
        long t0 = System.nanoTime();
        String names = members.stream().map(Extractor::name).collect(Collectors.joining(" + "));
        var run = heads.train(exp, name, f, images, split, settings.seed(), oursFacts("concatenated features of " + names
                + ", one head (as the heads)", Experiment.weightsFacts(Labels.Weights.IMAGENET, "ImageNet (" + names + ")")));
        features.put(name, f);
        results.add(new Result(name, "ensemble: " + names, "ImageNet", run.testPredictions(), (System.nanoTime() - t0) / 1e9,
                f.getFeatures().size(1) + " features per image"));
    }

    private void smallCnn() {
        String name = "small-cnn";
        int classes = index.classes().size();
        LoadedImages train = images.subset(images.positionsOf(split.train()));
        var trainBatches = ImageBatches.of(train).scaled(1 / 255.0);
        double perStep = secondsPerStep(Network.of(CustomCnns.report000(settings.size(), classes, Optimizer.adamW(1e-3), settings.seed(),
                CNN2DFormat.NCHW)), trainBatches, 3);
        if (!fits(name, cnnEpochs() * epochSeconds(perStep))) {
            return;
        }
        long t0 = System.nanoTime();
        double[] w = ClassBalancer.classWeights(split.train().labels(), classes);
        var run = exp.run(name, Network.of(CustomCnns.report000(settings.size(), classes, Optimizer.adamW(1e-3), settings.seed(),
                        CNN2DFormat.NCHW)), t -> t.epochs(cnnEpochs()).batchSize(BATCH).seed(settings.seed()).classWeights(w)
                        .callbacks(EarlyStopping.on("val_f1", 5, true)), trainBatches,
                ImageBatches.of(images.subset(images.positionsOf(split.validation()))).scaled(1 / 255.0),
                ImageBatches.of(images.subset(images.positionsOf(split.test()))).scaled(1 / 255.0),
                oursFacts("report 000's small CNN (five stride-2 convolutions 4-64 filters with BatchNorm, Dense 8) at " + settings.size()
                        + "x" + settings.size() + ", AdamW 1e-3, class weights, early stopping on validation macro F1",
                        Experiment.weightsFacts(Labels.Weights.NONE, "none (trained from scratch)")));
        results.add(new Result(name, "report 000's small CNN", "none", run.testPredictions(), (System.nanoTime() - t0) / 1e9,
                run.training() == null ? "" : run.training().epochs() + " epochs"));
    }

    private void fineTune() {
        var best = headRuns.entrySet().stream().max(java.util.Comparator.comparingDouble(
                e -> e.getValue().validationPredictions().scores().f1()));
        if (best.isEmpty()) {
            dropped.add(new Dropped("fine-tune", "no backbone head ran, so there is nothing to fine-tune"));
            return;
        }
        Extractor e = extractors.get(best.get().getKey());
        String name = "fine-tune-" + e.slug();
        Head head = Head.globalAveragePooling().dense(128).dropout(0.3).softmax(index.classes().size());
        Freeze freeze = Freeze.firstFraction(0.6).keepBatchNormFrozen();
        var model = Transfer.classifier(e.backbone(), head, Optimizer.adam(1e-4), settings.seed(), freeze);
        Transfer.copyHead(best.get().getValue().network().graph(), model);
        LoadedImages train = images.subset(images.positionsOf(split.train()));
        var probeModel = Transfer.classifier(e.backbone(), head, Optimizer.adam(1e-4), settings.seed(), freeze);
        double perStep = secondsPerStep(Network.of(probeModel), ImageBatches.of(train).preprocessed(e.backbone().preprocessing()), 2);
        if (!fits(name, fineTuneEpochs() * epochSeconds(perStep))) {
            return;
        }
        long t0 = System.nanoTime();
        var run = new ImageTraining(BATCH, 1e-4, fineTuneEpochs(), 3, true).train(exp, name, model, e.backbone(), images, split, null,
                settings.seed(), oursFacts("the best head's backbone (" + e.name() + ", by validation macro F1) fine-tuned: last 40% of "
                        + "its layers trainable, BatchNorm frozen, Adam 1e-4, class weights",
                        Map.of(Experiment.WEIGHTS_KIND, Labels.Weights.IMAGENET.words(), "weights", "ImageNet (" + e.name() + "), fine-tuned",
                                "fine_tuned_from", best.get().getValue().name())));
        results.add(new Result(name, e.name() + " fine-tuned (last 40%)", "ImageNet, fine-tuned", run.testPredictions(),
                (System.nanoTime() - t0) / 1e9, "from " + best.get().getValue().name()));
    }

    private void repeats() {
        if (settings.seeds().size() < 2) {
            dropped.add(new Dropped("repeats", "fewer than two seeds given"));
            return;
        }
        for (var e : features.entrySet()) {
            boolean isEnsemble = e.getKey().startsWith("ensemble-");
            String name = isEnsemble ? e.getKey() : "head-" + e.getKey();
            var heads = heads(Head.globalAveragePooling().dense(128).dropout(0.3).softmax(index.classes().size()));
            double perStep = secondsPerStep(heads.network(e.getValue(), settings.seed()), Batches.select(e.getValue(), images, split.train()), 3);
            if (!fits(name + " over " + settings.seeds().size() + " seeds", settings.seeds().size() * headEpochs() * epochSeconds(perStep))) {
                continue;
            }
            Map<String, Object> weights = isEnsemble ? Experiment.weightsFacts(Labels.Weights.IMAGENET, "ImageNet (ensemble)")
                    : Map.of(Experiment.WEIGHTS_KIND, Labels.Weights.IMAGENET.words(), "weights", "ImageNet (" + extractors.get(e.getKey()).name() + ")");
            repeats.put(name, heads.repeat(exp, name, e.getValue(), images, split, settings.seeds(),
                    oursFacts("the same head over seeds (initialisation, data order, dropout)", weights)));
        }
    }

    // ------------------------------------------------------------------------------------------ results

    /** The models compared on the test split: macro F1 and accuracy with 95% bootstrap intervals, AUC, seconds. */
    public Table table() {
        List<Map<String, Object>> rows = new ArrayList<>();
        for (Map<String, Object> m : modelRows()) {
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("model", m.get("name"));
            row.put("weights", m.get("weights"));
            row.put("macro F1", m.get("macro_f1"));
            row.put("95% interval", String.format(Locale.ROOT, "[%.3f, %.3f]", m.get("macro_f1_low"), m.get("macro_f1_high")));
            row.put("accuracy", m.get("accuracy"));
            row.put("accuracy 95% interval", String.format(Locale.ROOT, "[%.3f, %.3f]", m.get("accuracy_low"), m.get("accuracy_high")));
            row.put("macro AUC", m.get("auc"));
            Repeats rep = repeats.get((String) m.get("name"));
            row.put("macro F1 over seeds", rep == null ? "single run" : rep.spread("macro_f1").toString());
            row.put("seconds", (int) Math.round((Double) m.get("seconds")));
            rows.add(row);
        }
        return Tables.rounded(Tables.ofRows("models compared on the test split (" + split.test().size() + " images" + tag() + ", "
                + splitKind + ", " + settings.profile() + " profile, " + RunInfo.machine() + ")", rows), 4);
    }

    /** One map per model, best macro F1 first: its numbers with their 95% bootstrap intervals (computed once). */
    private List<Map<String, Object>> modelRows() {
        if (modelRows != null && modelRows.size() == results.size()) {
            return modelRows;
        }
        List<Map<String, Object>> out = new ArrayList<>();
        for (Result r : ranked()) {
            var f = Bootstrap.interval(r.test(), Metric.F1);
            var a = Bootstrap.interval(r.test(), Metric.ACCURACY);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", r.name());
            m.put("kind", r.kind());
            m.put("weights", r.weights());
            m.put("macro_f1", f.value());
            m.put("macro_f1_low", f.low());
            m.put("macro_f1_high", f.high());
            m.put("accuracy", a.value());
            m.put("accuracy_low", a.low());
            m.put("accuracy_high", a.high());
            m.put("auc", r.test().scores().auc());
            m.put("test_images", r.test().size());
            m.put("seconds", r.seconds());
            m.put("note", r.note());
            Repeats rep = repeats.get(r.name());
            if (rep != null) {
                m.put("over_seeds", rep.spread("macro_f1").toMap());
            }
            out.add(m);
        }
        modelRows = out;
        return out;
    }

    private List<Result> ranked() {
        return results.stream().sorted(java.util.Comparator.comparingDouble((Result r) -> r.test().scores().f1()).reversed()).toList();
    }

    /**
     * McNemar's test (with a bootstrap interval of the accuracy difference) for the pairs that matter: the best model
     * against the runner-up, against the Random Forest baseline, and the ensemble and the fine-tuned model against the
     * head they build on.
     */
    public List<PairedComparison> pairs() {
        List<Result> r = ranked();
        List<PairedComparison> out = new ArrayList<>();
        Set<String> seen = new java.util.HashSet<>();
        java.util.function.BiConsumer<Result, Result> add = (a, b) -> {
            if (a != null && b != null && a != b && seen.add(a.name() + "|" + b.name())) {
                out.add(PairedComparison.of(a.test().titled(a.name()), b.test().titled(b.name())));
            }
        };
        if (r.size() >= 2) {
            add.accept(r.get(0), r.get(1));
        }
        Result forest = find("random-forest-pixels");
        if (!r.isEmpty()) {
            add.accept(r.get(0), forest);
        }
        Result bestHead = r.stream().filter(x -> x.name().startsWith("head-")).findFirst().orElse(null);
        results.stream().filter(x -> x.name().startsWith("ensemble-") || x.name().startsWith("fine-tune-"))
                .forEach(x -> add.accept(x, x.name().startsWith("fine-tune-") ? find("head-" + x.name().substring("fine-tune-".length())) : bestHead));
        return out;
    }

    private Result find(String name) {
        return results.stream().filter(x -> x.name().equals(name)).findFirst().orElse(null);
    }

    /** The spread over seeds of every repeated head, and the paired difference of the two best over the same seeds. */
    public Table spread() {
        List<Map<String, Object>> rows = new ArrayList<>();
        repeats.forEach((k, r) -> {
            var s = r.spread("macro_f1");
            Map<String, Object> row = new LinkedHashMap<>();
            row.put("model", k);
            row.put("seeds", s.n());
            row.put("mean macro F1", s.mean());
            row.put("sd", s.sd());
            row.put("min", s.min());
            row.put("max", s.max());
            row.put("seconds (all seeds)", (int) Math.round(r.seconds()));
            rows.add(row);
        });
        return Tables.rounded(Tables.ofRows("macro F1 over seeds (test split" + tag() + ")", rows), 4);
    }

    /** The two repeated models with the highest mean, paired seed by seed (empty with fewer than two). */
    public java.util.Optional<Repeats.SeedPaired> pairedSeeds() {
        List<Repeats> r = repeats.values().stream().sorted(java.util.Comparator.comparingDouble((Repeats x) -> x.spread("macro_f1").mean())
                .reversed()).toList();
        return r.size() < 2 ? java.util.Optional.empty() : java.util.Optional.of(r.get(0).pairedWith(r.get(1), "macro_f1"));
    }

    /** Models left out and why (the budget, missing weights, too few heads for an ensemble). */
    public List<Dropped> dropped() {
        return List.copyOf(dropped);
    }

    public List<Result> results() {
        return List.copyOf(results);
    }

    /**
     * Writes {@code compare.json} (settings, data, audits with their pictures, the model table, the pairs, the spread,
     * what was left out, and the machine) into the output folder, atomically; {@code ./leukolab compare} renders it as
     * {@code index.html}. Returns the file.
     */
    public Path write() {
        var gson = new com.google.gson.GsonBuilder().setPrettyPrinting().serializeSpecialFloatingPointValues().create();
        Map<String, Object> o = new LinkedHashMap<>();
        Map<String, Object> s = new LinkedHashMap<>();
        s.put("folder", settings.folder().toString());
        s.put("second_folder", settings.secondFolder() == null ? null : settings.secondFolder().toString());
        s.put("mapping", settings.mapping());
        s.put("size", settings.size());
        s.put("models", settings.models().stream().map(Model::id).toList());
        s.put("seeds", settings.seeds());
        s.put("budget_minutes", settings.budgetMinutes());
        s.put("remove_outliers", settings.removeOutliers());
        s.put("split", splitKind);
        s.put("seed", settings.seed());
        s.put("profile", settings.profile().toString());
        o.put("name", settings.name());
        o.put("settings", s);
        o.put("data", Map.of("kind", dataKind, "images", images.size(), "classes", index.classes(), "counts", classCounts(images.index()),
                "split", Map.of("train", split.train().size(), "validation", split.validation().size(), "test", split.test().size())));
        o.put("audits", audits.stream().map(Audit::toMap).toList());
        o.put("models", modelRows());
        o.put("pairs", pairs().stream().map(p -> {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("a", p.nameA());
            m.put("b", p.nameB());
            m.put("accuracy_difference", p.difference());
            m.put("low", p.ciLow());
            m.put("high", p.ciHigh());
            m.put("mcnemar_p", p.pValue());
            m.put("only_a_right", p.onlyA());
            m.put("only_b_right", p.onlyB());
            m.put("verdict", p.verdict());
            return m;
        }).toList());
        o.put("paired_over_seeds", pairedSeeds().map(Repeats.SeedPaired::toString).orElse(null));
        o.put("dropped", dropped.stream().map(d -> Map.of("model", d.model(), "reason", d.reason())).toList());
        o.put("seconds", (System.nanoTime() - start) / 1e9);
        o.put("run", RunInfo.current());
        Path f = settings.out().resolve("compare.json");
        AtomicFiles.writeString(f, gson.toJson(o) + "\n");
        return f;
    }
}

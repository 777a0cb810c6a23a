package org.leukolab.reports;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.leukolab.balancing.Augmenter;
import org.leukolab.balancing.ClassBalancer;
import org.leukolab.data.Dataset;
import org.leukolab.data.DatasetCatalog;
import org.leukolab.data.ImageIndex;
import org.leukolab.data.ImageLoader;
import org.leukolab.data.LoadedImages;
import org.leukolab.evaluation.LeakageAudit;
import org.leukolab.models.backbones.Backbone;
import org.leukolab.models.backbones.Backbones;
import org.leukolab.models.backbones.ImageNetWeights;
import org.leukolab.data.Interpolation;
import org.leukolab.system.Profile;
import org.leukolab.training.ImageBatches;
import tech.tablesaw.api.Table;

/**
 * Report 000's data protocol, shared by its notebooks: the 5-class White Blood Cells set (Raabin-WBC
 * derived); its Train folder balanced by augmentation up to the largest class; an 80/20 train/validation
 * split with seed 123 and batch 32; the held-out Test folder for the final numbers.
 *
 * <p>Two splits are offered. {@link #asPublished} balances first and then splits the balanced folder, as
 * the report did, so augmented copies of one original land on both sides. {@link #splitFirst} splits the
 * originals first (stratified) and balances only the training part, so the validation images are
 * untouched originals never seen in training in any form.
 *
 * <p>The quick profile imitates the full set's imbalance on the sample that these machines have: it takes
 * each class in proportion to the full Train folder (Neutrophil 30 images, the others scaled down, at
 * least 6), so balancing has real work to do; Test is the sample's whole Test folder.
 */
public final class Report000 {
    public static final String ID = "report-000";
    /** The report's split seed (image_dataset_from_directory); also used for augmentation and training here. */
    public static final long SEED = 123;
    public static final int CNN_SIZE = 350;
    public static final int MOBILENET_SIZE = 224;
    public static final int BATCH = 32;
    public static final double TRAIN_FRACTION = 0.8;
    /** Train folder of the full dataset, per class (from the dataset's documentation). */
    public static final Map<String, Integer> FULL_TRAIN_COUNTS = fullCounts();
    public static final int QUICK_LARGEST = 30;
    public static final int QUICK_SMALLEST = 6;

    private Report000() {}

    private static Map<String, Integer> fullCounts() {
        Map<String, Integer> m = new LinkedHashMap<>();
        m.put("Basophil", 212);
        m.put("Eosinophil", 744);
        m.put("Lymphocyte", 2427);
        m.put("Monocyte", 561);
        m.put("Neutrophil", 6231);
        return java.util.Collections.unmodifiableMap(m);
    }

    /** The full dataset if installed, else the sample a mirror provides (labelled as such). */
    public static Dataset dataset() {
        return DatasetCatalog.standard().openOrSample("raabin-wbc");
    }

    /** Per-class sizes of the quick profile's imitation of the full Train folder's imbalance. */
    public static Map<String, Integer> quickTrainCounts() {
        Map<String, Integer> m = new LinkedHashMap<>();
        int largest = FULL_TRAIN_COUNTS.values().stream().mapToInt(Integer::intValue).max().orElseThrow();
        FULL_TRAIN_COUNTS.forEach((k, v) -> m.put(k, Math.max(QUICK_SMALLEST, (int) Math.round((double) QUICK_LARGEST * v / largest))));
        return m;
    }

    /** The Train folder (in the quick profile, a sample with the full folder's imbalance). */
    public static ImageIndex trainFolder(ImageIndex all, Profile p) {
        ImageIndex t = all.split("Train");
        return p.isQuick() ? t.sample(quickTrainCounts(), SEED) : t;
    }

    /**
     * The held-out Test folder (4,339 images): the Kaggle archive's {@code Test-A} (its {@code Test-B}, another
     * microscope's images, is not part of report 000's protocol); the mirror's sample names its copy {@code Test}.
     */
    public static ImageIndex testFolder(ImageIndex all, Profile p) {
        return all.split(all.splits().contains("Test-A") ? "Test-A" : "Test");
    }

    /** Report 000's balancing: rotation 15 degrees, zoom 10%, horizontal flips, nearest fill; seeded. */
    public static ClassBalancer balancer(ClassBalancer.Output output) {
        return new ClassBalancer(Augmenter.report000(), SEED, output);
    }

    /** A train/validation protocol and the balanced set behind it. */
    public record Split(String name, ImageIndex train, ImageIndex validation, ClassBalancer.Result balanced) {
        /** Validation images whose original also has an image (itself or a copy) in training, per class. */
        public Table leakage() {
            return LeakageAudit.sharedOrigins(name + ": validation images whose original is also in training",
                    train, validation, ClassBalancer::originalName);
        }

        public String describe() {
            long augTrain = train.records().stream().filter(ClassBalancer::isAugmented).count();
            long augVal = validation.records().stream().filter(ClassBalancer::isAugmented).count();
            return String.format(Locale.ROOT, "%s: train %d images (%d augmented copies), validation %d images (%d augmented copies)",
                    name, train.size(), augTrain, validation.size(), augVal);
        }
    }

    /** As the report did it: balance the whole Train folder, then split the balanced folder 80/20 (seed 123). */
    public static Split asPublished(ImageIndex trainFolder, ClassBalancer.Output output) {
        return asPublished(trainFolder, balancer(output));
    }

    public static Split asPublished(ImageIndex trainFolder, ClassBalancer balancer) {
        ClassBalancer.Result b = balancer.balance(trainFolder);
        ImageIndex.Split s = b.index().randomSplit(TRAIN_FRACTION, SEED);
        return new Split("balance, then split (as published)", s.train(), s.validation(), b);
    }

    /**
     * The sound alternative: split the originals 80/20 first (stratified, seed 123), then balance the
     * training part only; validation keeps untouched originals (and so the Train folder's imbalance).
     */
    public static Split splitFirst(ImageIndex trainFolder, ClassBalancer.Output output) {
        return splitFirst(trainFolder, balancer(output));
    }

    public static Split splitFirst(ImageIndex trainFolder, ClassBalancer balancer) {
        ImageIndex.Split s = trainFolder.stratifiedSplit(TRAIN_FRACTION, SEED);
        ClassBalancer.Result b = balancer.balance(s.train());
        return new Split("split, then balance the training part", b.index(), s.validation(), b);
    }

    /** Decoding as Keras' image_dataset_from_directory does by default: RGB, bilinear resize, no crop. */
    public static ImageLoader loader(int size) {
        return ImageLoader.builder().size(size).interpolation(Interpolation.BILINEAR).build();
    }

    /**
     * The custom CNN's inputs. As published, pixels are divided by 255 twice (once when the dataset is
     * mapped, once by the model's Rescaling layer), so the network sees values in [0, 1/255]; corrected,
     * once, in [0, 1].
     */
    public static ImageBatches cnnInputs(LoadedImages images, boolean asPublished) {
        ImageBatches b = ImageBatches.of(images).scaled(1 / 255.0);
        return asPublished ? b.scaled(1 / 255.0) : b;
    }

    /**
     * The custom CNN of notebook 21 trained on {@code split} with AdamW 1e-3, batch 32, early stopping on validation
     * accuracy (patience 5, best weights restored), the best checkpoint kept; scored on {@code test}.
     */
    public static org.leukolab.evaluation.Experiment.Run trainCnn(org.leukolab.evaluation.Experiment exp, String name, Split split,
            ImageLoader loader, LoadedImages test, int epochs, boolean pixelsDividedTwice,
            org.leukolab.evaluation.Labels.Protocol protocol) {
        Cnn c = cnn(split, loader, test, epochs, pixelsDividedTwice, protocol);
        return exp.run(name, org.leukolab.training.Network.of(org.leukolab.models.CustomCnns.report000(CNN_SIZE, 5,
                org.leukolab.models.Optimizer.adamW(1e-3), SEED, org.deeplearning4j.nn.conf.CNN2DFormat.NCHW)),
                t -> c.settings().apply(t).seed(SEED), c.train(), c.validation(), c.test(), c.facts());
    }

    /** {@link #trainCnn} once per seed (a fresh network initialised with the seed; the split is the same). */
    public static org.leukolab.evaluation.Repeats repeatCnn(org.leukolab.evaluation.Experiment exp, String name, Split split,
            ImageLoader loader, LoadedImages test, int epochs, boolean pixelsDividedTwice,
            org.leukolab.evaluation.Labels.Protocol protocol, List<Long> seeds) {
        Cnn c = cnn(split, loader, test, epochs, pixelsDividedTwice, protocol);
        return exp.repeat(name, seeds, seed -> org.leukolab.training.Network.of(org.leukolab.models.CustomCnns.report000(CNN_SIZE, 5,
                org.leukolab.models.Optimizer.adamW(1e-3), seed, org.deeplearning4j.nn.conf.CNN2DFormat.NCHW)),
                c.settings(), c.train(), c.validation(), c.test(), c.facts());
    }

    private record Cnn(ImageBatches train, ImageBatches validation, ImageBatches test,
                       java.util.function.UnaryOperator<org.leukolab.training.Trainer.Builder> settings, Map<String, Object> facts) {}

    private static Cnn cnn(Split split, ImageLoader loader, LoadedImages test, int epochs, boolean twice,
                           org.leukolab.evaluation.Labels.Protocol protocol) {
        Map<String, Object> facts = org.leukolab.evaluation.Experiment.facts(
                protocol.describe(split.name() + (twice ? "; pixels divided by 255 twice" : "")),
                Map.of("pixels_divided_twice", twice, "epochs_cap", epochs));
        return new Cnn(cnnInputs(loader.load(split.train()), twice), cnnInputs(loader.load(split.validation()), twice),
                cnnInputs(test, twice), t -> t.epochs(epochs).batchSize(BATCH).callbacks(
                        org.leukolab.training.EarlyStopping.on("val_accuracy", 5, true),
                        org.leukolab.training.BestCheckpoint.on("val_accuracy")), facts);
    }

    /** The head of notebook 22 on the frozen MobileNetV2: global average pooling, Dense 16 ReLU, BatchNorm, softmax 5. */
    public static org.leukolab.models.backbones.Head head() {
        return org.leukolab.models.backbones.Head.globalAveragePooling().dense(16).batchNorm().softmax(5);
    }

    /**
     * The head of notebook 22 trained on cached features of {@code backbone} (with {@code inputs} as its preprocessing)
     * with AdamW 1e-3, batch 32, early stopping on validation loss (patience 3, best restored), the learning rate
     * halved after 4 epochs without improvement, the best checkpoint kept; scored on {@code test}.
     */
    public static org.leukolab.evaluation.Experiment.Run trainHead(org.leukolab.evaluation.Experiment exp, String name, Split split,
            Backbone backbone, ImageLoader loader, LoadedImages test, org.leukolab.preprocessing.KerasPreprocessing inputs,
            int epochs, org.leukolab.evaluation.Labels.Protocol protocol) {
        Heads h = heads(split, backbone, loader, test, inputs, epochs, protocol);
        return exp.run(name, org.leukolab.training.Network.of(head().standalone(h.train().exampleShape(),
                org.leukolab.models.Optimizer.adamW(1e-3), SEED)), t -> h.settings().apply(t).seed(SEED), h.train(), h.validation(),
                h.test(), h.facts());
    }

    /** {@link #trainHead} once per seed. */
    public static org.leukolab.evaluation.Repeats repeatHead(org.leukolab.evaluation.Experiment exp, String name, Split split,
            Backbone backbone, ImageLoader loader, LoadedImages test, org.leukolab.preprocessing.KerasPreprocessing inputs,
            int epochs, org.leukolab.evaluation.Labels.Protocol protocol, List<Long> seeds) {
        Heads h = heads(split, backbone, loader, test, inputs, epochs, protocol);
        return exp.repeat(name, seeds, seed -> org.leukolab.training.Network.of(head().standalone(h.train().exampleShape(),
                org.leukolab.models.Optimizer.adamW(1e-3), seed)), h.settings(), h.train(), h.validation(), h.test(), h.facts());
    }

    private record Heads(org.leukolab.training.Batches train, org.leukolab.training.Batches validation,
                         org.leukolab.training.Batches test,
                         java.util.function.UnaryOperator<org.leukolab.training.Trainer.Builder> settings, Map<String, Object> facts) {}

    private static Heads heads(Split split, Backbone backbone, ImageLoader loader, LoadedImages test,
                               org.leukolab.preprocessing.KerasPreprocessing inputs, int epochs,
                               org.leukolab.evaluation.Labels.Protocol protocol) {
        Backbone b = backbone.withPreprocessing(inputs);
        LoadedImages tr = loader.load(split.train());
        LoadedImages va = loader.load(split.validation());
        Map<String, Object> facts = org.leukolab.evaluation.Experiment.facts(protocol.describe(split.name() + "; inputs " + inputs),
                Map.of("inputs", inputs.toString(), "backbone", backbone.toString()));
        return new Heads(org.leukolab.training.Batches.of(org.leukolab.models.backbones.FeatureCache.pooledFeatures(b, tr), tr),
                org.leukolab.training.Batches.of(org.leukolab.models.backbones.FeatureCache.pooledFeatures(b, va), va),
                org.leukolab.training.Batches.of(org.leukolab.models.backbones.FeatureCache.pooledFeatures(b, test), test),
                t -> t.epochs(epochs).batchSize(BATCH).learningRate(1e-3).callbacks(
                        org.leukolab.training.EarlyStopping.on("val_loss", 3, true),
                        org.leukolab.training.ReduceLrOnPlateau.on("val_loss", 0.5, 4, 0),
                        org.leukolab.training.BestCheckpoint.on("val_accuracy")), facts);
    }

    /** MobileNetV2 widths tried, in order: the report's 1.0, then the official small files these machines have. */
    public static final double[] MOBILENET_ALPHAS = {1.0, 0.5, 0.35};

    /**
     * The frozen backbone of the report's second model, without its top, at 224x224: MobileNetV2 alpha 1.0
     * with ImageNet weights if that file is installed ({@code ./leukolab fetch weights-mobilenetv2-1.0-224-notop});
     * otherwise the widest alpha whose official ImageNet file is here (0.5, then 0.35), a deviation its
     * {@link Backbone#toString()} states; with none, alpha 1.0 with random weights, labelled as such.
     */
    public static Backbone mobileNetV2() {
        for (double alpha : MOBILENET_ALPHAS) {
            Backbone b = Backbones.mobileNetV2(alpha, MOBILENET_SIZE, false);
            if (ImageNetWeights.find(b.weightFile()).isPresent()) {
                return Backbones.withImageNetWeights(b);
            }
        }
        return Backbones.imagenetOrRandom(Backbones.mobileNetV2(1.0, MOBILENET_SIZE, false));
    }

    /** Images per epoch of the full protocol: 80/20 of the balanced 5 x 6,231 = 31,155. */
    public static final int FULL_TRAIN_IMAGES = 24_924;
    public static final int FULL_VALIDATION_IMAGES = 6_231;

    /**
     * The full protocol's time per epoch and for {@code epochs} epochs, extrapolated linearly from a run on
     * fewer images: each epoch's seconds per (training + validation) image, median over the epochs after the
     * first (the first includes warm-up), times the full set's images. A planning figure, not a measurement.
     */
    public static String fullRunEstimate(org.leukolab.training.TrainingResult run, int trainImages, int validationImages,
                                         int epochs) {
        double[] secs = run.history().doubleColumn("seconds").asDoubleArray();
        if (secs.length == 0) {
            return "no epoch was run in this session, nothing to extrapolate from";
        }
        double[] later = secs.length > 1 ? java.util.Arrays.copyOfRange(secs, 1, secs.length) : secs;
        java.util.Arrays.sort(later);
        double median = later.length % 2 == 1 ? later[later.length / 2] : (later[later.length / 2 - 1] + later[later.length / 2]) / 2;
        double perImage = median / (trainImages + validationImages);
        double fullEpoch = perImage * (FULL_TRAIN_IMAGES + FULL_VALIDATION_IMAGES);
        return String.format(Locale.ROOT, "%s: %.1f s per epoch here for %d + %d images (%.1f images/s, training and "
                + "validation together); the full protocol's %,d + %,d images would take about %.0f min per epoch, "
                + "%.1f h for %d epochs (early stopping usually ends sooner)", run.name(), median, trainImages,
                validationImages, 1 / perImage, FULL_TRAIN_IMAGES, FULL_VALIDATION_IMAGES, fullEpoch / 60,
                fullEpoch * epochs / 3600, epochs);
    }

    /** The five classes in label order. */
    public static List<String> classes() {
        return List.copyOf(FULL_TRAIN_COUNTS.keySet());
    }

    /**
     * The report's two published results (test accuracy and macro F1 on the held-out Test folder) beside the saved
     * reproductions: as published, then each correction, labelled (result names as notebooks 22 and 23 record them).
     */
    public static org.leukolab.evaluation.Reproduction reproduction(org.leukolab.evaluation.ResultStore store) {
        var r = org.leukolab.evaluation.Reproduction.of("report 000: published and reproduced, held-out Test folder", store, "accuracy");
        var cnn = org.leukolab.evaluation.Published.report000("Custom CNN");
        var mob = org.leukolab.evaluation.Published.report000("MobileNetV2");
        var asPublished = org.leukolab.evaluation.Labels.Protocol.AS_PUBLISHED;
        var corrected = org.leukolab.evaluation.Labels.Protocol.CORRECTED;
        Object[][] cnnRuns = {{"as published (balance, then split; pixels divided by 255 twice)", "cnn-published-test", asPublished},
            {"corrected: pixels divided by 255 once", "cnn-rescaled-once-test", corrected},
            {"corrected: split first, then balance the training part; pixels divided once", "cnn-split-first-test", corrected}};
        Object[][] mobRuns = {{"as published (balance, then split; inputs x/255)", "mobilenetv2-published-test", asPublished},
            {"corrected: MobileNetV2's own input scaling ([-1, 1])", "mobilenetv2-tf-inputs-test", corrected},
            {"corrected: split first, then balance the training part; inputs in [-1, 1]", "mobilenetv2-split-first-test", corrected}};
        for (Object[] run : cnnRuns) {
            var p = (org.leukolab.evaluation.Labels.Protocol) run[2];
            r.row("custom CNN", (String) run[0], "accuracy", 100 * cnn.accuracy(), (String) run[1], p, "test");
            r.row("custom CNN", (String) run[0], "macro_f1", 100 * cnn.macroF1(), (String) run[1], p, "test");
        }
        for (Object[] run : mobRuns) {
            var p = (org.leukolab.evaluation.Labels.Protocol) run[2];
            r.row("MobileNetV2 (frozen) + head", (String) run[0], "accuracy", 100 * mob.accuracy(), (String) run[1], p, "test");
            r.row("MobileNetV2 (frozen) + head", (String) run[0], "macro_f1", 100 * mob.macroF1(), (String) run[1], p, "test");
        }
        return r;
    }
}

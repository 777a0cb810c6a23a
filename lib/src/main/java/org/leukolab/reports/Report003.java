package org.leukolab.reports;

import static org.bytedeco.opencv.global.opencv_imgcodecs.IMWRITE_JPEG_QUALITY;
import static org.bytedeco.opencv.global.opencv_imgcodecs.imencode;
import static org.bytedeco.opencv.global.opencv_imgproc.COLOR_RGB2BGR;
import static org.bytedeco.opencv.global.opencv_imgproc.cvtColor;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.IntPointer;
import org.bytedeco.opencv.opencv_core.Mat;
import org.leukolab.compare.Extractor;
import org.leukolab.compare.FeatureHeads;
import org.leukolab.data.Dataset;
import org.leukolab.data.DatasetCatalog;
import org.leukolab.data.ImageIndex;
import org.leukolab.data.ImageLoader;
import org.leukolab.data.Interpolation;
import org.leukolab.data.LoadedImages;
import org.leukolab.evaluation.Experiment;
import org.leukolab.evaluation.Outliers;
import org.leukolab.models.Optimizer;
import org.leukolab.models.backbones.Backbone;
import org.leukolab.models.backbones.Backbones;
import org.leukolab.models.backbones.FeatureCache;
import org.leukolab.models.backbones.Freeze;
import org.leukolab.models.backbones.Head;
import org.leukolab.models.backbones.ImageNetWeights;
import org.leukolab.models.backbones.Transfer;
import org.leukolab.system.AtomicFiles;
import org.leukolab.system.Profile;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Report 003's protocol, shared by its notebooks: an 8-class set of 96x96 white-blood-cell images (a closed course
 * challenge set; here the {@code pbc96-standin} built from PBC with the same counts and planted outliers), outliers
 * found from the embeddings of a pretrained backbone and removed, an imbalanced train/validation split with a
 * balanced test set, macro F1 as the metric, and frozen ImageNet backbones with one head.
 *
 * <p><b>What the report leaves open, and what we chose:</b> the size of the balanced test set (here 125 images per
 * class, 1,000 in all: about 9% of the cleaned set; the smallest class keeps enough for training), the head's dropout
 * (0.3), and the common training settings of its comparisons (Adam 0.001, batch 32, at most 20 epochs with early
 * stopping on validation macro F1, patience 4, best weights restored).
 *
 * <p><b>Quick profile:</b> 60 images of each class (outliers included, as the classes hold them), a balanced test set of
 * 10 per class.
 */
public final class Report003 {
    public static final String ID = "report-003";
    public static final long SEED = 3;
    public static final int SIZE = 96;
    public static final int BATCH = 32;
    public static final int EPOCHS = 20;
    public static final int TEST_PER_CLASS = 125;
    public static final int QUICK_PER_CLASS = 60;
    public static final int QUICK_TEST_PER_CLASS = 10;
    /** The report's set: 13,759 images, of which 11,595 remained after its outliers were removed. */
    public static final int REPORT_IMAGES = 13_759;
    public static final int REPORT_CELLS = 11_595;
    /** The id under which {@link #buildFromPbc} installs a set built from the full PBC download. */
    public static final String BUILT_ID = "pbc96";
    public static final String STANDIN_ID = "pbc96-standin";

    private Report003() {}

    /**
     * The 96x96 set: one built from the full PBC download with {@link #buildFromPbc} if there is one, else the
     * stand-in an offline mirror provides (labelled as such by its {@link Dataset#describe()}).
     */
    public static Dataset dataset() {
        DatasetCatalog catalog = DatasetCatalog.standard();
        return catalog.isInstalled(BUILT_ID) ? catalog.open(BUILT_ID) : catalog.open(STANDIN_ID);
    }

    /** The images (a per-class sample in the quick profile). */
    public static ImageIndex index(Dataset d, Profile p) {
        ImageIndex all = d.index();
        return p.isQuick() ? all.stratifiedSample(QUICK_PER_CLASS, SEED) : all;
    }

    /** Decoded at 96x96 (the set's own size: nothing is resized). */
    public static ImageLoader loader() {
        return ImageLoader.builder().size(SIZE).interpolation(Interpolation.BICUBIC).build();
    }

    /**
     * The backbone whose embeddings find the outliers: ResNet50 as in the report when its ImageNet file is installed,
     * otherwise MobileNetV2 alpha 0.5 with its real ImageNet weights (a labelled substitute).
     */
    public static Backbone embedder() {
        Backbone resnet = Backbones.resNet50(SIZE, false);
        if (ImageNetWeights.find(resnet.weightFile()).isPresent()) {
            return Backbones.withImageNetWeights(resnet);
        }
        return Backbones.imagenetOrRandom(Backbones.mobileNetV2(0.5, SIZE, false));
    }

    /**
     * The backbone the report trained its classifiers on (augmentation, fine-tuning, the final model): EfficientNetV2M
     * with its ImageNet weights when the file is installed ({@code ./leukolab fetch weights-efficientnetv2m-notop}),
     * otherwise MobileNetV2 alpha 0.5 with its real ImageNet weights, a labelled substitute (75 times smaller; it also
     * ends in 1,280 channels, so the report's head fits it unchanged).
     */
    public static Backbone classifierBackbone() {
        Backbone v2m = Backbones.efficientNetV2("M", SIZE, false);
        if (ImageNetWeights.find(v2m.weightFile()).isPresent()) {
            return Backbones.withImageNetWeights(v2m);
        }
        return Backbones.imagenetOrRandom(Backbones.mobileNetV2(0.5, SIZE, false));
    }

    /**
     * The weights facts of a classifier backbone ({@link Experiment#backboneFacts}): EfficientNetV2M is the report's own,
     * any other pretrained backbone a substitute, and a backbone without its file a random start.
     */
    public static Map<String, Object> classifierWeights(Backbone b) {
        return Experiment.backboneFacts(b, b.architecture().equals("EfficientNetV2M"));
    }

    /** The weights facts of the embedder ({@link #embedder}): ResNet50 is the report's own, MobileNetV2 a substitute. */
    public static Map<String, Object> embedderWeights(Backbone b) {
        return Experiment.backboneFacts(b, b.architecture().startsWith("ResNet50"));
    }

    /** The outlier detector ({@link Outliers}) on the embedder's pooled features of {@code images}. */
    public static Outliers.Result outliers(LoadedImages images, Backbone embedder) {
        DataSet f = FeatureCache.pooledFeatures(embedder, images);
        return Outliers.detect(f.getFeatures(), images.index());
    }

    /**
     * The stand-in's list of planted outliers ({@code label/file}), used only to score the detector; empty for a set
     * without one.
     */
    public static Set<String> plantedOutliers(Dataset d) {
        Path f = d.dir().resolve("OUTLIERS.txt");
        if (!Files.isRegularFile(f)) {
            return Set.of();
        }
        try {
            Set<String> s = new HashSet<>();
            for (String line : Files.readAllLines(f)) {
                if (!line.isBlank()) {
                    s.add(line.trim());
                }
            }
            return s;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /**
     * The report's split of the cleaned set: a balanced test set ({@value #TEST_PER_CLASS} images of every class;
     * {@value #QUICK_TEST_PER_CLASS} in the quick profile), then the rest split 80/20 into training and validation,
     * stratified, so both keep the set's imbalance.
     */
    public static ImageIndex.ThreeWaySplit split(ImageIndex cleaned, Profile p) {
        ImageIndex.Holdout h = cleaned.balancedTestSplit(p.isQuick() ? QUICK_TEST_PER_CLASS : TEST_PER_CLASS, SEED);
        ImageIndex.Split tv = h.rest().stratifiedSplit(0.8, SEED);
        return new ImageIndex.ThreeWaySplit(tv.train(), tv.validation(), h.test());
    }

    /** The report's final head: global average pooling, Dense 128, ReLU, Dropout (0.3 here), Dense 8 softmax. */
    public static Head head() {
        return head(128);
    }

    /**
     * A head of the report's shape with the given dense layers (e.g. {@code head(256, 128)}, the larger head the report
     * tried): global average pooling, then for each size Dense + ReLU + Dropout (0.3), then Dense 8 softmax.
     */
    public static Head head(int... units) {
        if (units.length == 0) {
            throw new IllegalArgumentException("give at least one dense layer size");
        }
        Head h = Head.globalAveragePooling();
        for (int u : units) {
            h = h.dense(u).dropout(0.3);
        }
        return h.softmax(8);
    }

    /**
     * The report's fine-tuning step: {@code trained} (a classifier whose head was trained on the frozen backbone) with
     * the last {@code unfrozen} share of the backbone's layers made trainable, every BatchNorm layer kept frozen, and
     * a fresh Adam at {@code learningRate}; trained as {@link #trainClassifier} does, with {@code augmentation}.
     */
    public static Experiment.Run fineTune(Experiment exp, String name, Experiment.Run trained, Backbone backbone, LoadedImages images,
                                          ImageIndex.ThreeWaySplit parts, org.leukolab.augmentation.BatchTransform augmentation,
                                          double unfrozen, double learningRate, int epochs, Map<String, ?> extras) {
        var freeze = Freeze.firstFraction(1 - unfrozen).keepBatchNormFrozen();
        var model = Transfer.fineTune(trained.network().graph(), backbone, freeze, Optimizer.adam(learningRate));
        Map<String, Object> facts = new java.util.LinkedHashMap<>(extras);
        facts.put("fine_tuned_from", trained.name());
        facts.put("freeze", freeze.toString());
        facts.put("unfrozen_share", unfrozen);
        return trainClassifier(exp, name, model, backbone, images, parts, augmentation, epochs, learningRate, facts);
    }

    /**
     * One frozen-backbone run under the report's common settings ({@link Report003} lists them): {@code backbone}'s
     * pooled features of {@code images} (cached), the {@link #head} trained on {@code parts.train()} (with balanced
     * class weights when {@code classWeights}), selected by validation macro F1, scored on validation and the
     * balanced test set, recorded under {@code name}.
     */
    public static Experiment.Run trainHead(Experiment exp, String name, Backbone backbone, LoadedImages images,
                                           ImageIndex.ThreeWaySplit parts, int epochs, boolean classWeights, Map<String, ?> extras) {
        DataSet features = FeatureCache.pooledFeatures(backbone, images);
        return trainOn(exp, name, features, images, parts, epochs, classWeights, extras);
    }

    /**
     * {@link #trainHead} once per seed ({@link Experiment#repeat}): a fresh head initialised with each seed, the trainer
     * seeded with it, the same split; recorded under {@code <name>-seed<s>} and {@code <name>-repeats.json}.
     */
    public static org.leukolab.evaluation.Repeats repeatHead(Experiment exp, String name, Backbone backbone, LoadedImages images,
                                                             ImageIndex.ThreeWaySplit parts, int epochs, boolean classWeights,
                                                             List<Long> seeds, Map<String, ?> extras) {
        return repeatOn(exp, name, FeatureCache.pooledFeatures(backbone, images), images, parts, epochs, classWeights, seeds, extras);
    }

    /** {@link #repeatHead} on features already computed (e.g. an ensemble's concatenated features). */
    public static org.leukolab.evaluation.Repeats repeatOn(Experiment exp, String name, DataSet features, LoadedImages images,
                                                           ImageIndex.ThreeWaySplit parts, int epochs, boolean classWeights,
                                                           List<Long> seeds, Map<String, ?> extras) {
        return heads(epochs, classWeights).repeat(exp, name, features, images, parts, seeds, extras);
    }

    /**
     * The common settings of a head on cached features ({@link FeatureHeads}): the report's {@link #head}, Adam 1e-3,
     * batch 32, early stopping on validation macro F1 with patience 4.
     */
    public static FeatureHeads heads(int epochs, boolean classWeights) {
        return new FeatureHeads(head(), BATCH, 1e-3, epochs, 4, classWeights);
    }

    /** {@link #trainHead} on features already computed (e.g. several backbones' features concatenated). */
    public static Experiment.Run trainOn(Experiment exp, String name, DataSet features, LoadedImages images,
                                         ImageIndex.ThreeWaySplit parts, int epochs, boolean classWeights, Map<String, ?> extras) {
        return heads(epochs, classWeights).train(exp, name, features, images, parts, SEED, extras);
    }

    /**
     * Training through a classifier graph (a backbone and the head, some or all of the backbone frozen), the way
     * augmentation and fine-tuning need it: every training batch is made from the images, passed through
     * {@code augmentation} (on pixel values; null for none) and then the backbone's preprocessing; validation and test
     * are only preprocessed. Class weights, selection by validation macro F1 (patience 4, best weights restored), Adam at
     * {@code learningRate}, batch 32; recorded under {@code name}.
     */
    public static Experiment.Run trainClassifier(Experiment exp, String name, org.deeplearning4j.nn.graph.ComputationGraph model,
                                                 Backbone backbone, LoadedImages images, ImageIndex.ThreeWaySplit parts,
                                                 org.leukolab.augmentation.BatchTransform augmentation, int epochs, double learningRate,
                                                 Map<String, ?> extras) {
        return new org.leukolab.compare.ImageTraining(BATCH, learningRate, epochs, 4, true)
                .train(exp, name, model, backbone, images, parts, augmentation, SEED, extras);
    }

    /** The last convolution block's output of a backbone: where Grad-CAM looks (e.g. MobileNetV2's {@code out_relu}). */
    public static String gradCamLayer(Backbone b) {
        return b.featureLayer();
    }

    /**
     * For users with the full PBC download: builds report 003's kind of set into {@code data/pbc96} — {@code cells}
     * images chosen at random from each class in proportion (seeded; the report kept 11,595), each resized whole to
     * 96x96 (bicubic) and stored as JPEG (quality 90), one folder per class, without planted outliers — and installs
     * it so {@link #dataset()} picks it up. Written under a temporary name and renamed when complete.
     */
    public static Path buildFromPbc(Dataset pbc, int cells, long seed) {
        if (pbc.isSample()) {
            throw new IllegalArgumentException(pbc.id() + " is only a sample of PBC; building report 003's set needs the full "
                    + "download: ./leukolab fetch pbc");
        }
        ImageIndex all = pbc.index();
        Map<String, Integer> want = new java.util.LinkedHashMap<>();
        for (String c : all.classes()) {
            long have = all.records().stream().filter(r -> r.label().equals(c)).count();
            want.put(c, (int) Math.round((double) have * cells / all.size()));
        }
        ImageIndex chosen = all.sample(want, seed);
        LoadedImages images = ImageLoader.builder().size(SIZE).interpolation(Interpolation.BICUBIC).noCache().build().load(chosen);
        Path dataDir = DatasetCatalog.standard().dataDir();
        Path target = dataDir.resolve(BUILT_ID);
        if (Files.exists(target)) {
            throw new IllegalStateException(target + " exists already; move it away to build again");
        }
        Path tmp = dataDir.resolve("." + BUILT_ID + ".building-" + ProcessHandle.current().pid());
        try {
            for (int i = 0; i < images.size(); i++) {
                var r = images.index().get(i);
                Path f = tmp.resolve(r.label()).resolve(r.fileName().replaceAll("\\.[^.]+$", "") + ".jpg");
                AtomicFiles.write(f, jpeg(images, i));
            }
            AtomicFiles.writeString(tmp.resolve(DatasetCatalog.INSTALL_MARKER), "{\"id\": \"" + BUILT_ID + "\", \"built_from\": \""
                    + pbc.id() + "\", \"images\": " + images.size() + ", \"seed\": " + seed + "}\n");
            AtomicFiles.move(tmp, target);
            return target;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot build " + target + ": " + e.getMessage(), e);
        }
    }

    private static byte[] jpeg(LoadedImages images, int i) {
        byte[] rgb = images.pixels(i);
        try (Mat m = new Mat(images.height(), images.width(), org.bytedeco.opencv.global.opencv_core.CV_8UC3);
             Mat bgr = new Mat(); BytePointer buf = new BytePointer(); IntPointer params = new IntPointer(IMWRITE_JPEG_QUALITY, 90)) {
            m.data().put(rgb);
            cvtColor(m, bgr, COLOR_RGB2BGR);
            if (!imencode(".jpg", bgr, buf, params)) {
                throw new IllegalStateException("cannot encode " + images.index().get(i).path() + " as JPEG");
            }
            byte[] out = new byte[(int) buf.limit()];
            buf.get(out);
            return out;
        }
    }

    /**
     * Every backbone the library has, at 96x96, each with its ImageNet weights when the file is on this machine and
     * a labelled random start otherwise: the extractor comparison's candidates, the report's nine among them.
     */
    public static List<Extractor> extractors() {
        return extractors(Profile.FULL);
    }

    /** As {@link #extractors()}, with the quick profile's rule of {@link Extractor#all}. */
    public static List<Extractor> extractors(Profile profile) {
        return Extractor.all(SIZE, profile);
    }

    /** The nine extractors the report compared, in its order. */
    public static List<String> reportExtractors() {
        return List.of("VGG16", "ResNet50", "DenseNet121", "InceptionV3", "MobileNetV3Large", "EfficientNetB0", "EfficientNetV2S",
                "EfficientNetV2M", "EfficientNetV2L");
    }

    /**
     * Every published number of the report beside its reproduction saved in {@code store} (test-set macro F1 with its
     * interval); the result names are the ones notebooks 41 to 45 record. Architectures the library lacks show as
     * not run.
     */
    public static org.leukolab.evaluation.Reproduction reproduction(org.leukolab.evaluation.ResultStore store) {
        var table = org.leukolab.evaluation.Published.report003();
        var r = org.leukolab.evaluation.Reproduction.of("report 003: published macro F1 on the balanced test set, and ours", store, "macro_f1");
        // the ensemble's single run, not one seed of its repeat (ensemble-4-pretrained-seed1-test sorts before it)
        String ensemble = store.names().stream().filter(n -> n.startsWith("ensemble-") && n.endsWith("-test") && !store.isRepeatRun(n))
                .findFirst().orElse("ensemble-test");
        for (int i = 0; i < table.rowCount(); i++) {
            String experiment = table.stringColumn("experiment").get(i);
            String configuration = table.stringColumn("configuration").get(i);
            r.row(experiment, configuration, "macro_f1", table.doubleColumn("F1 (%)").get(i), switch (experiment) {
                case "imbalance" -> configuration.startsWith("class") ? "class-weights-test" : "synthetic-data-test";
                case "extractor" -> "extractor-" + configuration.toLowerCase(java.util.Locale.ROOT) + "-test";
                case "ensemble" -> ensemble;
                case "augmentation" -> "augmentation-" + configuration.toLowerCase(java.util.Locale.ROOT).replaceAll("[^a-z]+", "-") + "-test";
                case "fine-tuning" -> configuration.startsWith("60") ? "fine-tune-60-test" : "fine-tune-80-test";
                case "head" -> configuration.equals("Dense 128") ? "fine-tune-80-test" : "head-256-128-fine-tune-80-test";
                default -> throw new IllegalStateException("unknown experiment " + experiment);
            }, org.leukolab.evaluation.Labels.Protocol.AS_PUBLISHED, "test");
        }
        return r;
    }

    /** Epochs to train (capped by {@code LEUKOLAB_MAX_EPOCHS}). */
    public static int epochs(int wanted) {
        return Profile.epochs(wanted);
    }
}

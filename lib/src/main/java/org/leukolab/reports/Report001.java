package org.leukolab.reports;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.leukolab.data.Dataset;
import org.leukolab.data.DatasetCatalog;
import org.leukolab.data.ImageIndex;
import org.leukolab.data.ImageLoader;
import org.leukolab.data.ImageRecord;
import org.leukolab.data.Interpolation;
import org.leukolab.data.LoadedImages;
import org.leukolab.evaluation.Experiment;
import org.leukolab.models.Optimizer;
import org.leukolab.models.backbones.Backbone;
import org.leukolab.models.backbones.Backbones;
import org.leukolab.models.backbones.FeatureCache;
import org.leukolab.models.backbones.Head;
import org.leukolab.training.Batches;
import org.leukolab.training.Network;
import org.nd4j.linalg.dataset.DataSet;
import org.leukolab.system.Profile;

/**
 * Report 001's data protocol, shared by its notebooks: BloodMNIST (MedMNIST v2, 8 classes, 28x28) and the
 * 5-class White Blood Cells set merged into BloodMNIST's 8-class label space, split 70/15/15 with a seed,
 * resized to 224x224 for an ImageNet EfficientNetB0 with added layers, 10 epochs at batch 32.
 *
 * <p><b>Data here.</b> These machines have neither the official BloodMNIST file nor the full WBC set: the mirror
 * installs {@code bloodmnist-standin} (the same recipe from the full PBC set; numbers on it are comparable in kind,
 * not digit for digit) and {@code raabin-wbc-sample} (283 images). {@link Dataset#describe()} says so, and every
 * recorded result carries {@code data: sample + stand-in}. With the official files installed the same code runs the
 * report's data: 17,092 + 16,633 = 33,725 images (the WBC set's Train, Test-A and Test-B folders, all three of which
 * {@code ./leukolab fetch raabin-wbc} installs); notebook 30 checks that count whenever neither dataset is a sample
 * or a stand-in.
 *
 * <p><b>Quick profile:</b> a stratified sample of BloodMNIST (40 per class, all splits pooled) and the whole WBC
 * sample; the merged set is split 70/15/15 as in the full profile.
 */
public final class Report001 {
    public static final String ID = "report-001";
    /** Our choice: the report gives no seed (its split and training are not reproducible from its text). */
    public static final long SEED = 42;
    /** The network's input size (the report resized 28x28 and 575x575 images to 224x224). */
    public static final int SIZE = 224;
    public static final int BATCH = 32;
    public static final int EPOCHS = 10;
    /** The MLP's input size, as the literature row it follows (Veloz, 2025) resized BloodMNIST to 32x32. */
    public static final int MLP_SIZE = 32;
    public static final int QUICK_PER_CLASS = 40;
    /** The merged set's sizes in the report. */
    public static final int FULL_IMAGES = 33_725;
    public static final int FULL_TRAIN = 23_607;
    public static final int FULL_VALIDATION = 5_059;
    public static final int FULL_TEST = 5_059;
    public static final String BLOODMNIST = "bloodmnist";
    public static final String WBC = "raabin-wbc";

    private Report001() {}

    /** Everything report 001's notebooks train and evaluate on. */
    public record Data(Dataset bloodMnistDataset, Dataset wbcDataset, ImageIndex bloodMnist, ImageIndex wbc, ImageIndex merged,
                       ImageIndex.ThreeWaySplit split, Profile profile) {
        /** BloodMNIST's own official split, as in the merged set's images (for the BloodMNIST-only baselines). */
        public ImageIndex bloodMnistSplit(String official) {
            return merged.filter(merged.name() + " [BloodMNIST " + official + "]",
                    r -> r.source().equals(bloodMnistDataset.id()) && r.split().equals(official));
        }

        public String describe() {
            return String.format(java.util.Locale.ROOT, "%s profile: %s (%d images) + %s (%d images) = %d images in %d classes; "
                    + "70/15/15 split (seed %d): %s", profile, bloodMnistDataset.id(), bloodMnist.size(), wbcDataset.id(),
                    wbc.size(), merged.size(), merged.classes().size(), SEED, split.describe());
        }
    }

    /** Reads both datasets, merges them, splits the merged set (a sample of BloodMNIST in the quick profile). */
    public static Data load(Profile p) {
        Dataset b = bloodMnist();
        Dataset w = wbc();
        ImageIndex blood = b.index();
        ImageIndex cells = w.index();
        ImageIndex m = merged(blood, cells, p);
        return new Data(b, w, blood, cells, m, split(m), p);
    }

    /** BloodMNIST's classes in MedMNIST's label order: the merged label space. */
    public static List<String> classes() {
        return DatasetCatalog.standard().spec(BLOODMNIST).classes();
    }

    /** The WBC set's classes mapped onto BloodMNIST's (names compared ignoring case, so the mapping is the identity). */
    public static Map<String, String> wbcMapping() {
        Map<String, String> m = new LinkedHashMap<>();
        for (String c : List.of("Basophil", "Eosinophil", "Lymphocyte", "Monocyte", "Neutrophil")) {
            m.put(c, c.toLowerCase(java.util.Locale.ROOT));
        }
        return m;
    }

    /** The five classes both sources have. */
    public static List<String> sharedClasses() {
        return List.copyOf(wbcMapping().values());
    }

    /** BloodMNIST: the official file if installed, else the stand-in a mirror provides (labelled as such). */
    public static Dataset bloodMnist() {
        return DatasetCatalog.standard().openOrSample(BLOODMNIST);
    }

    /** The White Blood Cells set: the full set if installed, else its sample (labelled as such). */
    public static Dataset wbc() {
        return DatasetCatalog.standard().openOrSample(WBC);
    }

    /** BloodMNIST's images under its official split (a per-class sample of each split in the quick profile). */
    public static ImageIndex bloodMnistOfficial(ImageIndex blood, Profile p) {
        if (!p.isQuick()) {
            return blood;
        }
        ImageIndex[] parts = blood.splits().stream().map(s -> blood.split(s).stratifiedSample(
                s.equals("train") ? QUICK_PER_CLASS : QUICK_PER_CLASS / 4, SEED)).toArray(ImageIndex[]::new);
        return parts[0].concat(blood.name() + " (quick sample of each official split)", java.util.Arrays.copyOfRange(parts, 1, parts.length));
    }

    /**
     * The merged set, as the report built it: every BloodMNIST image (its official splits pooled) and every WBC
     * image (all its folders pooled) in BloodMNIST's 8 classes, each image keeping its source.
     */
    public static ImageIndex merged(ImageIndex blood, ImageIndex wbc, Profile p) {
        ImageIndex b = p.isQuick() ? bloodMnistOfficial(blood, p) : blood;
        return ImageIndex.merge("bloodmnist + white blood cells", classes(), wbcMapping(), b, wbc);
    }

    /**
     * The report's 70/15/15 split of the merged set; stratified by class and seeded with {@link #SEED}: both our choice,
     * since the report states only the proportions.
     */
    public static ImageIndex.ThreeWaySplit split(ImageIndex merged) {
        return merged.stratifiedSplit(0.70, 0.15, 0.15, SEED);
    }

    /** Images of the merged set with their source dataset as the label, over {@code sources} (the shortcut audit's probe). */
    public static ImageIndex bySource(ImageIndex part, List<String> sources) {
        return part.bySource(sources);
    }

    /**
     * The head of notebooks 32 and 33: global average pooling, Dense 128 ReLU, Dropout 0.3, softmax. Our choice: the
     * report says only "added classification layers".
     */
    public static Head head(int classes) {
        return Head.globalAveragePooling().dense(128).dropout(0.3).softmax(classes);
    }

    /**
     * The report's frozen-base training, as notebooks 32 and 33 run it: {@code backbone}'s pooled features of
     * {@code images} (cached), the {@link #head} trained with Adam 0.001 and batch 32 on {@code parts.train()}, scored on
     * its validation and test parts and recorded under {@code name}. Run twice with the same arguments, the second
     * run restores the first from its checkpoint.
     */
    public static Experiment.Run trainHead(Experiment exp, String name, Backbone backbone, LoadedImages images,
                                           ImageIndex.ThreeWaySplit parts, int epochs, org.leukolab.evaluation.Labels.Protocol protocol) {
        DataSet features = FeatureCache.pooledFeatures(backbone, images);
        int classes = parts.train().classes().size();
        var net = head(classes).standalone(new long[] {features.getFeatures().size(1), 1, 1}, Optimizer.adam(1e-3), SEED);
        return exp.run(name, Network.of(net), t -> headSettings(epochs).apply(t).seed(SEED),
                Batches.select(features, images, parts.train()), Batches.select(features, images, parts.validation()),
                Batches.select(features, images, parts.test()), headFacts(protocol, classes, backbone));
    }

    private static java.util.function.UnaryOperator<org.leukolab.training.Trainer.Builder> headSettings(int epochs) {
        return t -> t.epochs(epochs).batchSize(BATCH).learningRate(1e-3);
    }

    private static Map<String, Object> headFacts(org.leukolab.evaluation.Labels.Protocol protocol, int classes, Backbone backbone) {
        return Experiment.facts(protocol.describe("frozen base + head (GAP, Dense 128, Dropout 0.3, softmax " + classes
                + "), Adam 1e-3, batch 32"), Map.of("backbone", backbone.toString()), weights(backbone));
    }

    /**
     * {@link #trainHead} once per seed ({@link Experiment#repeat}): a fresh head initialised with each seed, the trainer
     * seeded with it, the same split; recorded under {@code <name>-seed<s>} and {@code <name>-repeats.json}.
     */
    public static org.leukolab.evaluation.Repeats repeatHead(Experiment exp, String name, Backbone backbone, LoadedImages images,
                                                             ImageIndex.ThreeWaySplit parts, int epochs,
                                                             org.leukolab.evaluation.Labels.Protocol protocol, List<Long> seeds) {
        DataSet features = FeatureCache.pooledFeatures(backbone, images);
        int classes = parts.train().classes().size();
        long[] shape = {features.getFeatures().size(1), 1, 1};
        return exp.repeat(name, seeds, seed -> Network.of(head(classes).standalone(shape, Optimizer.adam(1e-3), seed)),
                headSettings(epochs), Batches.select(features, images, parts.train()),
                Batches.select(features, images, parts.validation()), Batches.select(features, images, parts.test()),
                headFacts(protocol, classes, backbone));
    }

    /**
     * The weights facts of a report-001 backbone as loaded: EfficientNetB0 is the report's own (ImageNet, or random
     * without its file); any other backbone with ImageNet weights is a substitute.
     */
    public static Map<String, Object> weights(Backbone backbone) {
        return Experiment.backboneFacts(backbone, backbone.architecture().equals("EfficientNetB0"));
    }

    /** Only the images of the five shared classes, from one source (or both with {@code source == null}). */
    public static ImageIndex sharedOnly(ImageIndex merged, String source) {
        ImageIndex shared = merged.filter(merged.name() + " (shared classes" + (source == null ? "" : ", " + source) + ")",
                r -> sharedClasses().contains(r.label()) && (source == null || r.source().equals(source)));
        return shared.relabel(shared.name(), sharedClasses(), ImageRecord::label);
    }

    /** Resized as Keras' {@code tf.image.resize} does by default: bilinear, no crop. */
    public static ImageLoader loader(int size) {
        return ImageLoader.builder().size(size).interpolation(Interpolation.BILINEAR).build();
    }

    /**
     * The report's backbone: EfficientNetB0 without its top, ImageNet weights if installed
     * ({@code ./leukolab fetch weights-efficientnetb0-notop}), else its random start, labelled.
     */
    public static Backbone efficientNetB0() {
        return Backbones.imagenetOrRandom(Backbones.efficientNetB0(SIZE, false));
    }

    /**
     * The pretrained substitute these machines have: MobileNetV2 alpha 0.5 with its official ImageNet weights (a
     * different, smaller network, labelled as a substitute wherever it is used).
     */
    public static Backbone substitute() {
        return Backbones.imagenetOrRandom(Backbones.mobileNetV2(0.5, SIZE, false));
    }

    /** Epochs to train (capped by {@code LEUKOLAB_MAX_EPOCHS}). */
    public static int epochs(int wanted) {
        return Profile.epochs(wanted);
    }

    /**
     * The report's published accuracies beside the saved reproductions (result names as notebooks 31 and 32 record
     * them): EfficientNetB0 (a labelled random base without its ImageNet file) and the pretrained substitute; the MLP,
     * whose published figure is a training accuracy at its last epoch, against ours at the same epoch (like for like).
     */
    public static org.leukolab.evaluation.Reproduction reproduction(org.leukolab.evaluation.ResultStore store) {
        var r = org.leukolab.evaluation.Reproduction.of("report 001: published and reproduced, test split of the merged set", store, "accuracy");
        double eff = 100 * org.leukolab.evaluation.Published.report001("EfficientNetB0").accuracy();
        var asPublished = org.leukolab.evaluation.Labels.Protocol.AS_PUBLISHED;
        r.row("EfficientNetB0 + added layers", "as published (frozen base, head)", "accuracy", eff, "efficientnetb0-head-test", asPublished, "test");
        r.row("EfficientNetB0 + added layers", "substitute backbone: MobileNetV2 0.5 (ImageNet), head", "accuracy", eff,
                "mobilenetv2-0.5-head-test", asPublished, "test");
        r.row("EfficientNetB0 + added layers", "our addition: the substitute fine-tuned (top 40%, 1 epoch)", "accuracy", eff,
                "mobilenetv2-0.5-fine-tuned-test", org.leukolab.evaluation.Labels.Protocol.OURS, "test");
        r.row("MLP", "training accuracy at the last epoch (20), as the report prints it", "train_accuracy_at_last_epoch",
                100 * org.leukolab.evaluation.Published.report001("MLP").accuracy(), "mlp-bloodmnist-test", asPublished, "training");
        return r;
    }
}

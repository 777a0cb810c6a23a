package org.leukolab.reports;

import java.util.List;
import java.util.Locale;
import org.leukolab.data.Dataset;
import org.leukolab.data.DatasetCatalog;
import org.leukolab.data.ImageIndex;
import org.leukolab.data.ImageLoader;
import org.leukolab.data.LoadedImages;
import org.leukolab.preprocessing.ContourCropper;
import org.leukolab.data.Interpolation;
import org.leukolab.preprocessing.JpegRoundTrip;
import org.leukolab.system.Profile;

/**
 * Report 002's data protocol, shared by its notebooks: the blood-cells TRAIN folder, contour-cropped as
 * the report did (its slice fall-back included), written and read back as JPEG, resized to 128x128
 * (OpenCV's bilinear default); a random 80/20 split of TRAIN with seed 42 (7,965 / 1,992 images); and
 * the TEST folder (2,487 images), which the report never used, prepared the same way.
 *
 * <p>The quick profile takes a stratified sample: 60 TRAIN images per class (split 80/20 as above) and
 * 30 TEST images per class.
 */
public final class Report002 {
    public static final long SEED = 42;
    public static final int SIZE = 128;
    public static final String ID = "report-002";

    private Report002() {}

    /** Everything a report-002 notebook trains and evaluates on. */
    public record Data(ImageIndex train, ImageIndex validation, ImageIndex test, LoadedImages trainImages,
                       LoadedImages validationImages, LoadedImages testImages, Profile profile) {
        public java.util.List<String> classes() {
            return trainImages.classes();
        }

        public String describe() {
            return String.format(Locale.ROOT, "%s profile: train %d, validation %d (random 80/20 of TRAIN, seed %d), "
                    + "TEST %d; %dx%d contour-cropped crops", profile, trainImages.size(), validationImages.size(), SEED,
                    testImages.size(), SIZE, SIZE);
        }
    }

    public static Dataset dataset() {
        return DatasetCatalog.standard().open("blood-cells");
    }

    /** The TRAIN folder (a per-class sample in the quick profile). */
    public static ImageIndex trainFolder(ImageIndex all, Profile p) {
        ImageIndex t = all.split("TRAIN");
        return p.isQuick() ? t.stratifiedSample(60, SEED) : t;
    }

    /** The TEST folder (a per-class sample in the quick profile). */
    public static ImageIndex testFolder(ImageIndex all, Profile p) {
        ImageIndex t = all.split("TEST");
        return p.isQuick() ? t.stratifiedSample(30, SEED) : t;
    }

    /** The report's random split of TRAIN: 80/20, seed 42. */
    public static ImageIndex.Split randomSplit(ImageIndex train) {
        return train.randomSplit(0.8, SEED);
    }

    /** Crop as published (Python slice fall-back), JPEG round trip, 128x128 bilinear. */
    public static ImageLoader publishedLoader() {
        return ImageLoader.builder().size(SIZE).interpolation(Interpolation.BILINEAR)
                .transform(new ContourCropper(ContourCropper.Mode.REPORT)).transform(JpegRoundTrip.opencvDefault()).build();
    }

    /** Loads (or reads from the image cache) train, validation and TEST as the report prepared them. */
    public static Data load(Profile p) {
        ImageIndex all = dataset().index();
        ImageIndex.Split split = randomSplit(trainFolder(all, p));
        ImageIndex test = testFolder(all, p);
        ImageLoader loader = publishedLoader();
        return new Data(split.train(), split.validation(), test, loader.load(split.train()),
                loader.load(split.validation()), loader.load(test), p);
    }

    /** Epochs to train, capped by {@code LEUKOLAB_MAX_EPOCHS} (for partial full-profile runs on slow machines). */
    public static int epochs(int wanted) {
        return Profile.epochs(wanted);
    }

    /**
     * The report's published results (accuracy and macro F1 on its random validation split) beside the saved
     * reproductions, as published and corrected; the held-out TEST folder, which the report did not score, as extra
     * rows without a published number (result names as notebooks 12 and 13 record them).
     */
    public static org.leukolab.evaluation.Reproduction reproduction(org.leukolab.evaluation.ResultStore store) {
        var r = org.leukolab.evaluation.Reproduction.of("report 002: published and reproduced, random validation split", store, "accuracy");
        var rf = org.leukolab.evaluation.Published.report002("Random Forest");
        var vgg = org.leukolab.evaluation.Published.report002("VGG16");
        var cnn = org.leukolab.evaluation.Published.report002("Custom CNN");
        var asPublished = org.leukolab.evaluation.Labels.Protocol.AS_PUBLISHED;
        var corrected = org.leukolab.evaluation.Labels.Protocol.CORRECTED;
        for (String metric : List.of("accuracy", "macro_f1")) {
            double rfP = 100 * (metric.equals("accuracy") ? rf.accuracy() : rf.macroF1());
            r.row("Random Forest", "as published (one-hot labels; no output counts as wrong)", metric, rfP, "random-forest-published-val",
                    asPublished, "validation");
            r.row("Random Forest", "corrected: one label per image, majority vote", metric, rfP, "random-forest-majority-val",
                    corrected, "validation");
            double vggP = 100 * (metric.equals("accuracy") ? vgg.accuracy() : vgg.macroF1());
            r.row("VGG16 (frozen) + head", "as published (raw 0..255 inputs)", metric, vggP, "vgg16-published-val", asPublished, "validation");
            r.row("VGG16 (frozen) + head", "corrected: VGG16's own preprocessing", metric, vggP, "vgg16-caffe-val", corrected, "validation");
            r.row("VGG16 (frozen) + head", "substitute backbone: MobileNetV2 0.5 (ImageNet)", metric, vggP, "mobilenetv2-0.5-val",
                    asPublished, "validation");
            r.row("custom CNN", "as published (10 epochs, SGD 0.001)", metric, 100 * (metric.equals("accuracy") ? cnn.accuracy() : cnn.macroF1()),
                    "custom-cnn-val", asPublished, "validation");
        }
        r.row("VGG16 (frozen) + head", "substitute backbone, split grouped by near-copies (corrected, notebook 14)", "accuracy",
                100 * vgg.accuracy(), "mobilenetv2-head-grouped-split-val", corrected, "validation");
        for (String metric : List.of("accuracy", "macro_f1")) {
            r.row("Random Forest", "as published, held-out TEST folder (not scored by the report)", metric, Double.NaN,
                    "random-forest-published-test", asPublished, null);
            r.row("Random Forest", "corrected (majority vote), held-out TEST folder (not scored by the report)", metric, Double.NaN,
                    "random-forest-majority-test", corrected, null);
            r.row("custom CNN", "as published, held-out TEST folder (not scored by the report)", metric, Double.NaN, "custom-cnn-test",
                    asPublished, null);
        }
        return r;
    }
}

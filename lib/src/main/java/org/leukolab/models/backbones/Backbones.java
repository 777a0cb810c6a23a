package org.leukolab.models.backbones;

import java.nio.file.Path;
import org.leukolab.models.keras.KerasWeightFile;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The ImageNet backbones of the reports, built in DL4J and loaded from the official Keras Applications
 * weight files.
 *
 * <pre>{@code
 * Backbone b = Backbones.imagenetOrRandom(Backbones.mobileNetV2(0.35, 224, false));
 * b.pretrained();            // false (and the reason in b.weightsSource()) when the file is absent
 * }</pre>
 */
public final class Backbones {
    private static final Logger LOG = LoggerFactory.getLogger(Backbones.class);
    private static final long SEED = 12345;

    private Backbones() {}

    public static Backbone vgg16(int size, boolean includeTop) {
        return Vgg16.build(size, includeTop, 1000, true, SEED);
    }

    public static Backbone resNet50(int size, boolean includeTop) {
        return ResNet50.build(size, includeTop, 1000, true, SEED);
    }

    public static Backbone mobileNetV2(double alpha, int size, boolean includeTop) {
        return MobileNetV2.build(alpha, size, includeTop, 1000, true, SEED);
    }

    public static Backbone efficientNetB0(int size, boolean includeTop) {
        return EfficientNetB0.build(size, includeTop, 1000, true, SEED);
    }

    /** MobileNet version 1 (Keras' {@code MobileNet}); ImageNet files for alpha 0.25, 0.5, 0.75, 1.0. */
    public static Backbone mobileNetV1(double alpha, int size, boolean includeTop) {
        return MobileNetV1.build(alpha, size, includeTop, 1000, true, SEED);
    }

    /** SqueezeNet 1.1 as keras-squeezenet builds it (its ImageNet weights are DeepScale's). */
    public static Backbone squeezeNet(int size, boolean includeTop) {
        return SqueezeNet.build(size, includeTop, 1000, true, SEED);
    }

    /** DenseNet121 (Keras' {@code DenseNet121}); 'torch' preprocessing. */
    public static Backbone denseNet121(int size, boolean includeTop) {
        return DenseNet.build(121, size, includeTop, 1000, true, SEED);
    }

    /** Inception v3 (Keras' {@code InceptionV3}); inputs of at least 75x75. */
    public static Backbone inceptionV3(int size, boolean includeTop) {
        return InceptionV3.build(size, includeTop, 1000, true, SEED);
    }

    /** MobileNetV3 Large at width 1.0 (Keras' {@code MobileNetV3Large}); takes raw 0..255 pixels. */
    public static Backbone mobileNetV3Large(int size, boolean includeTop) {
        return MobileNetV3.large(size, includeTop, 1000, true, SEED);
    }

    /** EfficientNetV2 S, M or L (Keras' {@code EfficientNetV2S/M/L}); takes raw 0..255 pixels. */
    public static Backbone efficientNetV2(String variant, int size, boolean includeTop) {
        return EfficientNetV2.build(variant, size, includeTop, 1000, true, SEED);
    }

    /**
     * Loads the official ImageNet file for this backbone, or throws {@link ImageNetWeights.Missing}.
     * MobileNetV2 has one file per training resolution (96 to 224) as Keras does; when the one for this
     * input size is absent, a no-top backbone takes the 224 file (the shapes are the same; it is then
     * labelled as trained at 224).
     */
    public static Backbone withImageNetWeights(Backbone b) {
        java.util.Optional<Path> file = ImageNetWeights.find(b.weightFile());
        if (file.isEmpty() && b.architecture().startsWith("MobileNet") && !b.includeTop() && b.inputSize() != 224) {
            String alt = b.weightFile().replaceFirst("_(96|128|160|192)_no_top\\.h5$", "_224_no_top.h5")
                    .replaceFirst("_(128|160|192)_tf_no_top\\.h5$", "_224_tf_no_top.h5");
            java.util.Optional<Path> at224 = ImageNetWeights.find(alt);
            if (at224.isPresent()) {
                return load(b, at224.get(), true, "imagenet: " + alt + " (trained at 224x224, used at "
                        + b.inputSize() + "x" + b.inputSize() + ")");
            }
        }
        Path f = file.orElseGet(() -> ImageNetWeights.locate(b.weightFile()));
        return load(b, f, true, "imagenet: " + f.getFileName());
    }

    /**
     * The ImageNet weights if their file is here; otherwise the same architecture with its random start,
     * labelled as such (its {@link Backbone#weightsSource()} says which file was missing and how to get it).
     */
    public static Backbone imagenetOrRandom(Backbone b) {
        try {
            return withImageNetWeights(b);
        } catch (ImageNetWeights.Missing e) {
            LOG.warn("{}; continuing with RANDOM weights", e.getMessage());
            return b.withWeightsSource("random initialisation (" + b.weightFile() + " not found: fetch with "
                    + ImageNetWeights.entry(b.weightFile()).map(x -> "./leukolab fetch " + x.id()).orElse("a manual download") + ")");
        }
    }

    /** Loads any Keras HDF5 weight file of this architecture (name- or position-matched, shapes checked). */
    public static Backbone load(Backbone b, Path file, boolean imagenetExtras, String label) {
        try (KerasWeightFile f = new KerasWeightFile(file)) {
            KerasWeightLoader.Report r = KerasWeightLoader.load(b, f, imagenetExtras);
            LOG.info("{}: {} layers loaded from {} (matched by {})", b.architecture(), r.layers(), file.getFileName(), r.matchedBy());
            return b.withWeightsSource(label);
        }
    }

    static void checkSize(String arch, int size, int min) {
        if (size < min) {
            throw new IllegalArgumentException(arch + " needs inputs of at least " + min + "x" + min + ", got " + size);
        }
    }

    /** Keras' imagenet_utils.correct_pad: {top, bottom, left, right} before a stride-2 'valid' convolution. */
    static int[] correctPad(int[] hwc, int kernel) {
        int c = kernel / 2;
        int adjH = 1 - hwc[0] % 2;
        int adjW = 1 - hwc[1] % 2;
        return new int[] {c - adjH, c, c - adjW, c};
    }
}

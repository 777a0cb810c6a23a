package org.leukolab.compare;

import java.util.ArrayList;
import java.util.List;
import java.util.function.Supplier;
import org.leukolab.models.backbones.Backbone;
import org.leukolab.models.backbones.Backbones;
import org.leukolab.system.Profile;

/** A backbone used as a frozen feature extractor, with what its weights are ("ImageNet" or a labelled random start). */
public record Extractor(String name, Backbone backbone, String weights) {
    /** Backbones above this many parameters are left out of the quick profile unless pretrained (CI time). */
    public static final long QUICK_PROFILE_MAX_RANDOM_PARAMETERS = 30_000_000L;

    public boolean pretrained() {
        return backbone.pretrained();
    }

    /**
     * Every backbone the library has (the nine of report 003 and MobileNetV2 1.0 / 0.5 / 0.35, MobileNet 0.25,
     * SqueezeNet 1.1) at {@code size} x {@code size}, each with its ImageNet weights when the file is on this machine and
     * a labelled random start otherwise. In the quick profile, backbones with a random start and more than
     * {@link #QUICK_PROFILE_MAX_RANDOM_PARAMETERS} parameters are left out, with a log line naming them: they say nothing
     * without their weights and would double a notebook's time in CI.
     */
    public static List<Extractor> all(int size, Profile profile) {
        List<Supplier<Backbone>> all = makers(size);
        List<Extractor> out = new ArrayList<>();
        List<String> left = new ArrayList<>();
        for (var make : all) {
            Backbone b = Backbones.imagenetOrRandom(make.get());
            if (profile == Profile.QUICK && !b.pretrained() && b.parameters() > QUICK_PROFILE_MAX_RANDOM_PARAMETERS) {
                left.add(b.architecture());
                continue;
            }
            out.add(new Extractor(b.architecture(), b, b.pretrained() ? "ImageNet" : "random (no ImageNet file here)"));
        }
        if (!left.isEmpty()) {
            org.slf4j.LoggerFactory.getLogger(Extractor.class).info("quick profile: left out {} (random start, over {} M "
                    + "parameters); the full profile runs them", left, QUICK_PROFILE_MAX_RANDOM_PARAMETERS / 1_000_000);
        }
        return out;
    }

    /**
     * Only the backbones whose ImageNet file is on this machine, loaded with it; one log line names the others (a head
     * on random weights says nothing about a backbone).
     */
    public static List<Extractor> pretrained(int size) {
        List<Extractor> out = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (var make : makers(size)) {
            Backbone b = make.get();
            try {
                Backbone loaded = Backbones.withImageNetWeights(b);
                out.add(new Extractor(loaded.architecture(), loaded, "ImageNet"));
            } catch (org.leukolab.models.backbones.ImageNetWeights.Missing e) {
                missing.add(b.architecture());
            }
        }
        org.slf4j.LoggerFactory.getLogger(Extractor.class).info("backbones with ImageNet weights here: {}; without their file (left "
                + "out): {}", out.stream().map(Extractor::name).toList(), missing);
        return out;
    }

    /** InceptionV3 needs inputs of at least this side (as in Keras); below it, it is left out. */
    public static final int INCEPTION_MIN_SIZE = 75;

    private static List<Supplier<Backbone>> makers(int size) {
        List<Supplier<Backbone>> m = new ArrayList<>(List.of(() -> Backbones.vgg16(size, false),
                () -> Backbones.resNet50(size, false), () -> Backbones.denseNet121(size, false), () -> Backbones.inceptionV3(size, false),
                () -> Backbones.mobileNetV3Large(size, false), () -> Backbones.efficientNetB0(size, false),
                () -> Backbones.efficientNetV2("S", size, false), () -> Backbones.efficientNetV2("M", size, false),
                () -> Backbones.efficientNetV2("L", size, false), () -> Backbones.mobileNetV2(1.0, size, false),
                () -> Backbones.mobileNetV2(0.5, size, false), () -> Backbones.mobileNetV2(0.35, size, false),
                () -> Backbones.mobileNetV1(0.25, size, false), () -> Backbones.squeezeNet(size, false)));
        if (size < INCEPTION_MIN_SIZE) {
            m.remove(3);
            org.slf4j.LoggerFactory.getLogger(Extractor.class).info("InceptionV3 left out: it needs inputs of at least {}x{} (here {})",
                    INCEPTION_MIN_SIZE, INCEPTION_MIN_SIZE, size);
        }
        return m;
    }

    /** A result name for this extractor's head, e.g. {@code mobilenetv2-alpha-0.5}. */
    public String slug() {
        return name.replaceAll("[^A-Za-z0-9.]+", "-").replaceAll("-$", "").toLowerCase(java.util.Locale.ROOT);
    }
}

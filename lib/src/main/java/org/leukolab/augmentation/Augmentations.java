package org.leukolab.augmentation;

import java.util.Random;
import org.leukolab.balancing.Augmenter;
import org.leukolab.preprocessing.KerasPreprocessing;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * The augmentations of report 003's study, as batch transforms on pixel values 0..255, and the step that turns pixels
 * into a backbone's input at the end:
 *
 * <pre>{@code
 * Augmentations.traditional().then(Augmentations.preprocessing(KerasPreprocessing.TF))
 * Augmentations.mixUpOrCutMix(0.2, 1.0).then(Augmentations.preprocessing(KerasPreprocessing.TF))
 * }</pre>
 */
public final class Augmentations {
    private Augmentations() {}

    /** Per-image flips, rotation, zoom, brightness and contrast ({@link Augmenter#report003()}). */
    public static BatchTransform traditional() {
        return new Traditional(Augmenter.report003());
    }

    public static BatchTransform mixUp(double alpha) {
        return MixUp.withAlpha(alpha);
    }

    public static BatchTransform cutMix(double alpha) {
        return CutMix.withAlpha(alpha);
    }

    /**
     * "MixUp + CutMix": each batch gets one of the two, at random with equal probability (timm's and KerasCV's usual way
     * of using both), MixUp with {@code Beta(mixUpAlpha)} and CutMix with {@code Beta(cutMixAlpha)}.
     */
    public static BatchTransform mixUpOrCutMix(double mixUpAlpha, double cutMixAlpha) {
        BatchTransform mix = MixUp.withAlpha(mixUpAlpha);
        BatchTransform cut = CutMix.withAlpha(cutMixAlpha);
        return new BatchTransform() {
            @Override
            public DataSet apply(INDArray features, INDArray labels, Random random) {
                return (random.nextBoolean() ? mix : cut).apply(features, labels, random);
            }

            @Override
            public String id() {
                return "one of " + mix.id() + " | " + cut.id() + " per batch";
            }
        };
    }

    public static BatchTransform randAugment(int n, double magnitude) {
        return RandAugment.of(n, magnitude);
    }

    /** A backbone's Keras preprocessing as the last step (pixels 0..255 in, the backbone's input out). */
    public static BatchTransform preprocessing(KerasPreprocessing p) {
        return new BatchTransform() {
            @Override
            public DataSet apply(INDArray features, INDArray labels, Random random) {
                return new DataSet(p.apply(features), labels);
            }

            @Override
            public String id() {
                return "keras-" + p;
            }
        };
    }
}

package org.leukolab.augmentation;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * A change made to every training mini-batch as it is prepared: it sees the batch's features and labels
 * and a random generator, and returns new features and labels. On-the-fly augmentation, MixUp and CutMix
 * are written this way; they change labels too (MixUp's labels are mixtures), which is why a transform
 * sees them.
 *
 * <p><b>Determinism.</b> The trainer hands each step its own generator, seeded from the run's seed, the
 * epoch and the step's position, so the same seed gives the same batches whatever thread prepares them
 * (transforms run on the trainer's prefetch thread) and also after a resume.
 *
 * <p><b>Contract.</b> Features are NCHW images (or any array with the examples first); labels are
 * {@code [n, classes]} rows summing to 1. A transform must not modify its inputs in place, must return
 * labels whose rows still sum to 1, and must draw every random number from the generator it is given.
 */
public interface BatchTransform {
    /** The transformed batch: new arrays, the inputs untouched. */
    DataSet apply(INDArray features, INDArray labels, Random random);

    /**
     * A short text that changes whenever the transform's output would change (name and parameters); it is
     * part of the trainer's checkpoint signature, so a run is never resumed under another augmentation.
     */
    String id();

    /** The batch unchanged. */
    static BatchTransform identity() {
        return new BatchTransform() {
            @Override
            public DataSet apply(INDArray features, INDArray labels, Random random) {
                return new DataSet(features, labels);
            }

            @Override
            public String id() {
                return "identity";
            }
        };
    }

    /** This transform, then {@code next} on its output (both draw from the same generator, in that order). */
    default BatchTransform then(BatchTransform next) {
        BatchTransform first = this;
        List<String> ids = new ArrayList<>(List.of(first.id(), next.id()));
        return new BatchTransform() {
            @Override
            public DataSet apply(INDArray features, INDArray labels, Random random) {
                DataSet a = first.apply(features, labels, random);
                return next.apply(a.getFeatures(), a.getLabels(), random);
            }

            @Override
            public String id() {
                return String.join(" + ", ids);
            }
        };
    }

    /**
     * With probability {@code p} this transform, otherwise the batch unchanged (one draw per batch).
     */
    default BatchTransform sometimes(double p) {
        if (!(p >= 0 && p <= 1)) {
            throw new IllegalArgumentException("probability must be in [0, 1], got " + p);
        }
        BatchTransform t = this;
        return new BatchTransform() {
            @Override
            public DataSet apply(INDArray features, INDArray labels, Random random) {
                return random.nextDouble() < p ? t.apply(features, labels, random) : new DataSet(features, labels);
            }

            @Override
            public String id() {
                return t.id() + " with p=" + p;
            }
        };
    }
}

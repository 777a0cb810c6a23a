package org.leukolab.models;

import org.deeplearning4j.nn.conf.dropout.Dropout;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;

/**
 * Keras-flavoured layer builders for DL4J.
 *
 * <p>Two DL4J defaults differ from Keras in ways that silently change a reproduced model, so every
 * model in leukolab builds these layers through here:
 * <ul>
 *   <li>DL4J's dropout argument is the probability of <em>keeping</em> an activation; Keras' is the
 *       probability of <em>dropping</em> it. {@link #dropout(double)} takes the Keras meaning.</li>
 *   <li>Keras BatchNormalization uses momentum 0.99 and epsilon 1e-3; DL4J defaults to decay 0.9 and
 *       epsilon 1e-5. {@link #kerasBatchNorm()} uses the Keras values.</li>
 * </ul>
 */
public final class Layers {
    /** Keras BatchNormalization defaults. */
    public static final double KERAS_BN_MOMENTUM = 0.99;
    public static final double KERAS_BN_EPSILON = 1e-3;

    private Layers() {}

    /** A dropout layer that drops {@code dropRate} of its inputs during training (Keras meaning). */
    public static DropoutLayer dropout(double dropRate) {
        if (!(dropRate >= 0 && dropRate < 1)) {
            throw new IllegalArgumentException("drop rate must be in [0, 1), got " + dropRate);
        }
        return new DropoutLayer.Builder().dropOut(new Dropout(1.0 - dropRate)).build();
    }

    /** Batch normalisation with Keras' default momentum and epsilon. */
    public static BatchNormalization kerasBatchNorm() {
        return new BatchNormalization.Builder().decay(KERAS_BN_MOMENTUM).eps(KERAS_BN_EPSILON).build();
    }
}

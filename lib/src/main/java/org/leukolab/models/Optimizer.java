package org.leukolab.models;

import java.util.Locale;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import java.util.ArrayList;
import java.util.List;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.MultiLayerConfiguration;
import org.deeplearning4j.nn.conf.graph.LayerVertex;
import org.deeplearning4j.nn.conf.layers.BaseLayer;
import org.deeplearning4j.nn.conf.layers.Layer;
import org.nd4j.linalg.learning.regularization.WeightDecay;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.Sgd;

/**
 * An optimiser as Keras names them, for DL4J, which splits one into an updater and a regularisation.
 *
 * <p><b>AdamW.</b> ND4J has no AdamW updater. Keras' {@code AdamW} is Adam plus decoupled weight decay:
 * before each step every variable shrinks by {@code lr x weight_decay x w}, outside the adaptive update.
 * DL4J's {@code WeightDecay(coeff, applyLR = true)} is exactly that (applied after the updater, scaled by
 * the current learning rate, from the same pre-step weights), so {@link #adamW(double)} is Adam with
 * Keras' defaults (beta 0.9 / 0.999, epsilon 1e-7) plus {@code WeightDecay(0.004, true)} on weights and
 * biases. One difference remains and is DL4J's: it never regularises batch normalisation's gamma and
 * beta, which Keras' AdamW decays too (by {@code lr x 0.004} of their value per step, opposed by their
 * gradients).
 *
 * @param weightDecay decoupled weight decay coefficient (0: none)
 */
public record Optimizer(String name, IUpdater updater, double weightDecay) {
    /** Keras' AdamW default weight decay. */
    public static final double KERAS_ADAMW_WEIGHT_DECAY = 0.004;
    /** Keras' default epsilon for Adam and AdamW (ND4J's default is 1e-8). */
    public static final double KERAS_EPSILON = 1e-7;

    /** Keras' {@code AdamW(learning_rate=lr)} with its defaults. */
    public static Optimizer adamW(double lr) {
        return adamW(lr, KERAS_ADAMW_WEIGHT_DECAY);
    }

    public static Optimizer adamW(double lr, double weightDecay) {
        return new Optimizer(String.format(Locale.ROOT, "AdamW(lr=%s, weight_decay=%s)", lr, weightDecay),
                new Adam(lr, 0.9, 0.999, KERAS_EPSILON), weightDecay);
    }

    /** Keras' {@code Adam(learning_rate=lr)} with its defaults (epsilon 1e-7). */
    public static Optimizer adam(double lr) {
        return new Optimizer(String.format(Locale.ROOT, "Adam(lr=%s)", lr), new Adam(lr, 0.9, 0.999, KERAS_EPSILON), 0);
    }

    /** Plain stochastic gradient descent. */
    public static Optimizer sgd(double lr) {
        return new Optimizer(String.format(Locale.ROOT, "SGD(lr=%s)", lr), new Sgd(lr), 0);
    }

    /** Any ND4J updater, without weight decay. */
    public static Optimizer of(IUpdater updater) {
        return new Optimizer(updater.getClass().getSimpleName(), updater, 0);
    }

    public Optimizer {
        if (weightDecay < 0) {
            throw new IllegalArgumentException("weight decay must be >= 0, got " + weightDecay);
        }
    }

    /**
     * Sets the updater on a DL4J network builder. The weight decay is set on the built configuration by
     * {@link #applyTo(MultiLayerConfiguration)} / {@link #applyTo(ComputationGraphConfiguration)}: DL4J
     * 1.0.0-M2.1's builder-level {@code weightDecay(...)} ends up in every layer's list twice (the layer
     * shares the builder's list and validation appends the builder's entries to it again), which decays
     * twice as fast as asked.
     */
    public NeuralNetConfiguration.Builder configure(NeuralNetConfiguration.Builder b) {
        return b.updater(updater.clone());
    }

    /** The weight decay on every layer with weights (no-op without weight decay). Call before {@code init()}. */
    public MultiLayerConfiguration applyTo(MultiLayerConfiguration conf) {
        conf.getConfs().forEach(c -> applyTo(c.getLayer()));
        return conf;
    }

    /** The weight decay on every layer with weights (no-op without weight decay). Call before {@code init()}. */
    public ComputationGraphConfiguration applyTo(ComputationGraphConfiguration conf) {
        conf.getVertices().values().forEach(v -> {
            if (v instanceof LayerVertex lv) {
                applyTo(lv.getLayerConf().getLayer());
            }
        });
        return conf;
    }

    /** Sets this optimiser's updater and weight decay on one layer (e.g. when a graph is re-frozen). */
    public void applyTo(Layer layer) {
        if (layer instanceof BaseLayer bl) {
            bl.setIUpdater(updater.clone());
            bl.setBiasUpdater(null);
            if (weightDecay > 0) {
                bl.setRegularization(new ArrayList<>(List.of(new WeightDecay(weightDecay, true))));
                bl.setRegularizationBias(new ArrayList<>(List.of(new WeightDecay(weightDecay, true))));
            }
        }
    }

    /** The starting learning rate. */
    public double learningRate() {
        return updater.getLearningRate(0, 0);
    }

    @Override
    public String toString() {
        return name;
    }
}

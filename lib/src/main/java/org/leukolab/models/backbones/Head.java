package org.leukolab.models.backbones;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.deeplearning4j.nn.conf.ComputationGraphConfiguration;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.graph.PreprocessorVertex;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.conf.preprocessor.CnnToFeedForwardPreProcessor;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.weights.WeightInit;
import org.leukolab.models.Layers;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * A classification head to put on a backbone's feature map, written like the Keras code of the reports:
 *
 * <pre>{@code
 * // report 002: Flatten, BatchNorm, Dense 256 + Dropout 0.7, BatchNorm, Dense 128 + Dropout 0.5, Dense 64 + Dropout 0.3, softmax 4
 * Head.flatten().batchNorm().dense(256).dropout(0.7).batchNorm().dense(128).dropout(0.5).dense(64).dropout(0.3).softmax(4)
 * // report 000: GlobalAveragePooling2D, Dense 16 ReLU, BatchNorm, softmax 5
 * Head.globalAveragePooling().dense(16).batchNorm().softmax(5)
 * }</pre>
 *
 * Dense layers use ReLU unless told otherwise; batch norm and dropout take Keras' meaning
 * ({@link Layers}). Vertices are named {@code head_0_flatten}, {@code head_1_bn}, ...,
 * {@code head_output}, so a head trained alone on cached features can be copied onto a backbone.
 */
public final class Head {
    enum Step { FLATTEN, GAP, GMP, DENSE, DROPOUT, BATCH_NORM }

    record Item(Step step, int units, Activation activation, double rate) {}

    private final List<Item> items = new ArrayList<>();
    private int classes = -1;

    private Head() {}

    public static Head flatten() {
        return new Head().add(new Item(Step.FLATTEN, 0, null, 0));
    }

    public static Head globalAveragePooling() {
        return new Head().add(new Item(Step.GAP, 0, null, 0));
    }

    public static Head globalMaxPooling() {
        return new Head().add(new Item(Step.GMP, 0, null, 0));
    }

    private Head add(Item i) {
        if (classes > 0) {
            throw new IllegalStateException("the head already ends with its softmax output");
        }
        items.add(i);
        return this;
    }

    public Head dense(int units) {
        return dense(units, Activation.RELU);
    }

    public Head dense(int units, Activation activation) {
        return add(new Item(Step.DENSE, units, activation, 0));
    }

    /** Keras Dropout(rate): drops {@code rate} of the activations while training. */
    public Head dropout(double rate) {
        return add(new Item(Step.DROPOUT, 0, null, rate));
    }

    /** Keras BatchNormalization (momentum 0.99, epsilon 1e-3). */
    public Head batchNorm() {
        return add(new Item(Step.BATCH_NORM, 0, null, 0));
    }

    /** The softmax output over {@code classes}, trained with categorical cross-entropy. */
    public Head softmax(int classes) {
        if (classes < 2) {
            throw new IllegalArgumentException("need at least 2 classes");
        }
        this.classes = classes;
        return this;
    }

    public int classes() {
        return classes;
    }

    /** Where head vertices go: DL4J's graph builder or its transfer-learning builder. */
    interface Sink {
        void layer(String name, org.deeplearning4j.nn.conf.layers.Layer layer, String input);

        void vertex(String name, org.deeplearning4j.nn.conf.graph.GraphVertex vertex, String input);
    }

    String appendTo(ComputationGraphConfiguration.GraphBuilder b, String input, int h, int w, int c) {
        return appendTo(new Sink() {
            @Override
            public void layer(String name, org.deeplearning4j.nn.conf.layers.Layer layer, String in) {
                b.addLayer(name, layer, in);
            }

            @Override
            public void vertex(String name, org.deeplearning4j.nn.conf.graph.GraphVertex vertex, String in) {
                b.addVertex(name, vertex, in);
            }
        }, input, h, w, c);
    }

    /** Adds the head's vertices after {@code input} (a CNN feature map of shape h, w, c). Returns the output name. */
    String appendTo(Sink b, String input, int h, int w, int c) {
        if (classes < 0) {
            throw new IllegalStateException("end the head with softmax(classes)");
        }
        String prev = input;
        long size = 0; // features entering the next layer (set explicitly: DL4J's transfer builder does not infer it)
        for (int i = 0; i < items.size(); i++) {
            Item it = items.get(i);
            String name = String.format(Locale.ROOT, "head_%d_%s", i, it.step().name().toLowerCase(Locale.ROOT));
            switch (it.step()) {
                case FLATTEN -> {
                    b.vertex(name, new PreprocessorVertex(new CnnToFeedForwardPreProcessor(h, w, c)), prev);
                    size = (long) h * w * c;
                }
                case GAP -> {
                    b.layer(name, new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), prev);
                    size = c;
                }
                case GMP -> {
                    b.layer(name, new GlobalPoolingLayer.Builder(PoolingType.MAX).build(), prev);
                    size = c;
                }
                case DENSE -> {
                    b.layer(name, new DenseLayer.Builder().nIn(size).nOut(it.units()).activation(it.activation())
                            .weightInit(WeightInit.XAVIER_UNIFORM).build(), prev);
                    size = it.units();
                }
                case DROPOUT -> b.layer(name, Layers.dropout(it.rate()), prev);
                case BATCH_NORM -> {
                    org.deeplearning4j.nn.conf.layers.BatchNormalization bn = Layers.kerasBatchNorm();
                    bn.setNIn(size);
                    bn.setNOut(size);
                    b.layer(name, bn, prev);
                }
                default -> throw new IllegalStateException();
            }
            prev = name;
        }
        b.layer("head_output", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(size).nOut(classes)
                .activation(Activation.SOFTMAX).weightInit(WeightInit.XAVIER_UNIFORM).build(), prev);
        return "head_output";
    }

    /** The head alone, taking feature maps of shape (c, h, w) as input: to train on cached features. */
    public ComputationGraph standalone(long[] featureShapeChw, IUpdater updater, long seed) {
        return standalone(featureShapeChw, org.leukolab.models.Optimizer.of(updater), seed);
    }

    /** The head alone on feature maps of shape (c, h, w), with an optimiser (e.g. {@code Optimizer.adamW(1e-3)}). */
    public ComputationGraph standalone(long[] featureShapeChw, org.leukolab.models.Optimizer optimizer, long seed) {
        int c = (int) featureShapeChw[0];
        int h = (int) featureShapeChw[1];
        int w = (int) featureShapeChw[2];
        ComputationGraphConfiguration.GraphBuilder b = optimizer.configure(new NeuralNetConfiguration.Builder().seed(seed))
                .graphBuilder().addInputs("features").setInputTypes(InputType.convolutional(h, w, c));
        b.setOutputs(appendTo(b, "features", h, w, c));
        ComputationGraph g = new ComputationGraph(optimizer.applyTo(b.build()));
        g.init();
        return g;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder();
        for (Item i : items) {
            sb.append(switch (i.step()) {
                case FLATTEN -> "Flatten";
                case GAP -> "GlobalAveragePooling";
                case GMP -> "GlobalMaxPooling";
                case DENSE -> "Dense " + i.units() + " " + i.activation().name().toLowerCase(Locale.ROOT);
                case DROPOUT -> "Dropout " + i.rate();
                case BATCH_NORM -> "BatchNorm";
            }).append(", ");
        }
        return sb.append("softmax ").append(classes).toString();
    }
}

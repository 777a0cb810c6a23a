package org.leukolab.models.backbones;

import java.util.List;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.leukolab.preprocessing.KerasPreprocessing;

/**
 * An ImageNet architecture built as a DL4J graph, with what is needed to load Keras weights into it
 * and to feed it: the Keras preprocessing, the official weight file names, and the layer that gives
 * the features (the last convolutional block's output).
 *
 * @param weightsSource where its weights came from: {@code imagenet: <file>}, a fixture path, or
 *                      {@code random initialisation (...)} — shown by notebooks next to every result
 */
public record Backbone(String architecture, ComputationGraph graph, int inputSize, boolean includeTop,
                       KerasPreprocessing preprocessing, String featureLayer, String weightFile,
                       List<KerasGraph.Mapped> mappedLayers, String weightsSource) {
    public Backbone withWeightsSource(String source) {
        return new Backbone(architecture, graph, inputSize, includeTop, preprocessing, featureLayer, weightFile,
                mappedLayers, source);
    }

    /** The same network fed with another input preprocessing (e.g. report 002's raw pixels into VGG16). */
    public Backbone withPreprocessing(KerasPreprocessing p) {
        return new Backbone(architecture, graph, inputSize, includeTop, p, featureLayer, weightFile, mappedLayers,
                weightsSource);
    }

    /** True when the weights are ImageNet's (not a random start). */
    public boolean pretrained() {
        return weightsSource != null && weightsSource.startsWith("imagenet");
    }

    public long parameters() {
        return graph.numParams();
    }

    /**
     * Parameters of the input normalisation folded into the graph as a layer (EfficientNet's stem: a fixed mean and
     * variance per channel, never trained); 0 for backbones without one. Other libraries (torchvision) leave this step
     * to the data pipeline, so it is what to subtract before comparing parameter counts.
     */
    public long inputNormalizationParameters() {
        long n = 0;
        for (KerasGraph.Mapped m : mappedLayers) {
            if (m.kind() == KerasGraph.Kind.NORMALIZATION) {
                n += graph.getLayer(m.name()).numParams();
            }
        }
        return n;
    }

    @Override
    public String toString() {
        return String.format("%s (%dx%d input, %s top, %,d parameters; weights: %s)", architecture, inputSize,
                inputSize, includeTop ? "with" : "no", parameters(), weightsSource);
    }
}

package org.leukolab.models.backbones;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.function.BiFunction;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * Parameter counts and feature-map shapes at 224x224 against Keras' own (keras-summaries.json, written
 * by the fixture script from model.count_params()).
 */
class KerasSummaryTest {
    static JsonObject summaries() {
        return new Gson().fromJson(new InputStreamReader(KerasSummaryTest.class.getResourceAsStream(
                "/org/leukolab/models/backbones/keras-summaries.json"), StandardCharsets.UTF_8), JsonObject.class);
    }

    static BiFunction<Integer, Boolean, Backbone> builder(String label) {
        return switch (label) {
            case "VGG16" -> Backbones::vgg16;
            case "ResNet50" -> Backbones::resNet50;
            case "MobileNetV2 (alpha 1.0)" -> (s, t) -> Backbones.mobileNetV2(1.0, s, t);
            case "MobileNetV2 (alpha 0.5)" -> (s, t) -> Backbones.mobileNetV2(0.5, s, t);
            case "MobileNetV2 (alpha 0.35)" -> (s, t) -> Backbones.mobileNetV2(0.35, s, t);
            case "EfficientNetB0" -> Backbones::efficientNetB0;
            case "MobileNet (alpha 0.25)" -> (s, t) -> Backbones.mobileNetV1(0.25, s, t);
            case "SqueezeNet 1.1" -> Backbones::squeezeNet;
            case "DenseNet121" -> Backbones::denseNet121;
            case "InceptionV3" -> Backbones::inceptionV3;
            case "MobileNetV3Large" -> Backbones::mobileNetV3Large;
            case "EfficientNetV2S" -> (s, t) -> Backbones.efficientNetV2("S", s, t);
            case "EfficientNetV2M" -> (s, t) -> Backbones.efficientNetV2("M", s, t);
            case "EfficientNetV2L" -> (s, t) -> Backbones.efficientNetV2("L", s, t);
            default -> throw new IllegalArgumentException(label);
        };
    }

    /**
     * EfficientNet's input normalisation is a Keras Normalization layer (mean 3 + variance 3 + a scalar
     * count = 7 numbers); leukolab folds it into a frozen batch norm (gamma, beta, mean, var = 12 numbers).
     */
    static long dl4jExtra(String label, Backbone b) {
        if (label.equals("EfficientNetB0")) {
            return 5;
        }
        if (label.equals("InceptionV3")) {
            // Keras builds its batch norms with scale=False (no gamma); DL4J's always has one, fixed at 1 when loaded
            long gammas = 0;
            for (org.deeplearning4j.nn.api.Layer l : b.graph().getLayers()) {
                if (l.paramTable().containsKey("gamma")) {
                    gammas += l.getParam("gamma").length();
                }
            }
            return gammas;
        }
        return 0;
    }

    @ParameterizedTest(name = "{0}, top={1}")
    @CsvSource(delimiter = ';', value = {
        "VGG16;false", "VGG16;true", "ResNet50;false", "ResNet50;true",
        "MobileNetV2 (alpha 1.0);false", "MobileNetV2 (alpha 1.0);true", "MobileNetV2 (alpha 0.5);false",
        "MobileNetV2 (alpha 0.35);false", "MobileNetV2 (alpha 0.35);true", "EfficientNetB0;false", "EfficientNetB0;true",
        "MobileNet (alpha 0.25);false", "MobileNet (alpha 0.25);true", "SqueezeNet 1.1;false", "SqueezeNet 1.1;true",
        "DenseNet121;false", "DenseNet121;true", "InceptionV3;false", "InceptionV3;true",
        "MobileNetV3Large;false", "MobileNetV3Large;true", "EfficientNetV2S;false", "EfficientNetV2S;true",
        "EfficientNetV2M;false", "EfficientNetV2M;true", "EfficientNetV2L;false", "EfficientNetV2L;true"})
    void parameterCountAndFeatureMapMatchKeras(String label, boolean top) {
        JsonObject k = summaries().getAsJsonObject(label);
        Backbone b = builder(label).apply(224, top);
        long keras = k.get(top ? "params_top" : "params_notop").getAsLong();
        assertEquals(keras + dl4jExtra(label, b), b.parameters(), label + " parameters");
        if (!top) {
            int[] hwc = Transfer.featureShape(b);
            int[] want = new int[3];
            for (int i = 0; i < 3; i++) {
                want[i] = k.getAsJsonArray("feature_map_hwc").get(i).getAsInt();
            }
            assertArrayEquals(want, hwc, label + " feature map");
        }
    }

    /** The input normalisation is counted apart: without it EfficientNetB0 has Keras' weights less its 7 normalisation numbers. */
    @org.junit.jupiter.api.Test
    void inputNormalizationParametersAreThoseOfTheFoldedNormalizationLayer() {
        Backbone b0 = Backbones.efficientNetB0(96, false);
        assertEquals(12, b0.inputNormalizationParameters(), "mean, variance, gamma, beta of 3 channels");
        long keras = summaries().getAsJsonObject("EfficientNetB0").get("params_notop").getAsLong();
        assertEquals(keras - 7, b0.parameters() - b0.inputNormalizationParameters(), "EfficientNetB0 weights without normalisation");
        assertEquals(0, Backbones.mobileNetV2(0.5, 96, false).inputNormalizationParameters(), "MobileNetV2 has none");
    }
}

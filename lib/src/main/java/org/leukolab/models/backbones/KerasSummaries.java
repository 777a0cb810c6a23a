package org.leukolab.models.backbones;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Keras' own parameter counts and feature-map shapes at 224x224 (from {@code model.count_params()}, written
 * by {@code data-scripts/keras-fixtures/make_fixtures.py --summaries}), beside the DL4J graphs' counts.
 */
public final class KerasSummaries {
    private KerasSummaries() {}

    static JsonObject read() {
        return new Gson().fromJson(new InputStreamReader(KerasSummaries.class.getResourceAsStream("keras-summaries.json"),
                StandardCharsets.UTF_8), JsonObject.class);
    }

    /**
     * One row per architecture (no top, 224x224): Keras' count, DL4J's, the difference and its reason,
     * and the feature map. Builds each graph, which takes a few seconds.
     */
    public static Table compare() {
        JsonObject k = read();
        Map<String, Supplier<Backbone>> builders = new LinkedHashMap<>();
        builders.put("VGG16", () -> Backbones.vgg16(224, false));
        builders.put("ResNet50", () -> Backbones.resNet50(224, false));
        builders.put("MobileNetV2 (alpha 1.0)", () -> Backbones.mobileNetV2(1.0, 224, false));
        builders.put("MobileNetV2 (alpha 0.5)", () -> Backbones.mobileNetV2(0.5, 224, false));
        builders.put("MobileNetV2 (alpha 0.35)", () -> Backbones.mobileNetV2(0.35, 224, false));
        builders.put("EfficientNetB0", () -> Backbones.efficientNetB0(224, false));
        StringColumn arch = StringColumn.create("architecture");
        LongColumn keras = LongColumn.create("Keras parameters");
        LongColumn dl4j = LongColumn.create("DL4J parameters");
        StringColumn note = StringColumn.create("difference");
        StringColumn map = StringColumn.create("feature map (h x w x c)");
        IntColumn layers = IntColumn.create("weighted layers");
        builders.forEach((label, build) -> {
            Backbone b = build.get();
            JsonObject s = k.getAsJsonObject(label);
            long kp = s.get("params_notop").getAsLong();
            arch.append(label);
            keras.append(kp);
            dl4j.append(b.parameters());
            long diff = b.parameters() - kp;
            note.append(diff == 0 ? "none" : diff == 5 && label.startsWith("EfficientNet")
                    ? "+5: input normalisation held as a frozen batch norm (gamma, beta) instead of Keras' count" : "+" + diff);
            int[] hwc = Transfer.featureShape(b);
            map.append(hwc[0] + " x " + hwc[1] + " x " + hwc[2]);
            layers.append(b.mappedLayers().size());
        });
        return Table.create("backbones at 224x224 without top: DL4J against Keras", arch, keras, dl4j, note, map, layers);
    }

    /** Architectures in the summary file. */
    public static List<String> architectures() {
        return read().keySet().stream().filter(x -> !x.startsWith("_")).toList();
    }
}

package org.leukolab.models.backbones;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.leukolab.models.keras.KerasWeightFile;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * Copies the arrays of a Keras HDF5 weight file into a graph built by {@link KerasGraph}, converting
 * Keras layouts to DL4J's and checking every shape.
 *
 * <p>Layers are matched by name when the file uses the architecture's current Keras names; otherwise
 * by position among the layers that carry weights, which is how Keras itself loads these files (the
 * official MobileNetV2 files still carry the old keras-applications names such as
 * {@code mobl1_conv_1_expand}). Either way every array's shape must agree, so a file of another
 * architecture, width or input size is refused with the first layer that differs.
 */
public final class KerasWeightLoader {
    /** What was loaded: how layers were matched, and any file layers the model had no use for. */
    public record Report(String matchedBy, int layers, List<String> unusedFileLayers) {}

    private KerasWeightLoader() {}

    /**
     * @param imagenetExtras apply Keras' ImageNet-only additions (EfficientNet's extra 1/sqrt(std)
     *                       rescaling); true for the official files, false for weights made with
     *                       {@code weights=None} models.
     */
    public static Report load(Backbone backbone, KerasWeightFile file, boolean imagenetExtras) {
        List<KerasGraph.Mapped> mapped = backbone.mappedLayers();
        Map<String, KerasWeightFile.Layer> byName = file.byName();
        List<KerasWeightFile.Layer> source = new ArrayList<>();
        String matchedBy;
        if (mapped.stream().allMatch(m -> byName.containsKey(m.name()))) {
            mapped.forEach(m -> source.add(byName.get(m.name())));
            matchedBy = "name";
        } else if (mapped.stream().allMatch(m -> byName.containsKey(countedFromOne(m.name())))) {
            mapped.forEach(m -> source.add(byName.get(countedFromOne(m.name()))));
            matchedBy = "name (the file's automatic names count from 1, as Keras 2.0 named layers)";
        } else {
            if (file.layers().size() != mapped.size()) {
                String missing = mapped.stream().filter(m -> !byName.containsKey(m.name())).findFirst()
                        .map(KerasGraph.Mapped::name).orElse("?");
                throw new IllegalArgumentException(file.path() + " does not fit " + backbone.architecture()
                        + (backbone.includeTop() ? " with top" : " without top") + ": the model has " + mapped.size()
                        + " layers with weights, the file " + file.layers().size() + ", and the names differ (the model's '"
                        + missing + "' is not in the file). Is it the file for this architecture, width and top?");
            }
            source.addAll(file.layers());
            matchedBy = "position (Keras' topological order; the file uses other layer names)";
        }
        ComputationGraph g = backbone.graph();
        for (int i = 0; i < mapped.size(); i++) {
            assign(g, mapped.get(i), file, source.get(i), imagenetExtras);
        }
        List<String> used = source.stream().map(KerasWeightFile.Layer::name).toList();
        List<String> unused = file.layers().stream().map(KerasWeightFile.Layer::name).filter(n -> !used.contains(n)).toList();
        return new Report(matchedBy, mapped.size(), unused);
    }

    private static final java.util.regex.Pattern AUTO_NAME = java.util.regex.Pattern.compile("(conv2d|batch_normalization|dense)(?:_(\\d+))?");

    /**
     * Today's Keras names unnamed layers {@code conv2d}, {@code conv2d_1}, ...; Keras 2.0, which wrote some official
     * files (InceptionV3's), started at {@code conv2d_1}. The name the older Keras gave the same layer.
     */
    static String countedFromOne(String name) {
        java.util.regex.Matcher m = AUTO_NAME.matcher(name);
        if (!m.matches()) {
            return name;
        }
        int n = m.group(2) == null ? 0 : Integer.parseInt(m.group(2));
        return m.group(1) + "_" + (n + 1);
    }

    private static void assign(ComputationGraph g, KerasGraph.Mapped m, KerasWeightFile file,
                               KerasWeightFile.Layer src, boolean imagenetExtras) {
        Layer layer = g.getLayer(m.name());
        Map<String, INDArray> arrays = new java.util.LinkedHashMap<>();
        for (String w : src.weightNames()) {
            String key = w.substring(w.lastIndexOf('/') + 1).replace(":0", "");
            if (!key.equals("count")) {
                arrays.put(key, file.read(src.name(), w).castTo(DataType.FLOAT));
            }
        }
        String where = "layer '" + m.name() + "' (file layer '" + src.name() + "')";
        if (!arrays.containsKey("kernel") && !arrays.containsKey("depthwise_kernel") && arrays.size() <= 2
                && (m.kind() == KerasGraph.Kind.CONV || m.kind() == KerasGraph.Kind.DENSE || m.kind() == KerasGraph.Kind.DENSE_FROM_1X1_CONV)) {
            // Keras 1 files (keras-squeezenet's) name arrays after their initialiser ('uniform1', 'conv1_b'): kernel, then bias
            List<INDArray> ordered = new ArrayList<>(arrays.values());
            arrays.clear();
            arrays.put("kernel", ordered.get(0));
            if (ordered.size() == 2) {
                arrays.put("bias", ordered.get(1));
            }
        }
        switch (m.kind()) {
            case CONV -> {
                set(layer, "W", need(arrays, "kernel", where).permute(3, 2, 0, 1), where);
                setBias(layer, arrays, where);
            }
            case DEPTHWISE -> {
                set(layer, "W", need(arrays, "depthwise_kernel", where), where);
                setBias(layer, arrays, where);
            }
            case DENSE -> {
                set(layer, "W", need(arrays, "kernel", where), where);
                setBias(layer, arrays, where);
            }
            case DENSE_AFTER_FLATTEN -> {
                int[] s = m.flattenHwc();
                INDArray k = need(arrays, "kernel", where);
                long out = k.size(1);
                // Keras flattens (h, w, c); DL4J flattens NCHW maps as (c, h, w)
                INDArray reordered = k.reshape('c', s[0], s[1], s[2], out).permute(2, 0, 1, 3).dup('c')
                        .reshape('c', (long) s[0] * s[1] * s[2], out);
                set(layer, "W", reordered, where);
                setBias(layer, arrays, where);
            }
            case DENSE_FROM_1X1_CONV -> {
                INDArray k = need(arrays, "kernel", where);
                set(layer, "W", k.reshape('c', k.size(2), k.size(3)), where);
                setBias(layer, arrays, where);
            }
            case BATCH_NORM -> {
                long c = layer.getParam("mean").length();
                set(layer, "gamma", arrays.containsKey("gamma") ? arrays.get("gamma") : ones(c), where);
                set(layer, "beta", arrays.containsKey("beta") ? arrays.get("beta") : zeros(c), where);
                set(layer, "mean", need(arrays, "moving_mean", where), where);
                set(layer, "var", need(arrays, "moving_variance", where), where);
            }
            case NORMALIZATION -> {
                // Keras: ((x / 255) - mean) / sqrt(variance) [* 1/sqrt(std) with ImageNet weights], on raw pixels
                INDArray mean = need(arrays, "mean", where).reshape(-1);
                INDArray var = need(arrays, "variance", where).reshape(-1);
                INDArray gamma = ones(mean.length());
                if (imagenetExtras && m.extraScale() != null) {
                    for (int i = 0; i < m.extraScale().length; i++) {
                        gamma.putScalar(i, 1.0 / Math.sqrt(m.extraScale()[i]));
                    }
                }
                set(layer, "mean", mean.mul(255.0), where);
                set(layer, "var", var.mul(255.0 * 255.0), where);
                set(layer, "gamma", gamma, where);
                set(layer, "beta", zeros(mean.length()), where);
            }
            default -> throw new IllegalStateException("unknown mapping " + m.kind());
        }
    }

    private static INDArray need(Map<String, INDArray> arrays, String key, String where) {
        INDArray a = arrays.get(key);
        if (a == null) {
            throw new IllegalArgumentException(where + ": the file has no '" + key + "' array (it has " + arrays.keySet() + ")");
        }
        return a;
    }

    private static void setBias(Layer layer, Map<String, INDArray> arrays, String where) {
        boolean modelHasBias = layer.paramTable().containsKey("b");
        if (arrays.containsKey("bias") != modelHasBias) {
            throw new IllegalArgumentException(where + ": the file " + (modelHasBias ? "lacks" : "has") + " a bias, the model "
                    + (modelHasBias ? "has one" : "does not"));
        }
        if (modelHasBias) {
            set(layer, "b", arrays.get("bias"), where);
        }
    }

    private static void set(Layer layer, String key, INDArray value, String where) {
        INDArray target = layer.getParam(key);
        if (target == null) {
            throw new IllegalStateException(where + ": model parameter '" + key + "' not found");
        }
        INDArray v = value;
        if (!Arrays.equals(target.shape(), v.shape())) {
            if (target.length() == v.length() && (target.rank() <= 2 && v.rank() == 1 || v.rank() <= 2 && target.rank() == 1)) {
                v = v.reshape(target.shape()); // vectors: [c] versus [1, c]
            } else {
                throw new IllegalArgumentException(where + ": '" + key + "' has shape " + Arrays.toString(value.shape())
                        + " after conversion, the model expects " + Arrays.toString(target.shape()));
            }
        }
        target.assign(v);
    }

    private static INDArray ones(long n) {
        return org.nd4j.linalg.factory.Nd4j.ones(DataType.FLOAT, n);
    }

    private static INDArray zeros(long n) {
        return org.nd4j.linalg.factory.Nd4j.zeros(DataType.FLOAT, n);
    }
}

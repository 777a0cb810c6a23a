package org.leukolab.models.keras;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A Keras HDF5 weight file, as Keras Applications publishes them (weights only: the root attribute
 * {@code layer_names}, one group per layer with a {@code weight_names} attribute) or as
 * {@code model.save("x.h5")} writes them (the same under {@code /model_weights}). Read with JavaCPP's
 * HDF5 bindings ({@link Hdf5Reader}).
 */
public final class KerasWeightFile implements AutoCloseable {
    /** One layer of the file that has weights, in the file's (topological) order. */
    public record Layer(String name, List<String> weightNames, List<long[]> shapes) {}

    private final Hdf5Reader h5;
    private final String[] root;
    private final List<Layer> layers;

    public KerasWeightFile(Path path) {
        this.h5 = new Hdf5Reader(path);
        try {
            this.root = h5.groups().contains("model_weights") ? new String[] {"model_weights"} : new String[0];
            if (!h5.hasAttribute("layer_names", root)) {
                throw new IllegalArgumentException("no layer_names attribute");
            }
            List<Layer> ls = new ArrayList<>();
            for (String layer : h5.stringArrayAttribute("layer_names", root)) {
                List<String> names = h5.stringArrayAttribute("weight_names", concat(root, layer));
                if (names.isEmpty()) {
                    continue;
                }
                List<long[]> shapes = new ArrayList<>();
                for (String w : names) {
                    shapes.add(read(layer, w).shape());
                }
                ls.add(new Layer(layer, names, shapes));
            }
            this.layers = List.copyOf(ls);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException(path + " is not a Keras HDF5 weight file: " + e.getMessage(), e);
        }
    }

    public Path path() {
        return h5.path();
    }

    /** The layers that carry weights, in the order the file lists them (Keras' topological order). */
    public List<Layer> layers() {
        return layers;
    }

    public Map<String, Layer> byName() {
        Map<String, Layer> m = new LinkedHashMap<>();
        layers.forEach(l -> m.put(l.name(), l));
        return m;
    }

    /** One weight array of a layer, in Keras' layout, e.g. {@code read("Conv1", "Conv1/kernel:0")}. */
    public INDArray read(String layer, String weightName) {
        String[] parts = weightName.split("/");
        String[] groups = concat(root, layer);
        for (int i = 0; i < parts.length - 1; i++) {
            groups = concat(groups, parts[i]);
        }
        return h5.readFloat(parts[parts.length - 1], groups);
    }

    /** Nothing stays open between calls; kept so callers can use try-with-resources. */
    @Override
    public void close() {
    }

    private static String[] concat(String[] a, String b) {
        String[] out = java.util.Arrays.copyOf(a, a.length + 1);
        out[a.length] = b;
        return out;
    }
}

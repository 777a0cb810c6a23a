package org.leukolab.training;

import com.google.gson.Gson;
import com.google.gson.GsonBuilder;
import com.google.gson.JsonObject;
import com.google.gson.reflect.TypeToken;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipInputStream;
import java.util.zip.ZipOutputStream;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.util.ModelSerializer;
import org.leukolab.data.DataIssue;
import org.leukolab.data.DatasetException;
import org.leukolab.data.ImageLoader;
import org.leukolab.data.ImageTransform;
import org.leukolab.data.Interpolation;
import org.leukolab.data.LoadedImages;
import org.leukolab.metrics.Scores;
import org.leukolab.notebook.Rich;
import org.leukolab.notebook.Tables;
import org.leukolab.preprocessing.ImageTransforms;
import org.leukolab.system.AtomicFiles;
import org.leukolab.system.RunInfo;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A trained model with everything needed to use it again: the network, its classes, and how an image
 * becomes its input (size, interpolation, the decoding transforms such as a contour crop, the scaling or
 * backbone preprocessing, the tensor layout), plus where it came from (report, data, protocol, run facts).
 * One file ({@code .zip}: the DL4J model and a {@code leukolab-model.json}); one call to load it and classify
 * a new image file.
 *
 * <pre>{@code
 * SavedModel.of(Network.of(net), trainBatches).provenance("report", "report-003", "protocol", "fine-tuned 60%")
 *         .save(Workspace.buildDir().resolve("models/report-003-final.zip"));
 * SavedModel m = SavedModel.load(path);
 * m.classify(Path.of("cell.jpg"));       // most probable class and every class's probability
 * }</pre>
 */
public final class SavedModel implements Rich {
    /** Version of the file layout. */
    public static final String FORMAT = "leukolab-model v1";
    private static final String META = "leukolab-model.json";
    private static final String NETWORK = "dl4j-model.zip";
    private static final Gson GSON = new GsonBuilder().setPrettyPrinting().create();

    private final Network network;
    private final List<String> classes;
    private final Input input;
    private final Map<String, String> provenance;

    /**
     * How an image file becomes the network's input.
     *
     * @param transforms ids of the decoding transforms ({@link ImageTransform#id()}), in order
     * @param steps      names of the tensor steps ({@link ImageBatches#steps()}), in order
     */
    public record Input(int height, int width, String interpolation, List<String> transforms, List<String> steps, String layout) {
        JsonObject toJson() {
            JsonObject o = new JsonObject();
            o.addProperty("height", height);
            o.addProperty("width", width);
            o.addProperty("interpolation", interpolation);
            o.add("transforms", GSON.toJsonTree(transforms));
            o.add("steps", GSON.toJsonTree(steps));
            o.addProperty("layout", layout);
            return o;
        }

        static Input fromJson(JsonObject o) {
            java.lang.reflect.Type strings = new TypeToken<List<String>>() { }.getType();
            return new Input(o.get("height").getAsInt(), o.get("width").getAsInt(), o.get("interpolation").getAsString(),
                    GSON.fromJson(o.get("transforms"), strings), GSON.fromJson(o.get("steps"), strings), o.get("layout").getAsString());
        }

        ImageLoader loader() {
            ImageLoader.Builder b = ImageLoader.builder().size(height, width).interpolation(Interpolation.valueOf(interpolation))
                    .noCache().progress(false);
            for (String t : transforms) {
                b.transform(ImageTransforms.fromId(t));
            }
            return b.build();
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%dx%d %s%s%s, %s", height, width, interpolation.toLowerCase(Locale.ROOT),
                    transforms.isEmpty() ? "" : ", " + String.join(" + ", transforms),
                    steps.isEmpty() ? "" : ", then " + String.join(", ", steps), layout);
        }
    }

    private SavedModel(Network network, List<String> classes, Input input, Map<String, String> provenance) {
        this.network = network;
        this.classes = List.copyOf(classes);
        this.input = input;
        this.provenance = new LinkedHashMap<>(provenance);
    }

    /**
     * A model trained on {@code batches}: its classes and input pipeline are taken from them (the images'
     * loader and the batches' steps). The network must take those batches as input.
     */
    public static SavedModel of(Network network, ImageBatches batches) {
        LoadedImages images = batches.images();
        ImageLoader loader = images.loader().orElseThrow(() -> new IllegalArgumentException(
                "these images were not made by an ImageLoader, so how to prepare a new image is unknown"));
        for (String s : batches.steps()) {
            ImageBatches.withSteps(images, batches.format(), List.of(s)); // refuses custom steps now, not at load time
        }
        Input in = new Input(loader.height(), loader.width(), loader.interpolation().name(),
                loader.transforms().stream().map(ImageTransform::id).toList(), batches.steps(), batches.format().name());
        for (String t : in.transforms()) {
            ImageTransforms.fromId(t);
        }
        Map<String, String> prov = new LinkedHashMap<>();
        prov.put("trained on", images.index().name() + " (" + images.size() + " images)");
        prov.put("sources", String.join(", ", images.index().sources()));
        return new SavedModel(network, images.classes(), in, prov);
    }

    /** Adds facts about where the model came from (pairs of key and value: report, data, protocol, ...). */
    public SavedModel provenance(String... keyValues) {
        if (keyValues.length % 2 != 0) {
            throw new IllegalArgumentException("give keys and values in pairs");
        }
        Map<String, String> p = new LinkedHashMap<>(provenance);
        for (int i = 0; i < keyValues.length; i += 2) {
            p.put(keyValues[i], keyValues[i + 1]);
        }
        return new SavedModel(network, classes, input, p);
    }

    public Network network() {
        return network;
    }

    public List<String> classes() {
        return classes;
    }

    public Input input() {
        return input;
    }

    public Map<String, String> provenance() {
        return Map.copyOf(provenance);
    }

    /** Writes the model file (atomically); returns it. */
    public Path save(Path file) {
        JsonObject meta = new JsonObject();
        meta.addProperty("format", FORMAT);
        meta.add("classes", GSON.toJsonTree(classes));
        meta.add("input", input.toJson());
        meta.addProperty("network", network.model() instanceof MultiLayerNetwork ? "MultiLayerNetwork" : "ComputationGraph");
        meta.addProperty("parameters", network.parameters());
        Map<String, String> prov = new LinkedHashMap<>(provenance);
        RunInfo.current().forEach((k, v) -> prov.putIfAbsent("saved " + k, v));
        meta.add("provenance", GSON.toJsonTree(prov));
        return AtomicFiles.write(file, out -> {
            ZipOutputStream zip = new ZipOutputStream(out);
            zip.putNextEntry(new ZipEntry(META));
            zip.write(GSON.toJson(meta).getBytes(StandardCharsets.UTF_8));
            zip.closeEntry();
            zip.putNextEntry(new ZipEntry(NETWORK));
            ModelSerializer.writeModel(network.model(), new java.io.FilterOutputStream(zip) {
                @Override
                public void write(byte[] b, int off, int len) throws IOException {
                    out.write(b, off, len);
                }

                @Override
                public void close() throws IOException {
                    flush(); // ModelSerializer closes its stream; the outer zip entry must stay open
                }
            }, false);
            zip.closeEntry();
            zip.finish();
        });
    }

    /** Reads a model file written by {@link #save}; a clear error for a file that is not one. */
    public static SavedModel load(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new DatasetException.Missing(file + " does not exist (a saved model is a .zip written by SavedModel.save)");
        }
        JsonObject meta = null;
        byte[] net = null;
        try (ZipInputStream zip = new ZipInputStream(Files.newInputStream(file))) {
            for (ZipEntry e; (e = zip.getNextEntry()) != null; ) {
                if (e.getName().equals(META)) {
                    meta = GSON.fromJson(new String(zip.readAllBytes(), StandardCharsets.UTF_8), JsonObject.class);
                } else if (e.getName().equals(NETWORK)) {
                    net = zip.readAllBytes();
                }
            }
        } catch (IOException | RuntimeException e) {
            throw new IllegalArgumentException(file + " cannot be read as a saved model (" + e.getMessage() + ")", e);
        }
        if (meta == null || net == null || !meta.has("format") || !FORMAT.equals(meta.get("format").getAsString())) {
            throw new IllegalArgumentException(file + " is not a leukolab saved model (" + FORMAT + "): it lacks "
                    + (meta == null ? META : net == null ? NETWORK : "the format line"));
        }
        List<String> classes = GSON.fromJson(meta.get("classes"), new TypeToken<List<String>>() { }.getType());
        Input input = Input.fromJson(meta.getAsJsonObject("input"));
        Map<String, String> prov = GSON.fromJson(meta.get("provenance"), new TypeToken<LinkedHashMap<String, String>>() { }.getType());
        Network network;
        try (InputStream in = new ByteArrayInputStream(net)) {
            network = "MultiLayerNetwork".equals(meta.get("network").getAsString())
                    ? Network.of(ModelSerializer.restoreMultiLayerNetwork(in, false))
                    : Network.of(ModelSerializer.restoreComputationGraph(in, false));
        } catch (IOException e) {
            throw new UncheckedIOException(file + ": the network inside cannot be read (" + e.getMessage() + ")", e);
        }
        return new SavedModel(network, classes, input, prov);
    }

    /**
     * A classified image: the most probable class, its probability, every class's probability, and what the loader
     * found wrong with the file ({@code issues}: a JPEG decoded with a warning, a picture converted to 8-bit RGB; empty
     * for a clean file). A flagged picture's class is shown with a warning, never as a plain answer.
     */
    public record Classification(Path file, String predicted, double probability, Map<String, Double> probabilities,
                                 List<DataIssue> issues) implements Rich {
        public Classification {
            issues = List.copyOf(issues);
        }

        /** True when the loader flagged the picture as damaged (decoded with a warning): the class may be meaningless. */
        public boolean damaged() {
            return issues.stream().anyMatch(i -> i.kind() == DataIssue.Kind.DECODE_WARNING);
        }

        @Override
        public String toString() {
            String head = String.format(Locale.ROOT, "%s: %s (%.3f)", file.getFileName(), predicted, probability);
            if (issues.isEmpty()) {
                return head;
            }
            return head + (damaged() ? " -- WARNING: the picture is damaged, so this class may be meaningless: " : " -- note: ")
                    + issues.stream().map(i -> i.kind() + ": " + i.detail()).collect(java.util.stream.Collectors.joining("; "));
        }

        @Override
        public Map<String, Object> mimeBundle() {
            String html = "<p><b>" + Tables.escape(file.getFileName().toString()) + "</b>: " + Tables.escape(predicted)
                    + String.format(Locale.ROOT, " (%.3f)", probability) + "</p>";
            for (DataIssue i : issues) {
                html += "<p style='color:" + (i.kind() == DataIssue.Kind.DECODE_WARNING ? "#b00020" : "#805b00") + "'>"
                        + (i.kind() == DataIssue.Kind.DECODE_WARNING ? "Warning: the picture is damaged, so this class may be "
                        + "meaningless. " : "Note: ") + Tables.escape(i.kind() + ": " + i.detail() + " (" + i.action() + ")") + "</p>";
            }
            return Map.of("text/plain", toString(), "text/html", html);
        }
    }

    /** Classifies image files, prepared exactly as the training images were; each result carries its file's issues. */
    public List<Classification> classify(List<Path> files) {
        LoadedImages images = input.loader().loadFiles(files);
        ImageBatches b = ImageBatches.withSteps(images, CNN2DFormat.valueOf(input.layout()), input.steps());
        INDArray p = network.output(b.batch(java.util.stream.IntStream.range(0, images.size()).toArray()).getFeatures());
        double[][] rows = p.toDoubleMatrix();
        List<DataIssue> all = images.issues().all();
        List<Classification> out = new ArrayList<>();
        for (int i = 0; i < rows.length; i++) {
            Map<String, Double> m = new LinkedHashMap<>();
            for (int c = 0; c < classes.size(); c++) {
                m.put(classes.get(c), rows[i][c]);
            }
            int best = Scores.argMax(rows[i]);
            Path f = images.index().get(i).path();
            List<DataIssue> mine = all.stream().filter(x -> x.file().toAbsolutePath().normalize().equals(f.toAbsolutePath().normalize()))
                    .toList();
            out.add(new Classification(f, classes.get(best), rows[i][best], m, mine));
        }
        return out;
    }

    /** Classifies one image file. */
    public Classification classify(Path file) {
        return classify(List.of(file)).get(0);
    }

    /** The input tensor the network gets for these files (for Grad-CAM and other looks inside). */
    public INDArray inputFor(List<Path> files) {
        LoadedImages images = input.loader().loadFiles(files);
        return ImageBatches.withSteps(images, CNN2DFormat.valueOf(input.layout()), input.steps())
                .batch(java.util.stream.IntStream.range(0, images.size()).toArray()).getFeatures();
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "saved model: %,d parameters, classes %s, input %s; %s", network.parameters(), classes,
                input, provenance);
    }

    @Override
    public Map<String, Object> mimeBundle() {
        return Map.of("text/plain", toString(), "text/html", "<pre>" + Tables.escape(toString()) + "</pre>");
    }
}

package org.leukolab.training;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.UnaryOperator;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.leukolab.data.ImageRecord;
import org.leukolab.data.LoadedImages;
import org.leukolab.preprocessing.KerasPreprocessing;
import org.leukolab.system.Hashing;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Loaded images as training batches: each batch is turned into a float tensor only when asked for, then
 * put through the input steps (scaling, a backbone's preprocessing) in the order given.
 *
 * <pre>{@code
 * Batches train = ImageBatches.of(images).scaled(1 / 255.0);                    // x / 255, NCHW
 * Batches mobile = ImageBatches.of(images).preprocessed(KerasPreprocessing.TF);  // [-1, 1]
 * }</pre>
 *
 * Works the same for images in memory and images kept on disk ({@link LoadedImages#onDisk()}).
 */
public final class ImageBatches implements Batches {
    private final LoadedImages images;
    private final CNN2DFormat format;
    private final List<String> stepNames;
    private final List<UnaryOperator<INDArray>> steps;

    private ImageBatches(LoadedImages images, CNN2DFormat format, List<String> names, List<UnaryOperator<INDArray>> steps) {
        this.images = images;
        this.format = format;
        this.stepNames = List.copyOf(names);
        this.steps = List.copyOf(steps);
    }

    /** The images as NCHW tensors with values 0..255. */
    public static ImageBatches of(LoadedImages images) {
        return new ImageBatches(images, CNN2DFormat.NCHW, List.of(), List.of());
    }

    /** The same batches in another layout (steps always run on NCHW; the layout changes last). */
    public ImageBatches format(CNN2DFormat f) {
        return new ImageBatches(images, f, stepNames, steps);
    }

    /** Adds a step {@code x -> x * factor}. */
    public ImageBatches scaled(double factor) {
        return then("x*" + factor, x -> x.muli(factor));
    }

    /** Adds a backbone's Keras preprocessing. */
    public ImageBatches preprocessed(KerasPreprocessing p) {
        return then("keras-" + p, p::apply);
    }

    /** Adds a named step (the name identifies it in checkpoint signatures: give different steps different names). */
    public ImageBatches then(String name, UnaryOperator<INDArray> step) {
        List<String> n = new ArrayList<>(stepNames);
        n.add(name);
        List<UnaryOperator<INDArray>> s = new ArrayList<>(steps);
        s.add(step);
        return new ImageBatches(images, format, n, s);
    }

    public LoadedImages images() {
        return images;
    }

    @Override
    public int size() {
        return images.size();
    }

    @Override
    public DataSet batch(int[] rows) {
        LoadedImages sub = images.subset(rows);
        INDArray x = sub.features(CNN2DFormat.NCHW);
        for (UnaryOperator<INDArray> s : steps) {
            x = s.apply(x);
        }
        if (format == CNN2DFormat.NHWC) {
            x = x.permute(0, 2, 3, 1).dup('c');
        }
        return new DataSet(x, sub.labelsOneHot());
    }

    @Override
    public int[] labels() {
        return images.labels();
    }

    @Override
    public int classes() {
        return images.classes().size();
    }

    @Override
    public List<String> classNames() {
        return images.classes();
    }

    @Override
    public java.util.Optional<org.leukolab.data.ImageIndex> index() {
        return java.util.Optional.of(images.index());
    }

    /** The names of the input steps, in order ({@code x*0.00392...}, {@code keras-TF}, or a custom step's name). */
    public List<String> steps() {
        return stepNames;
    }

    /** The layout of the batches' tensors. */
    public CNN2DFormat format() {
        return format;
    }

    /**
     * Images with input steps given by name, as {@link #steps()} names them: {@code x*<factor>} and
     * {@code keras-<mode>} are rebuilt; any other name (a custom {@link #then} step) is an error, since its
     * code is not known from its name. A saved model rebuilds its input pipeline this way.
     */
    public static ImageBatches withSteps(LoadedImages images, CNN2DFormat format, List<String> names) {
        ImageBatches b = of(images).format(format);
        for (String n : names) {
            if (n.startsWith("x*")) {
                b = b.scaled(Double.parseDouble(n.substring(2)));
            } else if (n.startsWith("keras-")) {
                b = b.preprocessed(KerasPreprocessing.valueOf(n.substring("keras-".length())));
            } else {
                throw new IllegalArgumentException("the input step '" + n + "' is a custom step: its code cannot be rebuilt "
                        + "from its name (use scaled(...) or preprocessed(...) for models that are saved)");
            }
        }
        return b;
    }

    /** The files, labels and sizes, every step's name, the layout, and the pixels of up to 64 evenly spread images. */
    @Override
    public String fingerprint() {
        StringBuilder sb = new StringBuilder();
        sb.append(images.height()).append('x').append(images.width()).append('|').append(format).append('|').append(stepNames);
        for (ImageRecord r : images.index().records()) {
            sb.append('\n').append(r.path()).append('|').append(r.label()).append('|').append(r.bytes());
        }
        int n = images.size();
        int probes = Math.min(64, n);
        for (int k = 0; k < probes; k++) {
            int i = (int) ((long) k * n / probes);
            sb.append('\n').append(Arrays.hashCode(images.pixels(i)));
        }
        return Hashing.sha256(sb.toString());
    }

    @Override
    public long[] exampleShape() {
        return format == CNN2DFormat.NCHW ? new long[] {3, images.height(), images.width()}
                : new long[] {images.height(), images.width(), 3};
    }

    @Override
    public String toString() {
        return images.index().name() + ": " + size() + " images " + images.height() + "x" + images.width() + " " + format
                + (stepNames.isEmpty() ? "" : " " + stepNames);
    }
}

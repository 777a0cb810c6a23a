package org.leukolab.models.backbones;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.leukolab.data.LoadedImages;
import org.leukolab.notebook.Progress;
import org.leukolab.system.AtomicFiles;
import org.leukolab.system.Hashing;
import org.leukolab.system.Workspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A frozen backbone's features, computed once and kept on disk. The key is a SHA-256 over the images'
 * pixels and labels, the backbone (architecture, input size, feature layer, weights and their file), and
 * its preprocessing, so any change in data, weights or settings computes afresh; files are written to a
 * temporary name and renamed, so an interrupted run never leaves a half file that looks complete.
 *
 * <p>A head then trains on the cached features ({@link Head#standalone}) instead of pushing every image
 * through the frozen backbone in every epoch; {@link Transfer#copyHead} puts the trained head back on the
 * backbone for predictions on images.
 */
public final class FeatureCache {
    private static final Logger LOG = LoggerFactory.getLogger(FeatureCache.class);
    static final int VERSION = 1;
    private static final int BATCH = 32;

    private FeatureCache() {}

    /** Features [n, c, h, w] and one-hot labels, from {@code <cache>/features}. */
    public static DataSet features(Backbone b, LoadedImages images) {
        return features(b, images, Workspace.cacheDir().resolve("features"), true);
    }

    public static DataSet features(Backbone b, LoadedImages images, Path dir, boolean progress) {
        return features(b, images, dir, progress, false);
    }

    /**
     * Globally average-pooled features {@code [n, c, 1, 1]}: for a head that starts with global average
     * pooling (report 000's), the same result as the full feature maps (pooling a 1x1 map changes nothing)
     * at a fraction of the size (49x smaller for MobileNetV2's 7x7 maps at 224).
     */
    public static DataSet pooledFeatures(Backbone b, LoadedImages images) {
        return features(b, images, Workspace.cacheDir().resolve("features"), true, true);
    }

    /**
     * The pooled features of several backbones side by side, {@code [n, c1 + c2 + ..., 1, 1]} (each from the cache):
     * the input of a feature ensemble, one head on what every backbone sees.
     */
    public static DataSet concatenatedPooledFeatures(java.util.List<Backbone> backbones, LoadedImages images) {
        INDArray[] parts = backbones.stream().map(b -> pooledFeatures(b, images).getFeatures()).toArray(INDArray[]::new);
        return new DataSet(Nd4j.concat(1, parts), images.labelsOneHot());
    }

    /** Whether {@link #pooledFeatures} of {@code b} on {@code images} would be read from the cache (no computing). */
    public static boolean pooledCached(Backbone b, LoadedImages images) {
        return Files.isRegularFile(Workspace.cacheDir().resolve("features").resolve(key(b, images) + "-gap.features"));
    }

    public static DataSet features(Backbone b, LoadedImages images, Path dir, boolean progress, boolean pooled) {
        if (b.includeTop()) {
            throw new IllegalArgumentException("cache the features of a backbone built without its top");
        }
        if (images.height() != b.inputSize() || images.width() != b.inputSize()) {
            throw new IllegalArgumentException("the images are " + images.height() + "x" + images.width() + " but "
                    + b.architecture() + " was built for " + b.inputSize() + "x" + b.inputSize()
                    + ": load them with ImageLoader.builder().size(" + b.inputSize() + ")");
        }
        Path file = dir.resolve(key(b, images) + (pooled ? "-gap" : "") + ".features");
        if (Files.isRegularFile(file)) {
            try {
                DataSet ds = new DataSet();
                ds.load(file.toFile());
                if (ds.numExamples() == images.size()) {
                    LOG.info("{} features of {} images read from the cache", b.architecture(), images.size());
                    return ds;
                }
                LOG.warn("feature cache {} holds {} rows, expected {}; computing again", file, ds.numExamples(), images.size());
            } catch (RuntimeException e) {
                LOG.warn("feature cache {} is unreadable ({}); computing again", file, e.getMessage());
            }
        }
        DataSet ds = compute(b, images, progress, pooled);
        write(ds, dir, file);
        return ds;
    }

    static DataSet compute(Backbone b, LoadedImages images, boolean progress, boolean pooled) {
        int n = images.size();
        INDArray out = null;
        String task = "features " + b.architecture() + " " + images.index().name();
        try (Progress bar = progress ? Progress.start(task, n, "img")
                : Progress.toStream(task, n, "img", new java.io.PrintStream(java.io.OutputStream.nullOutputStream()))) {
            for (int s = 0; s < n; s += BATCH) {
                int[] idx = java.util.stream.IntStream.range(s, Math.min(n, s + BATCH)).toArray();
                INDArray x = b.preprocessing().apply(images.subset(idx).features());
                if (s == 0) {
                    LOG.info("{}: {}", b.architecture(), org.leukolab.backend.OneDnnLayers.installForInference(b.graph(), x));
                }
                INDArray f = b.graph().outputSingle(false, x);
                if (pooled) {
                    f = f.mean(2, 3).reshape(f.size(0), f.size(1), 1, 1);
                }
                if (out == null) {
                    long[] shape = f.shape().clone();
                    shape[0] = n;
                    out = Nd4j.create(f.dataType(), shape);
                }
                out.get(org.nd4j.linalg.indexing.NDArrayIndex.interval(s, s + idx.length)).assign(f);
                bar.step(idx.length);
            }
        }
        return new DataSet(out, images.labelsOneHot());
    }

    private static void write(DataSet ds, Path dir, Path file) {
        try {
            AtomicFiles.writeWith(file, tmp -> ds.save(tmp.toFile()));
        } catch (RuntimeException e) {
            LOG.warn("could not write the feature cache in {} ({}); the next run computes again", dir, e.getMessage());
        }
    }

    /** The cache key (exposed for tests and for notebooks that want to show it). */
    public static String key(Backbone b, LoadedImages images) {
        String weightFile = b.pretrained()
                ? ImageNetWeights.find(b.weightFile()).map(FeatureCache::fingerprint).orElse("?") : "";
        Hashing h = Hashing.sha256().add("v" + VERSION + "|" + b.architecture() + "|" + b.inputSize() + "|" + b.featureLayer()
                + "|" + b.weightsSource() + "|" + weightFile + "|" + b.preprocessing() + "|" + b.parameters() + "|"
                + images.height() + "x" + images.width() + "|" + images.classes());
        if (!b.pretrained()) {
            // random or test weights: their values are part of what the features mean
            h.add(b.graph().params().data().asBytes());
        }
        int[] y = images.labels();
        for (int i = 0; i < images.size(); i++) {
            h.add(images.pixels(i)).add(y[i]);
        }
        return h.hex();
    }

    private static String fingerprint(Path p) {
        try {
            return p.getFileName() + ":" + Files.size(p) + ":" + Files.getLastModifiedTime(p).toMillis();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}

package org.leukolab.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.leukolab.data.DatasetCatalog;
import org.leukolab.data.ImageIndex;
import org.leukolab.data.ImageLoader;
import org.leukolab.data.LoadedImages;
import org.leukolab.models.backbones.Backbone;
import org.leukolab.models.backbones.Backbones;
import org.leukolab.models.backbones.FeatureCache;
import org.leukolab.models.backbones.Freeze;
import org.leukolab.models.backbones.Head;
import org.leukolab.models.backbones.Transfer;
import org.leukolab.system.Backend;
import org.leukolab.training.Network;
import org.leukolab.training.Trainer;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;

/**
 * What caching a frozen backbone's features saves: one epoch of training a head through the frozen
 * graph, against extracting the features once and training the same head on them. Real images (the
 * blood-cells TRAIN split) and, when its file is here, real MobileNetV2 weights.
 *
 * <pre>java ... org.leukolab.bench.FeatureCacheBenchmark [imagesPerClass=80] [size=128] [alpha=0.5] [epochs=3] [head=report002|report000]</pre>
 *
 * <p>{@code report002}: Flatten and three dense layers (5.3 M parameters on MobileNetV2's 4x4x1280 map at 128);
 * {@code report000}: global average pooling, Dense 16, BatchNorm (a few thousand parameters).
 */
public final class FeatureCacheBenchmark {
    private FeatureCacheBenchmark() {}

    public static void main(String[] args) throws Exception {
        int perClass = args.length > 0 ? Integer.parseInt(args[0]) : 80;
        int size = args.length > 1 ? Integer.parseInt(args[1]) : 128;
        double alpha = args.length > 2 ? Double.parseDouble(args[2]) : 0.5;
        int epochs = args.length > 3 ? Integer.parseInt(args[3]) : 3;
        String headName = args.length > 4 ? args[4] : "report002";

        ImageIndex train = DatasetCatalog.standard().open("blood-cells").index().split("TRAIN").stratifiedSample(perClass, 1);
        LoadedImages images = ImageLoader.builder().size(size).progress(false).build().load(train);
        Backbone b = Backbones.imagenetOrRandom(Backbones.mobileNetV2(alpha, size, false));
        int classes = images.classes().size();
        Head head = switch (headName) {
            case "report002" -> Head.flatten().batchNorm().dense(256).dropout(0.7).batchNorm().dense(128).dropout(0.5)
                    .dense(64).dropout(0.3).softmax(classes);
            case "report000" -> Head.globalAveragePooling().dense(16).batchNorm().softmax(classes);
            default -> throw new IllegalArgumentException("head must be report002 or report000, not " + headName);
        };
        System.out.println("backend: " + Backend.describe());
        System.out.printf(Locale.ROOT, "%d images %dx%d, %s, head: %s, %d epochs, batch 32%n", images.size(), size, size, b, head, epochs);

        // A: through the frozen graph (images preprocessed once, up front)
        ComputationGraph full = Transfer.classifier(b, head, new Adam(1e-3), 42, Freeze.all());
        DataSet imgs = new DataSet(b.preprocessing().apply(images.features()), images.labelsOneHot());
        var a = Trainer.builder("through-graph").epochs(epochs).progress(false).build().fit(Network.of(full), imgs, null);

        // B: features once, then the head alone on them
        Path cache = Files.createTempDirectory("leukolab-feature-bench");
        long t0 = System.nanoTime();
        DataSet feats = FeatureCache.features(b, images, cache, false);
        double extract = (System.nanoTime() - t0) / 1e9;
        t0 = System.nanoTime();
        FeatureCache.features(b, images, cache, false);
        double reread = (System.nanoTime() - t0) / 1e9;
        long[] shape = feats.getFeatures().shape();
        ComputationGraph alone = head.standalone(new long[] {shape[1], shape[2], shape[3]}, new Adam(1e-3), 42);
        var h = Trainer.builder("on-features").epochs(epochs).progress(false).build().fit(Network.of(alone), feats, null);

        double perEpochGraph = a.secondsPerEpoch();
        double perEpochHead = h.secondsPerEpoch();
        System.out.printf(Locale.ROOT, "through the frozen graph: %.2f s per epoch%n", perEpochGraph);
        System.out.printf(Locale.ROOT, "feature extraction (once): %.2f s; reading the cache again: %.2f s%n", extract, reread);
        System.out.printf(Locale.ROOT, "head on cached features: %.3f s per epoch%n", perEpochHead);
        System.out.printf(Locale.ROOT, "speed-up per epoch: %.0fx; for %d epochs including the one extraction: %.1fx; "
                        + "for 15 epochs (report 002's maximum): %.1fx%n",
                perEpochGraph / perEpochHead, epochs, epochs * perEpochGraph / (extract + epochs * perEpochHead),
                15 * perEpochGraph / (extract + 15 * perEpochHead));
    }
}

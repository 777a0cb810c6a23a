package org.leukolab.bench;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.leukolab.augmentation.Augmentations;
import org.leukolab.augmentation.BatchTransform;
import org.leukolab.data.LoadedImages;
import org.leukolab.models.Optimizer;
import org.leukolab.models.backbones.Backbone;
import org.leukolab.models.backbones.Freeze;
import org.leukolab.models.backbones.Head;
import org.leukolab.models.backbones.Transfer;
import org.leukolab.training.ImageBatches;
import org.leukolab.training.Network;
import org.leukolab.training.Trainer;
import org.leukolab.training.TrainingResult;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Report 003's fine-tuning trained for real epochs, not single steps: the end-to-end row of the harness's fine-tuning
 * table. Real images (a folder-per-class dataset, every k-th image, resized to {@code size}) are decoded once into an
 * image cache file and read from it image by image; a backbone under report 003's head with its last {@code unfrozen}
 * share trainable and every BatchNorm frozen (as {@link FineTuneBenchmark} builds it), Adam; every training batch goes
 * through the traditional augmentation of notebook 43 ({@code Augmentations.traditional()}) and the backbone's
 * preprocessing, as {@code Report003.fineTune} trains. On the same network and images (batch 32):
 *
 * <ul>
 *   <li>{@code prepare}: the batches alone, read from the cache and augmented, one thread (what the trainer's prefetch
 *       thread does);</li>
 *   <li>{@code steps}: {@code fit} alone on those batches, already in memory, after three untimed steps;</li>
 *   <li>{@code epoch}: {@link Trainer} epochs (prefetch, shuffling, augmentation, the running scores; no validation),
 *       the second timed (the first installs and checks the kernels); the process's CPU time gives the cores used.</li>
 * </ul>
 *
 * Prints one JSON line; asserts nothing.
 *
 * <pre>java ... org.leukolab.bench.FineTuneEpochBenchmark folder=data/blood-cells/dataset2-master/images/TRAIN images=1280 size=96 backbone=efficientnetb0 unfrozen=0.6 cache=build/bench-cache</pre>
 */
public final class FineTuneEpochBenchmark {
    private FineTuneEpochBenchmark() {}

    public static void main(String[] args) {
        Map<String, String> a = BenchArgs.parse(args);
        Path folder = Path.of(a.getOrDefault("folder", "data/blood-cells/dataset2-master/images/TRAIN"));
        int images = Integer.parseInt(a.getOrDefault("images", "1280"));
        int size = Integer.parseInt(a.getOrDefault("size", "96"));
        int batch = Integer.parseInt(a.getOrDefault("batch", "32"));
        String name = a.getOrDefault("backbone", "efficientnetb0");
        double unfrozen = Double.parseDouble(a.getOrDefault("unfrozen", "0.6"));
        Path cache = Path.of(a.getOrDefault("cache", "build/bench-cache"));

        LoadedImages cached = EpochBenchmark.cachedImages(folder, images, size, cache);
        ImageBatches data = ImageBatches.of(cached);
        int n = data.size();
        int classes = data.classes();
        Backbone b = FineTuneBenchmark.backbone(name, size);
        Head head = Head.globalAveragePooling().dense(128).dropout(0.3).softmax(classes);
        Freeze freeze = Freeze.firstFraction(1 - unfrozen).keepBatchNormFrozen();
        ComputationGraph g = Transfer.classifier(b, head, Optimizer.adam(1e-4), 42, freeze);
        BatchTransform augmentation = Augmentations.traditional();
        BatchTransform transform = augmentation.then(Augmentations.preprocessing(b.preprocessing()));
        Network net = Network.of(g);

        EpochBenchmark.CpuPerEpoch cpu = new EpochBenchmark.CpuPerEpoch();
        Trainer trainer = Trainer.builder("bench-finetune-epoch").epochs(2).batchSize(batch).seed(42).transform(transform)
                .progress(false).callbacks(cpu).build();
        TrainingResult r = trainer.fit(net, data, null);
        double epoch = r.history().doubleColumn("seconds").get(1);
        double firstEpoch = r.history().doubleColumn("seconds").get(0);

        Random random = new Random(42);
        long p0 = System.nanoTime();
        List<DataSet> prepared = new ArrayList<>();
        for (int[] rows : EpochBenchmark.batches(n, batch)) {
            DataSet raw = data.batch(rows);
            prepared.add(transform.apply(raw.getFeatures(), raw.getLabels(), random));
        }
        double prepare = (System.nanoTime() - p0) / 1e9;
        double steps = EpochBenchmark.stepsAlone(net, prepared);

        System.out.println(String.format(Locale.ROOT,
                "{\"framework\": \"dl4j\", \"model\": \"%s\", \"size\": %d, \"batch\": %d, \"unfrozen\": %.2f, \"freeze\": \"%s\", "
                        + "\"augmentation\": \"%s\", \"images\": %d, \"classes\": %d, \"dataset\": \"%s\", \"prepare_s\": %.3f, "
                        + "\"prepare_img_s\": %.2f, \"steps_s\": %.3f, \"steps_img_s\": %.2f, \"epoch_s\": %.3f, \"epoch_img_s\": %.2f, "
                        + "\"first_epoch_s\": %.3f, \"cores_used\": %.2f, \"threads\": %d, \"peak_rss_mb\": %.0f}",
                name, size, batch, unfrozen, freeze, augmentation.id().replace("\"", "'"), n, classes,
                folder.toString().replace("\\", "/").replace("\"", "'"), prepare, n / prepare, steps, n / steps, epoch, n / epoch,
                firstEpoch, cpu.coresInLastEpoch(), CnnBenchmark.threads(), CnnBenchmark.peakRssBytes() / 1048576.0));
    }
}

package org.leukolab.bench;

import java.lang.management.ManagementFactory;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.IntStream;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.leukolab.data.ImageIndex;
import org.leukolab.data.ImageLoader;
import org.leukolab.data.LoadedImages;
import org.leukolab.models.CustomCnns;
import org.leukolab.models.Optimizer;
import org.leukolab.training.ImageBatches;
import org.leukolab.training.Network;
import org.leukolab.training.Trainer;
import org.leukolab.training.TrainingResult;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Report 000's CNN trained for real epochs, not single steps: the end-to-end row of the speed harness. Real
 * images (a folder-per-class dataset, resized to the network's size) are decoded once into an image cache
 * file that is read image by image, as notebook 21 reads report 000's full set, which does not fit in memory;
 * then, on the same network and the same {@code images} images (batch 32):
 *
 * <ul>
 *   <li>{@code prepare}: the batches alone, as the trainer's prefetch thread builds them (cache read, 8-bit
 *       pixels to floats, scaling by 1/255), one thread;</li>
 *   <li>{@code steps}: {@code fit} alone on those batches, already in memory, after three untimed steps (what
 *       {@link CnnBenchmark} times, on real pixels);</li>
 *   <li>{@code epoch}: {@link Trainer} epochs over the cached images (prefetch, shuffling, the running scores
 *       and the progress bar included; no validation), the second epoch timed (the first installs and checks the
 *       kernels); the process's CPU time over it gives the cores used.</li>
 * </ul>
 *
 * The gap between {@code steps} and {@code epoch} is what the epoch costs besides the kernels. Prints one JSON
 * line; asserts nothing.
 *
 * <pre>java ... org.leukolab.bench.EpochBenchmark folder=data/blood-cells/dataset2-master/images/TRAIN images=1280 size=350 cache=build/bench-cache</pre>
 */
public final class EpochBenchmark {
    private EpochBenchmark() {}

    public static void main(String[] args) {
        Map<String, String> a = BenchArgs.parse(args);
        Path folder = Path.of(a.getOrDefault("folder", "data/blood-cells/dataset2-master/images/TRAIN"));
        int images = Integer.parseInt(a.getOrDefault("images", "1280"));
        int size = Integer.parseInt(a.getOrDefault("size", "350"));
        int batch = Integer.parseInt(a.getOrDefault("batch", "32"));
        Path cache = Path.of(a.getOrDefault("cache", "build/bench-cache"));

        LoadedImages cached = cachedImages(folder, images, size, cache);
        ImageBatches data = ImageBatches.of(cached).scaled(1 / 255.0);
        int n = data.size();
        int classes = data.classes();
        MultiLayerNetwork model = CustomCnns.report000(size, classes, Optimizer.adamW(1e-3), 42, CNN2DFormat.NCHW);
        Network net = Network.of(model);

        CpuPerEpoch cpu = new CpuPerEpoch();
        Trainer trainer = Trainer.builder("bench-epoch").epochs(2).batchSize(batch).seed(42).progress(false).callbacks(cpu).build();
        TrainingResult r = trainer.fit(net, data, null);
        double epoch = r.history().doubleColumn("seconds").get(1);
        double firstEpoch = r.history().doubleColumn("seconds").get(0);

        long p0 = System.nanoTime();
        List<DataSet> prepared = new ArrayList<>();
        for (int[] rows : batches(n, batch)) {
            prepared.add(data.batch(rows));
        }
        double prepare = (System.nanoTime() - p0) / 1e9;
        double steps = stepsAlone(net, prepared);

        System.out.println(String.format(Locale.ROOT,
                "{\"framework\": \"dl4j\", \"model\": \"report000\", \"size\": %d, \"batch\": %d, \"images\": %d, \"classes\": %d, "
                        + "\"dataset\": \"%s\", \"prepare_s\": %.3f, \"prepare_img_s\": %.2f, \"steps_s\": %.3f, \"steps_img_s\": %.2f, "
                        + "\"epoch_s\": %.3f, \"epoch_img_s\": %.2f, \"first_epoch_s\": %.3f, \"cores_used\": %.2f, "
                        + "\"threads\": %d, \"peak_rss_mb\": %.0f}",
                size, batch, n, classes, folder.toString().replace("\\", "/").replace("\"", "'"), prepare, n / prepare, steps, n / steps,
                epoch, n / epoch, firstEpoch, cpu.coresInLastEpoch(), CnnBenchmark.threads(), CnnBenchmark.peakRssBytes() / 1048576.0));
    }

    /**
     * Every k-th image of {@code folder} (at most {@code images}) at {@code size}, decoded once into an image cache file
     * under {@code cache} (untimed) and then read from it image by image.
     */
    static LoadedImages cachedImages(Path folder, int images, int size, Path cache) {
        ImageIndex index = PipelineBenchmark.everyKth(ImageIndex.scan(folder, "bench"), images);
        ImageLoader loader = ImageLoader.builder().size(size).cacheDir(cache).storage(ImageLoader.Storage.DISK).progress(false).build();
        loader.load(index); // decodes and writes the cache (untimed)
        LoadedImages cached = loader.load(index);
        if (!cached.onDisk() || !cached.fromCache()) {
            throw new IllegalStateException("expected the images to be read from the cache file, got: " + cached);
        }
        return cached;
    }

    /** The rows of each batch of {@code batch} over {@code n} images, in order. */
    static int[][] batches(int n, int batch) {
        return IntStream.range(0, (n + batch - 1) / batch)
                .mapToObj(b -> IntStream.range(b * batch, Math.min(n, (b + 1) * batch)).toArray()).toArray(int[][]::new);
    }

    /** Seconds {@code fit} takes over {@code prepared} (already in memory), after three untimed steps. */
    static double stepsAlone(Network net, List<DataSet> prepared) {
        for (DataSet ds : prepared.subList(0, Math.min(3, prepared.size()))) {
            net.fit(ds); // warm-up, untimed
        }
        long s0 = System.nanoTime();
        for (DataSet ds : prepared) {
            net.fit(ds);
        }
        return (System.nanoTime() - s0) / 1e9;
    }

    /** Process CPU time and wall time between the ends of the last two epochs: the cores the last epoch used. */
    static final class CpuPerEpoch implements org.leukolab.training.Callback {
        private final com.sun.management.OperatingSystemMXBean os =
                (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        private long cpu = -1;
        private long wall;
        private double cores = Double.NaN;

        @Override
        public void onEpochEnd(Trainer.Context ctx, int epoch, Map<String, Double> metrics) {
            long c = os.getProcessCpuTime();
            long w = System.nanoTime();
            if (cpu >= 0) {
                cores = (double) (c - cpu) / (w - wall);
            }
            cpu = c;
            wall = w;
        }

        double coresInLastEpoch() {
            return cores;
        }

        @Override
        public String describe() {
            return "cpu-per-epoch";
        }

        @Override
        public com.google.gson.JsonObject save(Path folder) {
            return new com.google.gson.JsonObject();
        }

        @Override
        public void restore(com.google.gson.JsonObject state, Path folder, Trainer.Context ctx) {}
    }
}

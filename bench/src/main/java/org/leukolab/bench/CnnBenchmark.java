package org.leukolab.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Locale;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.leukolab.system.Backend;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Training and inference throughput of one of the reports' custom CNNs in DL4J, for the speed harness
 * ({@code ./leukolab bench}): synthetic inputs of the model's size (the time of a step does not depend on
 * the pixel values), {@code warmup} untimed steps, then the median of {@code steps} timed steps. Prints one
 * JSON line; asserts nothing.
 *
 * <pre>java ... org.leukolab.bench.CnnBenchmark model=report002|report000 size=128 batch=32 warmup=3 steps=10 format=NCHW onednn=on|off|unchecked</pre>
 */
public final class CnnBenchmark {
    private CnnBenchmark() {}

    public static void main(String[] args) {
        java.util.Map<String, String> a = BenchArgs.parse(args);
        String model = a.getOrDefault("model", "report002");
        int size = Integer.parseInt(a.getOrDefault("size", model.equals("report000") ? "350" : "128"));
        int batch = Integer.parseInt(a.getOrDefault("batch", "32"));
        int warmup = Integer.parseInt(a.getOrDefault("warmup", "3"));
        int steps = Integer.parseInt(a.getOrDefault("steps", "10"));
        CNN2DFormat format = CNN2DFormat.valueOf(a.getOrDefault("format", "NCHW"));

        int classes = ReportCnns.classes(model);
        MultiLayerNetwork net = ReportCnns.build(model, size, format);
        DataSet ds = ReportCnns.syntheticBatch(batch, size, classes, format);
        INDArray x = ds.getFeatures();
        int oneDnnLayers = ReportCnns.installOneDnn(a, net, ds);
        double[] trainSteps = BackendBenchmark.time(steps, warmup, () -> net.fit(ds));
        double train = BackendBenchmark.median(trainSteps);
        if (Boolean.parseBoolean(a.getOrDefault("verbose", "false"))) {
            System.err.println("training steps (ms): " + Arrays.toString(
                    Arrays.stream(trainSteps).map(t -> Math.round(t * 1000)).toArray()));
        }
        double fastest = Arrays.stream(trainSteps).min().orElse(Double.NaN);
        double infer = BackendBenchmark.median(BackendBenchmark.time(steps, warmup, () -> net.output(x, false)));
        System.out.println(String.format(Locale.ROOT,
                "{\"framework\": \"dl4j\", \"model\": \"%s\", \"size\": %d, \"batch\": %d, \"format\": \"%s\", \"warmup\": %d, "
                        + "\"steps\": %d, \"threads\": %d, \"train_step_s\": %.4f, \"train_img_s\": %.2f, \"train_fastest_img_s\": %.2f, \"infer_step_s\": %.4f, "
                        + "\"infer_img_s\": %.2f, \"onednn_layers\": %d, \"params\": %d, \"peak_heap_mb\": %.0f, \"peak_rss_mb\": %.0f, \"backend\": \"%s\"}",
                model, size, batch, format, warmup, steps, threads(), train, batch / train, batch / fastest, infer, batch / infer, oneDnnLayers, net.numParams(),
                peakHeapBytes() / 1048576.0, peakRssBytes() / 1048576.0, Backend.describe().replace("\"", "'")));
    }

    /** OpenMP threads ND4J uses (its environment reports them), or the core count. */
    static int threads() {
        try {
            return Nd4j.getEnvironment().maxMasterThreads();
        } catch (RuntimeException e) {
            return Runtime.getRuntime().availableProcessors();
        }
    }

    /** Sum of the heap pools' peak usage: an upper bound of the heap's peak (pools peak at different times). */
    static long peakHeapBytes() {
        long sum = 0;
        for (MemoryPoolMXBean p : ManagementFactory.getMemoryPoolMXBeans()) {
            if (p.getType() == MemoryType.HEAP && p.getPeakUsage() != null) {
                sum += p.getPeakUsage().getUsed();
            }
        }
        return sum;
    }

    /** Peak resident memory of this process (Linux {@code VmHWM}), heap and native memory together; -1 elsewhere. */
    static long peakRssBytes() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}

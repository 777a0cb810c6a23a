package org.leukolab.bench;

import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.leukolab.system.Backend;
import org.leukolab.backend.OneDnnLayers;
import org.leukolab.backend.OneDnnLayers.ArrayError;
import org.nd4j.linalg.dataset.DataSet;

/**
 * What {@link OneDnnLayers}' check sees on a report CNN: for several probe batches (synthetic, one seed each),
 * every parameter gradient computed by DL4J's float32 layers and by oneDNN, both against float64, with all
 * candidate layers on oneDNN. Prints, per seed, the worst ratio and every array the check would reject.
 *
 * <pre>java ... org.leukolab.bench.OneDnnAccuracy model=report002 size=128 seeds=6 verbose=false</pre>
 */
public final class OneDnnAccuracy {
    private OneDnnAccuracy() {}

    public static void main(String[] args) {
        Map<String, String> a = BenchArgs.parse(args);
        String model = a.getOrDefault("model", "report002");
        int size = Integer.parseInt(a.getOrDefault("size", model.equals("report000") ? "350" : "128"));
        int seeds = Integer.parseInt(a.getOrDefault("seeds", "6"));
        boolean verbose = Boolean.parseBoolean(a.getOrDefault("verbose", "false"));
        System.out.println("backend: " + Backend.describe());
        System.out.printf(Locale.ROOT, "%s at %dx%d, probe of %d examples per seed; ratio = oneDNN's distance from "
                + "float64 / max(DL4J's own, %.0e x largest); rejected above %.1f%n", model, size, size,
                OneDnnLayers.PROBE_EXAMPLES, OneDnnLayers.ERROR_FLOOR, OneDnnLayers.ERROR_FACTOR);
        if (!OneDnnLayers.available()) {
            System.out.println("oneDNN is not available on this build (or " + OneDnnLayers.ENV + " turns it off)");
            return;
        }
        MultiLayerNetwork net = ReportCnns.build(model, size, CNN2DFormat.NCHW);
        for (int seed = 1; seed <= seeds; seed++) {
            DataSet probe = ReportCnns.syntheticBatch(OneDnnLayers.PROBE_EXAMPLES, size, ReportCnns.classes(model),
                    CNN2DFormat.NCHW, seed);
            List<ArrayError> errors = OneDnnLayers.accuracy(net, probe);
            ArrayError worst = errors.stream().max(java.util.Comparator.comparingDouble(ArrayError::ratio)).orElseThrow();
            System.out.printf(Locale.ROOT, "seed %d: worst ratio %.2f (%s)%n", seed, worst.ratio(), worst.name());
            for (ArrayError e : errors) {
                if (verbose || !e.accepted()) {
                    System.out.printf(Locale.ROOT, "  %-14s largest %.3e  DL4J %.2e (%.1e of largest)  oneDNN %.2e (%.1e)  "
                                    + "ratio %.2f%s%n", e.name(), e.largest(), e.builtInError(), e.builtInError() / e.largest(),
                            e.oneDnnError(), e.oneDnnError() / e.largest(), e.ratio(), e.accepted() ? "" : "  REJECTED");
                }
            }
        }
    }
}

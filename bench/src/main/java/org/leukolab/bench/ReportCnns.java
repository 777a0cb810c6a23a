package org.leukolab.bench;

import org.leukolab.system.SeededArrays;
import java.util.Map;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.leukolab.models.CustomCnns;
import org.leukolab.models.Optimizer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/** The reports' two custom CNNs and a synthetic batch for them, as the speed tools build them. */
final class ReportCnns {
    private ReportCnns() {}

    static int classes(String model) {
        return model.equals("report000") ? 5 : 4;
    }

    /** Report 002's CNN with SGD or report 000's with AdamW (their optimisers), seed 42. */
    static MultiLayerNetwork build(String model, int size, CNN2DFormat format) {
        return switch (model) {
            case "report002" -> CustomCnns.report002(size, classes(model), Optimizer.sgd(1e-3), 42, format);
            case "report000" -> CustomCnns.report000(size, classes(model), Optimizer.adamW(1e-3), 42, format);
            default -> throw new IllegalArgumentException("model must be report002 or report000, got " + model);
        };
    }

    /** Uniform [0, 1) pixels (seed 1) and labels cycling through the classes. */
    static DataSet syntheticBatch(int batch, int size, int classes, CNN2DFormat format) {
        return syntheticBatch(batch, size, classes, format, 1);
    }

    /** As {@link #syntheticBatch(int, int, int, CNN2DFormat)} with pixels drawn from {@code seed}. */
    static DataSet syntheticBatch(int batch, int size, int classes, CNN2DFormat format, long seed) {
        long[] shape = format == CNN2DFormat.NCHW ? new long[] {batch, 3, size, size} : new long[] {batch, size, size, 3};
        INDArray x = SeededArrays.uniform(DataType.FLOAT, seed, shape);
        INDArray y = Nd4j.zeros(DataType.FLOAT, batch, classes);
        for (int i = 0; i < batch; i++) {
            y.putScalar(i, i % classes, 1f);
        }
        return new DataSet(x, y);
    }

    /**
     * Puts the layers on oneDNN as {@code onednn=} asks: {@code on} (the default, the library's: where it passes the
     * check), {@code off} (DL4J's own layers) or {@code unchecked} (every layer, no check: what the check costs).
     * Returns the number of layers on oneDNN and prints what was done.
     */
    static int installOneDnn(Map<String, String> args, MultiLayerNetwork net, DataSet batch) {
        String mode = args.getOrDefault("onednn", "on");
        return switch (mode) {
            case "off" -> 0;
            case "on" -> {
                var r = org.leukolab.backend.OneDnnLayers.install(net, batch);
                System.err.println(r);
                yield r.onOneDnn().size();
            }
            case "unchecked" -> {
                var l = org.leukolab.backend.OneDnnLayers.installUnchecked(net);
                System.err.println("layers: " + l.size() + " on oneDNN kernels, unchecked");
                yield l.size();
            }
            default -> throw new IllegalArgumentException("onednn must be on, off or unchecked, got " + mode);
        };
    }
}

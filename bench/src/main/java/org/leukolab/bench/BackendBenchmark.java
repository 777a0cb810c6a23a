package org.leukolab.bench;

import org.leukolab.system.SeededArrays;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.leukolab.models.CustomCnns;
import org.leukolab.system.Backend;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

/**
 * A short benchmark of the ND4J CPU backend that is on the classpath: single-precision GEMM and a
 * training/inference step of report 002's custom CNN. Used to choose the native variant
 * (see {@code tools/bench-native-variants.sh}); prints figures, asserts nothing.
 *
 * <pre>java ... org.leukolab.bench.BackendBenchmark [imageSize=64] [batch=32] [steps=8]</pre>
 */
public final class BackendBenchmark {
    private BackendBenchmark() {}

    public static void main(String[] args) {
        int size = args.length > 0 ? Integer.parseInt(args[0]) : 64;
        int batch = args.length > 1 ? Integer.parseInt(args[1]) : 32;
        int steps = args.length > 2 ? Integer.parseInt(args[2]) : 8;

        System.out.println("backend: " + Backend.describe());
        System.out.printf("gemm 1024x1024 float: %.1f GFLOP/s%n", gemmGflops(1024, 10));

        for (CNN2DFormat format : new CNN2DFormat[] {CNN2DFormat.NCHW, CNN2DFormat.NHWC}) {
            MultiLayerNetwork net = CustomCnns.report002(size, 4, new Sgd(1e-3), 42, format);
            DataSet ds = ReportCnns.syntheticBatch(batch, size, 4, format);
            INDArray x = ds.getFeatures().muli(2).subi(1);
            double train = median(time(steps, 2, () -> net.fit(ds)));
            double infer = median(time(steps, 2, () -> net.output(x, false)));
            System.out.printf("report002 cnn %dx%d %s batch %d: train %.1f img/s, inference %.1f img/s%n",
                    size, size, format, batch, batch / train, batch / infer);
        }
    }

    static double gemmGflops(int n, int reps) {
        INDArray a = SeededArrays.uniform(DataType.FLOAT, 1, n, n);
        INDArray b = SeededArrays.uniform(DataType.FLOAT, 2, n, n);
        INDArray c = Nd4j.create(DataType.FLOAT, n, n);
        double t = median(time(reps, 2, () -> a.mmuli(b, c)));
        return 2.0 * n * n * n / t / 1e9;
    }

    /** Runs {@code task} {@code warmup} times untimed, then {@code reps} times timed (seconds). */
    static double[] time(int reps, int warmup, Runnable task) {
        for (int i = 0; i < warmup; i++) {
            task.run();
        }
        List<Double> out = new ArrayList<>();
        for (int i = 0; i < reps; i++) {
            long t0 = System.nanoTime();
            task.run();
            out.add((System.nanoTime() - t0) / 1e9);
        }
        return out.stream().mapToDouble(Double::doubleValue).toArray();
    }

    static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}

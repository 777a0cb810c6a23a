package org.leukolab.bench;

import java.util.Locale;
import java.util.Map;
import org.nd4j.autodiff.samediff.SDVariable;
import org.nd4j.autodiff.samediff.SameDiff;
import org.nd4j.autodiff.samediff.TrainingConfig;
import org.nd4j.enums.WeightsFormat;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.Conv2DConfig;
import org.nd4j.linalg.api.ops.impl.layers.convolution.config.PaddingMode;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.weightinit.impl.XavierInitScheme;
import org.nd4j.weightinit.impl.ZeroInitScheme;
import org.nd4j.weightinit.impl.OneInitScheme;
import org.deeplearning4j.nn.conf.CNN2DFormat;

/**
 * Issue 6's "layers API versus SameDiff" experiment: report 000's CNN (five 3x3 stride-2 'same' ReLU
 * convolutions with 4-64 filters, each followed by batch normalisation on batch statistics; Dense 8 ReLU;
 * batch normalisation; softmax) written in SameDiff, trained with Adam, timed like {@link CnnBenchmark}
 * (median of timed steps after warm-up, same synthetic batch). Not a drop-in for the library's network: batch
 * normalisation's running averages and AdamW's decay are left out, which only makes SameDiff's step cheaper;
 * batch normalisation is built from elementwise ops (see {@link #batchNorm}).
 *
 * <pre>java ... org.leukolab.bench.SameDiffReport000 size=350 batch=32 warmup=3 steps=10</pre>
 */
public final class SameDiffReport000 {
    private SameDiffReport000() {}

    public static void main(String[] args) {
        Map<String, String> a = BenchArgs.parse(args);
        int size = Integer.parseInt(a.getOrDefault("size", "350"));
        int batch = Integer.parseInt(a.getOrDefault("batch", "32"));
        int warmup = Integer.parseInt(a.getOrDefault("warmup", "3"));
        int steps = Integer.parseInt(a.getOrDefault("steps", "10"));
        int classes = ReportCnns.classes("report000");
        SameDiff sd = build(size, classes);
        DataSet ds = ReportCnns.syntheticBatch(batch, size, classes, CNN2DFormat.NCHW);
        double train = BackendBenchmark.median(BackendBenchmark.time(steps, warmup, () -> sd.fit(ds)));
        System.out.printf(Locale.ROOT, "SameDiff report000 %dx%d batch %d: %.1f ms per training step, %.1f img/s (%d parameters)%n",
                size, size, batch, train * 1000, batch / train, sd.variables().stream()
                        .filter(v -> v.getVariableType() == org.nd4j.autodiff.samediff.VariableType.VARIABLE)
                        .mapToLong(v -> v.getArr().length()).sum());
    }

    static SameDiff build(int size, int classes) {
        SameDiff sd = SameDiff.create();
        SDVariable x = sd.placeHolder("input", DataType.FLOAT, -1, 3, size, size);
        SDVariable label = sd.placeHolder("label", DataType.FLOAT, -1, classes);
        long in = 3;
        int side = size;
        int i = 0;
        for (long f : new long[] {4, 8, 16, 32, 64}) {
            SDVariable w = sd.var("w" + i, new XavierInitScheme('c', in * 9, f * 9), DataType.FLOAT, 3, 3, in, f);
            SDVariable b = sd.var("b" + i, new ZeroInitScheme(), DataType.FLOAT, f);
            Conv2DConfig c = Conv2DConfig.builder().kH(3).kW(3).sH(2).sW(2).paddingMode(PaddingMode.SAME)
                    .dataFormat("NCHW").weightsFormat(WeightsFormat.YXIO).build();
            x = sd.nn().relu(sd.cnn().conv2d(x, w, b, c), 0);
            x = batchNorm(sd, x, f, "bn" + i, 0, 2, 3);
            in = f;
            side = (side + 1) / 2;
            i++;
        }
        x = x.reshape(-1, in * side * side);
        SDVariable w = sd.var("wd", new XavierInitScheme('c', in * side * side, 8), DataType.FLOAT, in * side * side, 8);
        SDVariable b = sd.var("bd", new ZeroInitScheme(), DataType.FLOAT, 1, 8);
        x = sd.nn().relu(x.mmul(w).add(b), 0);
        x = batchNorm(sd, x, 8, "bnd", 0);
        SDVariable wo = sd.var("wo", new XavierInitScheme('c', 8, classes), DataType.FLOAT, 8, classes);
        SDVariable bo = sd.var("bo", new ZeroInitScheme(), DataType.FLOAT, 1, classes);
        SDVariable logits = x.mmul(wo).add(bo);
        sd.loss().softmaxCrossEntropy("loss", label, logits, null);
        sd.setLossVariables("loss");
        sd.setTrainingConfig(TrainingConfig.builder().updater(new Adam(1e-3))
                .dataSetFeatureMapping("input").dataSetLabelMapping("label").build());
        return sd;
    }

    /**
     * Batch normalisation on batch statistics from elementwise ops: SameDiff M2.1's own {@code batchNorm} op
     * cannot be differentiated ({@code BatchNorm.doDiff} builds its derivative without the axis and throws
     * "Invalid axis argument: axis must be specified").
     */
    private static SDVariable batchNorm(SameDiff sd, SDVariable x, long channels, String name, int... reduce) {
        long[] shape = reduce.length == 1 ? new long[] {1, channels} : new long[] {1, channels, 1, 1};
        SDVariable gamma = sd.var(name + "_gamma", new OneInitScheme('c'), DataType.FLOAT, shape);
        SDVariable beta = sd.var(name + "_beta", new ZeroInitScheme(), DataType.FLOAT, shape);
        SDVariable mean = x.mean(true, reduce);
        SDVariable centred = x.sub(mean);
        SDVariable var = centred.mul(centred).mean(true, reduce);
        return centred.div(sd.math().sqrt(var.add(1e-3))).mul(gamma).add(beta);
    }
}

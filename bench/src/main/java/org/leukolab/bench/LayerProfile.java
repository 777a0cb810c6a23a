package org.leukolab.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.deeplearning4j.nn.api.Layer;
import org.deeplearning4j.nn.api.layers.IOutputLayer;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * Where a training step of a DL4J network spends its time, layer by layer: each layer's forward pass (in
 * training mode) and backward pass timed on their own, median over several repetitions, next to a whole
 * {@code fit} step (the remainder is the updater and DL4J's bookkeeping). For finding what to speed up;
 * prints a table, asserts nothing.
 *
 * <pre>java ... org.leukolab.bench.LayerProfile model=report002 size=128 batch=32 reps=5 format=NCHW onednn=on|off|unchecked</pre>
 */
public final class LayerProfile {
    private LayerProfile() {}

    public static void main(String[] args) {
        Map<String, String> a = BenchArgs.parse(args);
        String model = a.getOrDefault("model", "report002");
        int size = Integer.parseInt(a.getOrDefault("size", model.equals("report000") ? "350" : "128"));
        int batch = Integer.parseInt(a.getOrDefault("batch", "32"));
        int reps = Integer.parseInt(a.getOrDefault("reps", "5"));
        CNN2DFormat format = CNN2DFormat.valueOf(a.getOrDefault("format", "NCHW"));
        MultiLayerNetwork net = ReportCnns.build(model, size, format);
        DataSet ds = ReportCnns.syntheticBatch(batch, size, ReportCnns.classes(model), format);
        ReportCnns.installOneDnn(a, net, ds);
        System.out.println(profile(net, ds, reps));
    }

    /** The per-layer table for one network and batch. */
    public static String profile(MultiLayerNetwork net, DataSet batch, int reps) {
        Layer[] layers = net.getLayers();
        int n = layers.length;
        double[][] fwd = new double[n][reps];
        double[][] bwd = new double[n][reps];
        double[] fit = new double[reps];
        LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();
        for (int r = -1; r < reps; r++) { // r = -1: warm-up
            long t0 = System.nanoTime();
            net.fit(batch);
            if (r >= 0) {
                fit[r] = (System.nanoTime() - t0) / 1e9;
            }
            List<INDArray> inputs = new ArrayList<>();
            INDArray in = batch.getFeatures();
            for (int i = 0; i < n; i++) {
                InputPreProcessor pp = net.getLayerWiseConfigurations().getInputPreProcess(i);
                if (pp != null) {
                    in = pp.preProcess(in, (int) in.size(0), mgr);
                }
                inputs.add(in);
                long s = System.nanoTime();
                layers[i].setInput(in, mgr);
                INDArray out = layers[i].activate(true, mgr);
                if (r >= 0) {
                    fwd[i][r] = (System.nanoTime() - s) / 1e9;
                }
                in = out;
            }
            INDArray eps = null;
            for (int i = n - 1; i >= 0; i--) {
                layers[i].setInput(inputs.get(i), mgr);
                long s = System.nanoTime();
                if (i == n - 1) {
                    ((IOutputLayer) layers[i]).setLabels(batch.getLabels());
                    layers[i].activate(true, mgr);
                    s = System.nanoTime();
                }
                Pair<Gradient, INDArray> p = layers[i].backpropGradient(eps, mgr);
                if (r >= 0) {
                    bwd[i][r] = (System.nanoTime() - s) / 1e9;
                }
                eps = p.getSecond();
                InputPreProcessor pp = net.getLayerWiseConfigurations().getInputPreProcess(i);
                if (pp != null && eps != null) {
                    eps = pp.backprop(eps, (int) batch.getFeatures().size(0), mgr);
                }
            }
        }
        StringBuilder sb = new StringBuilder();
        double totalF = 0;
        double totalB = 0;
        sb.append(String.format(Locale.ROOT, "%-4s %-28s %12s %12s %8s%n", "#", "layer", "forward ms", "backward ms", "share"));
        double fitMs = BackendBenchmark.median(fit) * 1000;
        for (int i = 0; i < n; i++) {
            double f = BackendBenchmark.median(fwd[i]) * 1000;
            double b = BackendBenchmark.median(bwd[i]) * 1000;
            totalF += f;
            totalB += b;
            sb.append(String.format(Locale.ROOT, "%-4d %-28s %12.1f %12.1f %7.1f%%%n", i, layers[i].getClass().getSimpleName(), f, b,
                    100 * (f + b) / fitMs));
        }
        sb.append(String.format(Locale.ROOT, "     %-28s %12.1f %12.1f%n", "sum of layers", totalF, totalB));
        sb.append(String.format(Locale.ROOT, "     %-28s %12.1f ms (updater and bookkeeping: %.1f ms)%n", "whole fit step", fitMs,
                fitMs - totalF - totalB));
        return sb.toString();
    }
}

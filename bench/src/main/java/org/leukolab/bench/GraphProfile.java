package org.leukolab.bench;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.graph.vertex.GraphVertex;
import org.deeplearning4j.nn.graph.vertex.VertexIndices;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.leukolab.models.backbones.Backbone;
import org.leukolab.system.RunInfo;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Where a frozen backbone's forward pass (inference, as feature extraction runs it) spends its time: every vertex of
 * the graph run on its own in topological order, timed, median over several repetitions, summed by kind (depthwise
 * convolution, convolution, batch normalisation, activation, element-wise addition, SameDiff vertices such as
 * squeeze-and-excitation, ...) next to the whole {@code outputSingle} call (the difference is DL4J's own bookkeeping
 * and workspaces). For finding what to speed up; prints tables, asserts nothing.
 *
 * <pre>java ... org.leukolab.bench.GraphProfile backbone="MobileNetV2 (alpha 0.5)"|EfficientNetB0|... (the names BackboneSpeedBenchmark lists) size=96 batch=32 reps=5 onednn=on|off</pre>
 */
public final class GraphProfile {
    private GraphProfile() {}

    public static void main(String[] args) {
        Map<String, String> a = BenchArgs.parse(args);
        String name = a.getOrDefault("backbone", "MobileNetV2 (alpha 0.5)");
        int size = Integer.parseInt(a.getOrDefault("size", "96"));
        int batch = Integer.parseInt(a.getOrDefault("batch", "32"));
        int reps = Integer.parseInt(a.getOrDefault("reps", "5"));
        Backbone b = BackboneSpeedBenchmark.all().stream().filter(e -> e.name().equals(name)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown backbone " + name + "; one of "
                        + BackboneSpeedBenchmark.all().stream().map(BackboneSpeedBenchmark.Entry::name).toList()))
                .make().apply(size);
        INDArray x = Nd4j.rand(DataType.FLOAT, batch, 3, size, size).muli(2).subi(1);
        if (!"off".equals(a.getOrDefault("onednn", "on"))) {
            org.leukolab.backend.OneDnnLayers.installForInference(b.graph(), x);
        }
        System.out.println(profile(b.graph(), x, reps));
        System.out.println("Machine: " + RunInfo.machine() + "; " + b.architecture() + " " + size + "x" + size + ", batch " + batch
                + ", median of " + reps);
    }

    /**
     * Whether {@code v} runs one of the layers {@code InferenceFusion} folded into a convolution (they only hand on the
     * convolution's result; run outside DL4J's workspaces, as here, they would copy it, a cost the real pass does not have).
     */
    static boolean folded(GraphVertex v) {
        if (!(v instanceof org.deeplearning4j.nn.graph.vertex.impl.LayerVertex lv)) {
            return false;
        }
        var l = lv.getLayer() instanceof org.deeplearning4j.nn.layers.wrapper.BaseWrapperLayer w ? w.getUnderlying() : lv.getLayer();
        return l.getClass().getName().startsWith("org.leukolab.backend.FusedLayers$Folded");
    }

    /** Per-kind and top-vertex tables for one graph and input. */
    public static String profile(ComputationGraph g, INDArray x, int reps) {
        GraphVertex[] vertices = g.getVertices();
        int[] order = g.topologicalSortOrder();
        double[][] t = new double[vertices.length][reps];
        double[] whole = new double[reps];
        LayerWorkspaceMgr mgr = LayerWorkspaceMgr.noWorkspaces();
        for (int r = -1; r < reps; r++) { // r = -1: warm-up
            long t0 = System.nanoTime();
            g.outputSingle(false, x);
            if (r >= 0) {
                whole[r] = (System.nanoTime() - t0) / 1e9;
            }
            Map<Integer, INDArray> out = new HashMap<>();
            for (int idx : order) {
                GraphVertex v = vertices[idx];
                if (v.isInputVertex()) {
                    out.put(idx, x);
                    continue;
                }
                VertexIndices[] ins = v.getInputVertices();
                for (int i = 0; i < ins.length; i++) {
                    v.setInput(i, out.get(ins[i].getVertexIndex()), mgr);
                }
                if (folded(v)) { // a layer fused into the convolution before it: in the real pass it hands its input on
                    out.put(idx, out.get(ins[0].getVertexIndex()));
                    continue;
                }
                long s = System.nanoTime();
                INDArray o = v.doForward(false, mgr);
                if (r >= 0) {
                    t[idx][r] = (System.nanoTime() - s) / 1e9;
                }
                out.put(idx, o);
            }
        }
        Map<String, Double> byKind = new LinkedHashMap<>();
        Map<String, Integer> count = new LinkedHashMap<>();
        List<Object[]> each = new ArrayList<>();
        double sum = 0;
        for (int idx : order) {
            GraphVertex v = vertices[idx];
            if (v.isInputVertex()) {
                continue;
            }
            double m = median(t[idx]);
            String kind = kind(v);
            byKind.merge(kind, m, Double::sum);
            count.merge(kind, 1, Integer::sum);
            each.add(new Object[] {v.getVertexName(), kind, m});
            sum += m;
        }
        double w = median(whole);
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "whole outputSingle: %.1f ms; vertices one by one: %.1f ms%n%n",
                1e3 * w, 1e3 * sum));
        sb.append("| kind | vertices | ms | share |\n|---|---:|---:|---:|\n");
        final double total = sum;
        byKind.entrySet().stream().sorted(Map.Entry.<String, Double>comparingByValue().reversed()).forEach(e -> sb.append(
                String.format(Locale.ROOT, "| %s | %d | %.2f | %.1f%% |%n", e.getKey(), count.get(e.getKey()), 1e3 * e.getValue(),
                        100 * e.getValue() / total)));
        sb.append("\n| slowest vertices | kind | ms |\n|---|---|---:|\n");
        each.sort((p, q) -> Double.compare((double) q[2], (double) p[2]));
        each.stream().limit(15).forEach(e -> sb.append(String.format(Locale.ROOT, "| %s | %s | %.2f |%n", e[0], e[1], 1e3 * (double) e[2])));
        return sb.toString();
    }

    private static String kind(GraphVertex v) {
        if (v.hasLayer()) {
            var layer = v.getLayer();
            String c = layer.conf() == null ? layer.getClass().getSimpleName() : layer.conf().getLayer().getClass().getSimpleName();
            if (c.equals("ActivationLayer")) {
                return "ActivationLayer (" + ((org.deeplearning4j.nn.conf.layers.ActivationLayer) layer.conf().getLayer()).getActivationFn() + ")";
            }
            return c + " [" + layer.getClass().getSimpleName() + "]";
        }
        return v.getClass().getSimpleName();
    }

    private static double median(double[] a) {
        double[] s = a.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }
}

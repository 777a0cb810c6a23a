package org.leukolab.bench;

import org.leukolab.system.SeededArrays;
import java.util.Locale;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.leukolab.models.Optimizer;
import org.leukolab.models.backbones.Backbone;
import org.leukolab.models.backbones.Backbones;
import org.leukolab.models.backbones.Freeze;
import org.leukolab.models.backbones.Head;
import org.leukolab.models.backbones.Transfer;
import org.leukolab.system.Backend;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Training speed of report 003's fine-tuning step in DL4J, for the speed harness ({@code ./leukolab bench}): a backbone
 * under report 003's head (global average pooling, Dense 128, Dropout, Dense 8), with the last {@code unfrozen} share of
 * the backbone trainable and every BatchNorm layer frozen ({@code Freeze.firstFraction(1 - unfrozen).keepBatchNormFrozen()},
 * what {@code Report003.fineTune} builds), Adam. {@code unfrozen=0} times the head-only step on the frozen backbone (what
 * notebook 43 runs every batch). Synthetic inputs, {@code warmup} untimed steps, median of {@code steps} timed steps.
 * Prints one JSON line; asserts nothing.
 *
 * <p>{@code onednn=checked} (default) puts every convolution, batch-normalisation and pooling layer that passes
 * {@code OneDnnLayers}' gradient check on oneDNN, as the trainer does; {@code onednn=frozen} only the frozen ones
 * (output check; what the trainer did before); {@code onednn=all} puts every convolution, batch-normalisation and pooling layer on oneDNN without a check (to measure
 * what it would gain); {@code onednn=off} keeps DL4J's own layers.
 *
 * <pre>java ... org.leukolab.bench.FineTuneBenchmark backbone=mobilenetv2-0.5|efficientnetb0 size=96 batch=32 unfrozen=0.6 warmup=2 steps=5 onednn=checked|frozen|all|off</pre>
 */
public final class FineTuneBenchmark {
    private FineTuneBenchmark() {}

    static Backbone backbone(String name, int size) {
        return switch (name) {
            case "mobilenetv2-0.5" -> Backbones.mobileNetV2(0.5, size, false);
            case "efficientnetb0" -> Backbones.efficientNetB0(size, false);
            default -> throw new IllegalArgumentException("backbone must be mobilenetv2-0.5 or efficientnetb0, got " + name);
        };
    }

    public static void main(String[] args) {
        Map<String, String> a = BenchArgs.parse(args);
        String name = a.getOrDefault("backbone", "mobilenetv2-0.5");
        int size = Integer.parseInt(a.getOrDefault("size", "96"));
        int batch = Integer.parseInt(a.getOrDefault("batch", "32"));
        double unfrozen = Double.parseDouble(a.getOrDefault("unfrozen", "0.6"));
        int warmup = Integer.parseInt(a.getOrDefault("warmup", "2"));
        int steps = Integer.parseInt(a.getOrDefault("steps", "5"));

        Backbone b = backbone(name, size);
        Head head = Head.globalAveragePooling().dense(128).dropout(0.3).softmax(8);
        Freeze freeze = unfrozen == 0 ? Freeze.all() : Freeze.firstFraction(1 - unfrozen).keepBatchNormFrozen();
        ComputationGraph g = Transfer.classifier(b, head, Optimizer.adam(1e-4), 42, freeze);
        long trainable = 0;
        for (org.deeplearning4j.nn.api.Layer l : g.getLayers()) {
            if (!(l instanceof org.deeplearning4j.nn.layers.FrozenLayer)
                    && !(l instanceof org.deeplearning4j.nn.layers.FrozenLayerWithBackprop)) {
                trainable += l.numParams();
            }
        }
        var x = SeededArrays.uniform(DataType.FLOAT, 42, batch, 3, size, size).muli(2).subi(1);
        var y = Nd4j.zeros(DataType.FLOAT, batch, 8);
        for (int i = 0; i < batch; i++) {
            y.putScalar(i, i % 8, 1);
        }
        DataSet ds = new DataSet(x, y);
        org.leukolab.training.DirectGraphUpdater.install(g); // as the trainer does for every graph
        String onednn = a.getOrDefault("onednn", "checked");
        int onOneDnn = switch (onednn) {
            case "checked" -> {
                var r = org.leukolab.backend.OneDnnLayers.install(g, ds);
                System.err.println(r);
                yield r.onOneDnn().size();
            }
            case "frozen" -> org.leukolab.backend.OneDnnLayers.installOnFrozenLayers(g, x).onOneDnn().size();
            case "all" -> org.leukolab.backend.OneDnnLayers.installUnchecked(g).size();
            case "off" -> 0;
            default -> throw new IllegalArgumentException("onednn must be checked, frozen, all or off, got " + onednn);
        };
        double train = BackendBenchmark.median(BackendBenchmark.time(steps, warmup, () -> g.fit(ds)));
        System.out.println(String.format(Locale.ROOT,
                "{\"framework\": \"dl4j\", \"model\": \"%s\", \"size\": %d, \"batch\": %d, \"unfrozen\": %.2f, \"freeze\": \"%s\", "
                        + "\"warmup\": %d, \"steps\": %d, \"threads\": %d, \"train_step_s\": %.4f, \"train_img_s\": %.2f, "
                        + "\"onednn\": \"%s\", \"onednn_layers\": %d, \"params\": %d, \"backbone_params\": %d, \"input_normalization_params\": %d, \"trainable_params\": %d, \"peak_heap_mb\": %.0f, "
                        + "\"peak_rss_mb\": %.0f, \"backend\": \"%s\"}",
                name, size, batch, unfrozen, freeze, warmup, steps, CnnBenchmark.threads(), train, batch / train, onednn, onOneDnn, g.numParams(),
                b.parameters(), b.inputNormalizationParameters(), trainable, CnnBenchmark.peakHeapBytes() / 1048576.0, CnnBenchmark.peakRssBytes() / 1048576.0,
                Backend.describe().replace("\"", "'")));
    }
}

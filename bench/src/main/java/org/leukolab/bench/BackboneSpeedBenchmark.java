package org.leukolab.bench;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.function.IntFunction;
import org.leukolab.data.DatasetCatalog;
import org.leukolab.data.ImageIndex;
import org.leukolab.data.ImageLoader;
import org.leukolab.data.LoadedImages;
import org.leukolab.models.backbones.Backbone;
import org.leukolab.models.backbones.Backbones;
import org.leukolab.models.backbones.FeatureSpeed;
import org.leukolab.system.Backend;
import org.leukolab.system.RunInfo;

/**
 * Frozen feature extraction of every backbone the library has, at each input size asked for: images per second and
 * memory (parameters + DL4J's workspaces for a batch of 32), measured by {@link FeatureSpeed} the way the feature cache
 * computes features. Real images (blood-cells TRAIN); random weights (the speed does not depend on them). Prints a
 * Markdown table. The last column is the process's peak resident memory (Linux' VmHWM: JVM, native libraries, parameters
 * and activations together), meaningful when one backbone is measured per process, as {@code ./leukolab bench --backbones}
 * does ({@code list} prints the names it passes to {@code only=}).
 *
 * <pre>java ... org.leukolab.bench.BackboneSpeedBenchmark [sizes=96,224] [repeats=3] [only=name,name] | list</pre>
 */
public final class BackboneSpeedBenchmark {
    private BackboneSpeedBenchmark() {}

    record Entry(String name, IntFunction<Backbone> make) {}

    static List<Entry> all() {
        return List.of(new Entry("VGG16", s -> Backbones.vgg16(s, false)), new Entry("ResNet50", s -> Backbones.resNet50(s, false)),
                new Entry("DenseNet121", s -> Backbones.denseNet121(s, false)), new Entry("InceptionV3", s -> Backbones.inceptionV3(s, false)),
                new Entry("MobileNetV3Large", s -> Backbones.mobileNetV3Large(s, false)),
                new Entry("EfficientNetB0", s -> Backbones.efficientNetB0(s, false)),
                new Entry("EfficientNetV2S", s -> Backbones.efficientNetV2("S", s, false)),
                new Entry("EfficientNetV2M", s -> Backbones.efficientNetV2("M", s, false)),
                new Entry("EfficientNetV2L", s -> Backbones.efficientNetV2("L", s, false)),
                new Entry("MobileNetV2 (alpha 1.0)", s -> Backbones.mobileNetV2(1.0, s, false)),
                new Entry("MobileNetV2 (alpha 0.5)", s -> Backbones.mobileNetV2(0.5, s, false)),
                new Entry("MobileNet (alpha 0.25)", s -> Backbones.mobileNetV1(0.25, s, false)),
                new Entry("SqueezeNet 1.1", s -> Backbones.squeezeNet(s, false)));
    }

    /** The process's peak resident set (VmHWM) in MB, or "n/a" where /proc/self/status does not exist. */
    static String peakResidentMb() {
        try {
            for (String line : java.nio.file.Files.readAllLines(java.nio.file.Path.of("/proc/self/status"))) {
                if (line.startsWith("VmHWM:")) {
                    return String.format(Locale.ROOT, "%.0f", Long.parseLong(line.replaceAll("[^0-9]", "")) / 1024.0);
                }
            }
        } catch (java.io.IOException | RuntimeException e) {
            // not Linux: no figure
        }
        return "n/a";
    }

    public static void main(String[] args) {
        int[] sizes = {96, 224};
        int repeats = 3;
        List<String> only = List.of();
        for (String a : args) {
            if (a.equals("list")) {
                all().forEach(e -> System.out.println(e.name()));
                return;
            } else if (a.startsWith("sizes=")) {
                sizes = java.util.Arrays.stream(a.substring(6).split(",")).mapToInt(Integer::parseInt).toArray();
            } else if (a.startsWith("repeats=")) {
                repeats = Integer.parseInt(a.substring(8));
            } else if (a.startsWith("only=")) {
                only = List.of(a.substring(5).split(","));
            } else {
                throw new IllegalArgumentException("unknown argument " + a + " (sizes=96,224 repeats=3 only=VGG16,... or list)");
            }
        }
        ImageIndex idx = DatasetCatalog.standard().open("blood-cells").index().split("TRAIN").stratifiedSample(8, 1);
        List<String> rows = new ArrayList<>();
        rows.add("| backbone | parameters | input | images/s | ms per image | parameters MB | workspaces MB (batch 32) | process peak RSS MB |");
        rows.add("|---|---:|---|---:|---:|---:|---:|---:|");
        for (int size : sizes) {
            LoadedImages images = ImageLoader.builder().size(size).progress(false).noCache().build().load(idx);
            for (Entry e : all()) {
                if (!only.isEmpty() && !only.contains(e.name())) {
                    continue;
                }
                Backbone b = e.make().apply(size);
                FeatureSpeed f = FeatureSpeed.measure(b, images, repeats);
                System.out.println(f);
                rows.add(String.format(Locale.ROOT, "| %s | %,d | %dx%d | %.1f | %.1f | %.0f | %.0f | %s |", e.name(), b.parameters(), size, size,
                        f.imagesPerSecond(), f.millisecondsPerImage(), f.parameterBytes() / 1e6, f.workspaceBytes() / 1e6, peakResidentMb()));
            }
        }
        System.out.println();
        System.out.println("Machine: " + RunInfo.machine() + "; " + Backend.describe() + "; batch " + FeatureSpeed.BATCH + ", "
                + repeats + " timed batches after one warm-up; " + java.time.LocalDate.now());
        System.out.println();
        rows.forEach(System.out::println);
    }
}

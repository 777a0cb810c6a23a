package org.leukolab.bench;

import java.nio.file.Path;
import java.util.Locale;
import java.util.Map;
import org.leukolab.data.ImageIndex;
import org.leukolab.data.ImageLoader;
import org.leukolab.data.LoadedImages;
import org.leukolab.preprocessing.ContourCropper;

/**
 * The data pipeline part of the speed harness: decode, report 002's contour crop and a resize to
 * 128x128 for the images of a folder-per-class dataset, with leukolab's parallel loader (no cache, so
 * every image is decoded). The folder is listed first, untimed, as the Python reference does. Prints one
 * JSON line.
 *
 * <pre>java ... org.leukolab.bench.PipelineBenchmark folder=data/blood-cells/dataset2-master/images/TRAIN limit=0 threads=0</pre>
 */
public final class PipelineBenchmark {
    private PipelineBenchmark() {}

    public static void main(String[] args) {
        Map<String, String> a = BenchArgs.parse(args);
        Path folder = Path.of(a.getOrDefault("folder", "data/blood-cells/dataset2-master/images/TRAIN"));
        int limit = Integer.parseInt(a.getOrDefault("limit", "0"));
        int threads = Integer.parseInt(a.getOrDefault("threads", "0"));
        if (threads <= 0) {
            threads = Runtime.getRuntime().availableProcessors();
        }
        ImageIndex index = everyKth(ImageIndex.scan(folder, "bench"), limit);
        ImageLoader loader = ImageLoader.builder().size(128).transform(new ContourCropper(ContourCropper.Mode.REPORT))
                .threads(threads).noCache().progress(false).storage(ImageLoader.Storage.MEMORY).build();
        long t0 = System.nanoTime();
        LoadedImages out = loader.load(index);
        double s = (System.nanoTime() - t0) / 1e9;
        System.out.println(String.format(Locale.ROOT,
                "{\"framework\": \"leukolab\", \"task\": \"decode+contour crop+resize 128\", \"images\": %d, \"seconds\": %.3f, "
                        + "\"img_s\": %.2f, \"threads\": %d}", out.size(), s, out.size() / s, threads));
    }

    /** {@code limit} images of {@code index} taken at even steps, so every class is represented (all when limit <= 0). */
    static ImageIndex everyKth(ImageIndex index, int limit) {
        if (limit <= 0 || limit >= index.size()) {
            return index;
        }
        int step = index.size() / limit;
        java.util.Set<Path> keep = new java.util.HashSet<>();
        for (int i = 0; i < limit; i++) {
            keep.add(index.get(i * step).path());
        }
        return index.filter("bench sample", r -> keep.contains(r.path()));
    }
}

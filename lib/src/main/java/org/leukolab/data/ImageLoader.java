package org.leukolab.data;

import static org.bytedeco.opencv.global.opencv_imgproc.resize;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Collectors;
import org.bytedeco.opencv.global.opencv_core;
import org.bytedeco.opencv.opencv_core.Mat;
import org.bytedeco.opencv.opencv_core.Size;
import org.leukolab.notebook.Progress;
import org.leukolab.preprocessing.ImageTransform;
import org.leukolab.preprocessing.Interpolation;
import org.leukolab.system.Workspace;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Decodes the images of an {@link ImageIndex}, applies optional transforms, resizes them and keeps
 * the pixels as 8-bit RGB, in parallel, with a progress bar. The result is cached on disk (keyed by the
 * files' paths, sizes and modification times, the labels and every loader setting), so running the
 * same notebook again does not decode again.
 *
 * <pre>{@code
 * LoadedImages train = ImageLoader.builder().size(128).build().load(index.split("TRAIN"));
 * INDArray x = train.features();   // [n, 3, 128, 128], float 0..255
 * }</pre>
 *
 * <p>Files that cannot be decoded are skipped and reported in {@link LoadedImages#issues()} (the
 * index's own scan issues are there too); they never stop a load.
 */
public final class ImageLoader {
    private static final Logger LOG = LoggerFactory.getLogger(ImageLoader.class);
    /** Bumped whenever decoding or resizing changes, so old caches are not reused. */
    static final int PIPELINE_VERSION = 1;

    private final int height;
    private final int width;
    private final Interpolation interpolation;
    private final List<ImageTransform> transforms;
    private final int threads;
    private final Path cacheDir;
    private final boolean progress;

    private ImageLoader(Builder b) {
        this.height = b.height;
        this.width = b.width;
        this.interpolation = b.interpolation;
        this.transforms = List.copyOf(b.transforms);
        this.threads = b.threads;
        this.cacheDir = b.cacheDir;
        this.progress = b.progress;
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Settings of a loader. Defaults: 128x128, bilinear, no transform, all cores, cache on. */
    public static final class Builder {
        private int height = 128;
        private int width = 128;
        private Interpolation interpolation = Interpolation.BILINEAR;
        private final List<ImageTransform> transforms = new ArrayList<>();
        private int threads = Runtime.getRuntime().availableProcessors();
        private Path cacheDir = Workspace.cacheDir().resolve("images");
        private boolean progress = true;

        public Builder size(int side) {
            return size(side, side);
        }

        public Builder size(int height, int width) {
            if (height <= 0 || width <= 0) {
                throw new IllegalArgumentException("image size must be positive, got " + height + "x" + width);
            }
            this.height = height;
            this.width = width;
            return this;
        }

        public Builder interpolation(Interpolation i) {
            this.interpolation = Objects.requireNonNull(i);
            return this;
        }

        /** Adds a step run on each decoded image before resizing (in the order added). */
        public Builder transform(ImageTransform t) {
            transforms.add(Objects.requireNonNull(t));
            return this;
        }

        public Builder threads(int n) {
            this.threads = Math.max(1, n);
            return this;
        }

        /** Where decoded images are cached; {@code null} turns the cache off. */
        public Builder cacheDir(Path dir) {
            this.cacheDir = dir;
            return this;
        }

        public Builder noCache() {
            return cacheDir(null);
        }

        public Builder progress(boolean show) {
            this.progress = show;
            return this;
        }

        public ImageLoader build() {
            return new ImageLoader(this);
        }
    }

    /** A text naming every setting that changes the output (part of the cache key). */
    public String settingsId() {
        return "v" + PIPELINE_VERSION + " " + height + "x" + width + " " + interpolation + " rgb8 ["
                + transforms.stream().map(ImageTransform::id).collect(Collectors.joining(", ")) + "]";
    }

    /** Decodes (or reads from the cache) every image of the index. */
    public LoadedImages load(ImageIndex index) {
        ImageCache cache = cacheDir == null ? null : new ImageCache(cacheDir);
        String key = cache == null ? null : ImageCache.key(settingsId(), index);
        if (cache != null) {
            LoadedImages hit = cache.read(key, index, height, width);
            if (hit != null) {
                LOG.info("{}: {} images read from the cache ({})", index.name(), hit.size(), settingsId());
                return hit;
            }
        }
        LoadedImages fresh = decodeAll(index);
        if (cache != null) {
            cache.write(key, fresh);
        }
        return fresh;
    }

    private LoadedImages decodeAll(ImageIndex index) {
        int n = index.size();
        byte[][] pixels = new byte[n][];
        DataIssues issues = new DataIssues(index.root());
        issues.addAll(index.issues());
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "leukolab-decode");
            t.setDaemon(true);
            return t;
        });
        int cvThreads = opencv_core.getNumThreads();
        opencv_core.setNumThreads(1); // parallel across images, not inside OpenCV calls
        try (Progress bar = progress ? Progress.start("decoding " + index.name(), n, "img")
                                     : Progress.toStream("decoding " + index.name(), n, "img", nullStream())) {
            List<Future<?>> jobs = new ArrayList<>(n);
            for (int i = 0; i < n; i++) {
                final int k = i;
                jobs.add(pool.submit(() -> {
                    ImageRecord r = index.get(k);
                    pixels[k] = decodeOne(r.path(), issues);
                    bar.step();
                }));
            }
            for (Future<?> f : jobs) {
                f.get();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("image loading interrupted", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("image loading failed: " + e.getCause(), e.getCause());
        } finally {
            pool.shutdownNow();
            opencv_core.setNumThreads(cvThreads);
        }
        List<Integer> kept = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            if (pixels[i] != null) {
                kept.add(i);
            }
        }
        return LoadedImages.of(index, kept, pixels, height, width, issues, false);
    }

    /** Decode, transform, resize one file to RGB bytes (HWC); null (and an issue) if impossible. */
    byte[] decodeOne(Path file, DataIssues issues) {
        ImageDecoder.Decoded d = ImageDecoder.decode(file);
        if (!d.ok()) {
            issues.add(DataIssue.skipped(file, DataIssue.Kind.DECODE_FAILED, d.error()));
            return null;
        }
        if (d.conversion() != null) {
            issues.add(new DataIssue(file, DataIssue.Kind.CONVERTED, d.conversion(), "converted"));
        }
        Mat img = d.rgb();
        try {
            for (ImageTransform t : transforms) {
                Mat next = t.apply(img);
                if (next != img) {
                    img.close();
                    img = next;
                }
            }
            Mat out = img;
            if (img.rows() != height || img.cols() != width) {
                out = new Mat();
                resize(img, out, new Size(width, height), 0, 0, interpolation.opencvFlag());
            }
            try {
                byte[] b = new byte[height * width * 3];
                Mat cont = out.isContinuous() ? out : out.clone();
                cont.data().get(b);
                if (cont != out) {
                    cont.close();
                }
                return b;
            } finally {
                if (out != img) {
                    out.close();
                }
            }
        } catch (RuntimeException e) {
            issues.add(DataIssue.skipped(file, DataIssue.Kind.DECODE_FAILED, "processing failed: " + e.getMessage()));
            return null;
        } finally {
            img.close();
        }
    }

    private static java.io.PrintStream nullStream() {
        return new java.io.PrintStream(java.io.OutputStream.nullOutputStream());
    }
}

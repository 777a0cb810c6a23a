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
    private final Storage storage;

    /** Where decoded pixels are kept. */
    public enum Storage {
        /** In the heap if they fit the in-memory budget (a quarter of the heap), else in the cache file. */
        AUTO,
        /** Always in the heap. */
        MEMORY,
        /** Always in the cache file, read image by image when needed. */
        DISK
    }

    private ImageLoader(Builder b) {
        this.height = b.height;
        this.width = b.width;
        this.interpolation = b.interpolation;
        this.transforms = List.copyOf(b.transforms);
        this.threads = b.threads;
        this.cacheDir = b.cacheDir;
        this.progress = b.progress;
        this.storage = b.storage;
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
        private Storage storage = Storage.AUTO;

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

        /** Where decoded pixels are kept (default {@link Storage#AUTO}). */
        public Builder storage(Storage s) {
            this.storage = Objects.requireNonNull(s);
            return this;
        }

        public ImageLoader build() {
            return new ImageLoader(this);
        }
    }

    public int height() {
        return height;
    }

    public int width() {
        return width;
    }

    public Interpolation interpolation() {
        return interpolation;
    }

    /** The steps run on each decoded image before resizing, in order. */
    public List<ImageTransform> transforms() {
        return transforms;
    }

    /**
     * Image files given by path, decoded as this loader decodes (no cache, no progress bar): for classifying new
     * images. A file that is not a usable image is an error naming it and what is wrong.
     */
    public LoadedImages loadFiles(List<Path> files) {
        ImageIndex index = ImageIndex.ofFiles("new images", files);
        DataIssues issues = new DataIssues(null);
        List<byte[]> px = new ArrayList<>();
        for (ImageRecord r : index.records()) {
            byte[] p = decodeOne(r, issues);
            if (p == null) {
                throw new DatasetException(r.path() + " cannot be used: " + issues.summary(3));
            }
            px.add(p);
        }
        return new LoadedImages(index, px, height, width, issues, false).withLoader(this);
    }

    /** A text naming every setting that changes the output (part of the cache key). */
    public String settingsId() {
        return "v" + PIPELINE_VERSION + " " + height + "x" + width + " " + interpolation + " rgb8 ["
                + transforms.stream().map(ImageTransform::id).collect(Collectors.joining(", ")) + "]";
    }

    /** Decodes (or reads from the cache) every image of the index. */
    public LoadedImages load(ImageIndex index) {
        boolean onDisk = keepOnDisk(index.size());
        ImageCache cache = cacheDir == null ? null : new ImageCache(cacheDir);
        String key = cache == null ? null : ImageCache.key(settingsId(), index);
        if (cache != null) {
            LoadedImages hit = cache.read(key, index, height, width, onDisk);
            if (hit != null) {
                LOG.info("{}: {} images read from the cache ({})", index.name(), hit.size(), settingsId());
                return hit.withLoader(this);
            }
        }
        if (onDisk) {
            LOG.info("{}: {} images at {}x{} need {} MB, more than the in-memory budget of {} MB: the pixels stay in "
                    + "the cache file", index.name(), index.size(), height, width, (long) index.size() * height * width * 3 >> 20,
                    memoryBudget() >> 20);
            if (cache == null) {
                // no cache folder: a private one that lives as long as this JVM
                cache = new ImageCache(temporaryDir());
                key = ImageCache.key(settingsId(), index);
            }
        }
        return decodeAll(index, cache, key, onDisk).withLoader(this);
    }

    /** Whether {@code n} images are kept in the cache file rather than the heap. */
    boolean keepOnDisk(int n) {
        return switch (storage) {
            case MEMORY -> false;
            case DISK -> true;
            case AUTO -> (long) n * height * width * 3 > memoryBudget();
        };
    }

    /**
     * Bytes of pixels kept in the heap before {@link Storage#AUTO} switches to the disk: a quarter of the
     * maximum heap, or {@code LEUKOLAB_IMAGES_IN_MEMORY} (e.g. {@code 6g}, {@code 800m}).
     */
    static long memoryBudget() {
        String v = System.getenv("LEUKOLAB_IMAGES_IN_MEMORY");
        if (v != null && !v.isBlank()) {
            return parseBytes(v.trim());
        }
        return Runtime.getRuntime().maxMemory() / 4;
    }

    static long parseBytes(String v) {
        String s = v.toLowerCase(java.util.Locale.ROOT);
        long unit = 1;
        if (s.endsWith("g")) {
            unit = 1L << 30;
        } else if (s.endsWith("m")) {
            unit = 1L << 20;
        } else if (s.endsWith("k")) {
            unit = 1L << 10;
        }
        try {
            return (long) (Double.parseDouble(unit == 1 ? s : s.substring(0, s.length() - 1)) * unit);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("LEUKOLAB_IMAGES_IN_MEMORY=" + v + " is not a size; write e.g. 6g or 800m");
        }
    }

    private static Path temporaryDir() {
        try {
            Path d = java.nio.file.Files.createTempDirectory("leukolab-images-");
            d.toFile().deleteOnExit();
            return d;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException("cannot create a temporary folder for decoded images", e);
        }
    }

    /**
     * Decodes in chunks (in parallel within a chunk), writing each chunk to the cache file as it comes,
     * so a set larger than memory never has to be held whole.
     */
    private LoadedImages decodeAll(ImageIndex index, ImageCache cache, String key, boolean onDisk) {
        int n = index.size();
        DataIssues issues = new DataIssues(index.root());
        issues.addAll(index.issues());
        List<Integer> kept = new ArrayList<>();
        List<byte[]> inMemory = onDisk ? null : new ArrayList<>();
        ExecutorService pool = Executors.newFixedThreadPool(threads, r -> {
            Thread t = new Thread(r, "leukolab-decode");
            t.setDaemon(true);
            return t;
        });
        int cvThreads = opencv_core.getNumThreads();
        opencv_core.setNumThreads(1); // parallel across images, not inside OpenCV calls
        ImageCache.Writer writer = null;
        Path file = null;
        try (Progress bar = progress ? Progress.start("decoding " + index.name(), n, "img")
                                     : Progress.toStream("decoding " + index.name(), n, "img", nullStream())) {
            if (cache != null) {
                try {
                    writer = cache.writer(key);
                } catch (java.io.IOException e) {
                    if (onDisk) {
                        throw new java.io.UncheckedIOException("cannot write decoded images to " + cache.file(key).getParent()
                                + ": " + e.getMessage() + ". Free disk space or set LEUKOLAB_CACHE to another folder.", e);
                    }
                    LOG.warn("could not write the image cache ({}); the next run will decode again", e.getMessage());
                }
            }
            int chunk = Math.max(threads * 16, 64);
            for (int from = 0; from < n; from += chunk) {
                final int start = from;
                int end = Math.min(n, start + chunk);
                byte[][] px = new byte[end - start][];
                List<Future<?>> jobs = new ArrayList<>(end - start);
                for (int i = start; i < end; i++) {
                    final int k = i;
                    jobs.add(pool.submit(() -> {
                        px[k - start] = decodeOne(index.get(k), issues);
                        bar.step();
                    }));
                }
                for (Future<?> f : jobs) {
                    f.get();
                }
                for (int i = start; i < end; i++) {
                    byte[] p = px[i - start];
                    if (p == null) {
                        continue;
                    }
                    kept.add(i);
                    if (inMemory != null) {
                        inMemory.add(p);
                    }
                    if (writer != null) {
                        try {
                            writer.append(p);
                        } catch (java.io.IOException e) {
                            if (onDisk) {
                                throw new java.io.UncheckedIOException("cannot write decoded images to the cache: "
                                        + e.getMessage() + ". Free disk space or set LEUKOLAB_CACHE to another folder.", e);
                            }
                            LOG.warn("could not write the image cache ({}); the next run will decode again", e.getMessage());
                            writer.close();
                            writer = null;
                        }
                    }
                }
            }
            if (writer != null) {
                try {
                    file = writer.commit(index.name(), height, width, n, kept, issues);
                } catch (java.io.IOException e) {
                    if (onDisk) {
                        throw new java.io.UncheckedIOException("cannot finish the image cache file: " + e.getMessage(), e);
                    }
                    LOG.warn("could not write the image cache ({}); the next run will decode again", e.getMessage());
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("image loading interrupted", e);
        } catch (ExecutionException e) {
            throw new IllegalStateException("image loading failed: " + e.getCause(), e.getCause());
        } finally {
            if (writer != null) {
                writer.close(); // removes the temporary file unless committed
            }
            pool.shutdownNow();
            opencv_core.setNumThreads(cvThreads);
        }
        Pixels pixels;
        if (onDisk) {
            try {
                pixels = Pixels.onDisk(file, ImageCache.MAGIC.length, height * width * 3,
                        java.util.stream.IntStream.range(0, kept.size()).toArray());
            } catch (java.io.IOException e) {
                throw new java.io.UncheckedIOException("cannot open the image cache file " + file, e);
            }
        } else {
            pixels = Pixels.inMemory(inMemory);
        }
        return LoadedImages.of(index, kept, pixels, height, width, issues, false);
    }

    /** Decode, transform, resize one file to RGB bytes (HWC); null (and an issue) if impossible. */
    byte[] decodeOne(Path file, DataIssues issues) {
        return decodeOne(file, ImageDecoder.decode(file), issues);
    }

    /** The same for a record (a file, or an image held in an array). */
    byte[] decodeOne(ImageRecord r, DataIssues issues) {
        return decodeOne(r.path(), ImageDecoder.decode(r), issues);
    }

    private byte[] decodeOne(Path file, ImageDecoder.Decoded d, DataIssues issues) {
        if (!d.ok()) {
            issues.add(DataIssue.skipped(file, DataIssue.Kind.DECODE_FAILED, d.error()));
            return null;
        }
        if (d.conversion() != null) {
            issues.add(new DataIssue(file, DataIssue.Kind.CONVERTED, d.conversion(), "converted"));
        }
        if (d.warning() != null) {
            issues.add(new DataIssue(file, DataIssue.Kind.DECODE_WARNING, d.warning()
                    + " (decoded as far as the data goes; the rest of the picture may be grey)", "loaded, flagged"));
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

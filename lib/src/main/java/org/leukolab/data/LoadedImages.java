package org.leukolab.data;

import java.awt.image.BufferedImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.leukolab.notebook.Rich;
import org.leukolab.notebook.Tables;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Decoded images of one {@link ImageIndex}, all the same size, kept as 8-bit RGB (row-major, pixel
 * by pixel: {@code HWC}) until a tensor is asked for. Only the images that decoded are here;
 * {@link #index()} lists exactly those, in the same order, and {@link #issues()} the rest.
 */
public final class LoadedImages implements Rich {
    private static final int CHUNK = 256;

    private final ImageIndex index;
    private final Pixels pixels;
    private final int height;
    private final int width;
    private final DataIssues issues;
    private final boolean fromCache;
    /** For the cache: how many records the loaded index had, and which positions decoded. */
    private final int sourceSize;
    private final List<Integer> kept;
    /** The loader that made these images (its size, interpolation and transforms), or null. */
    private final ImageLoader loader;

    LoadedImages(ImageIndex index, List<byte[]> pixels, int height, int width, DataIssues issues, boolean fromCache) {
        this(index, Pixels.inMemory(pixels), height, width, issues, fromCache, pixels.size(), null, null);
    }

    private LoadedImages(ImageIndex index, Pixels pixels, int height, int width, DataIssues issues,
                         boolean fromCache, int sourceSize, List<Integer> kept, ImageLoader loader) {
        if (index.size() != pixels.size()) {
            throw new IllegalArgumentException(index.size() + " records but " + pixels.size() + " images");
        }
        this.index = index;
        this.pixels = pixels;
        this.height = height;
        this.width = width;
        this.issues = issues;
        this.fromCache = fromCache;
        this.sourceSize = sourceSize;
        this.kept = kept == null ? java.util.stream.IntStream.range(0, pixels.size()).boxed().toList() : List.copyOf(kept);
        this.loader = loader;
    }

    /** The same images, remembering the loader that made them. */
    LoadedImages withLoader(ImageLoader l) {
        return new LoadedImages(index, pixels, height, width, issues, fromCache, sourceSize, kept, l);
    }

    /**
     * The loader that decoded these images (size, interpolation, transforms: what a saved model needs to
     * prepare a new image the same way); empty for images made another way.
     */
    public java.util.Optional<ImageLoader> loader() {
        return java.util.Optional.ofNullable(loader);
    }

    /** The images of {@code source} at positions {@code kept}; {@code pixels} holds exactly those, in that order. */
    static LoadedImages of(ImageIndex source, List<Integer> kept, Pixels pixels, int h, int w,
                           DataIssues issues, boolean fromCache) {
        List<ImageRecord> recs = new ArrayList<>(kept.size());
        for (int k : kept) {
            recs.add(source.get(k));
        }
        ImageIndex idx = new ImageIndex(source.name(), source.root(), recs, source.classes(), source.issues());
        return new LoadedImages(idx, pixels, h, w, issues, fromCache, source.size(), kept, null);
    }

    int sourceSize() {
        return sourceSize;
    }

    List<Integer> keptPositions() {
        return kept;
    }

    public ImageIndex index() {
        return index;
    }

    public int size() {
        return pixels.size();
    }

    public int height() {
        return height;
    }

    public int width() {
        return width;
    }

    public List<String> classes() {
        return index.classes();
    }

    public int[] labels() {
        return index.labels();
    }

    /** Everything skipped or converted, from scanning and from decoding. */
    public DataIssues issues() {
        return issues;
    }

    /** True if these images were read from the on-disk cache rather than decoded. */
    public boolean fromCache() {
        return fromCache;
    }

    /** The RGB bytes of image {@code i} (HWC). Shared, do not modify. */
    public byte[] pixels(int i) {
        return pixels.get(i);
    }

    /**
     * True if the pixels stay in the image cache file and are read when needed (sets larger than the
     * memory budget, see {@link ImageLoader.Builder#storage}); false if they are in the Java heap.
     */
    public boolean onDisk() {
        return pixels.onDisk();
    }

    /** Bytes of pixel data (8-bit RGB). */
    public long pixelBytes() {
        return (long) size() * height * width * 3;
    }

    /** Images as a float tensor {@code [n, 3, h, w]} with values 0..255. */
    public INDArray features() {
        return features(CNN2DFormat.NCHW);
    }

    /** Images as a float tensor in the given layout ({@code NCHW} or {@code NHWC}), values 0..255. */
    public INDArray features(CNN2DFormat format) {
        int n = size();
        boolean nchw = format == CNN2DFormat.NCHW;
        long[] shape = nchw ? new long[] {n, 3, height, width} : new long[] {n, height, width, 3};
        INDArray out = Nd4j.create(DataType.FLOAT, shape);
        int plane = height * width;
        // Fill the tensor's own (row-major, contiguous) buffer chunk by chunk: no extra copies.
        java.nio.FloatBuffer target = out.data().asNioFloat();
        for (int start = 0; start < n; start += CHUNK) {
            int k = Math.min(CHUNK, n - start);
            float[] buf = new float[k * 3 * plane];
            for (int j = 0; j < k; j++) {
                byte[] p = pixels.get(start + j);
                int base = j * 3 * plane;
                if (nchw) {
                    for (int px = 0; px < plane; px++) {
                        buf[base + px] = p[3 * px] & 0xFF;
                        buf[base + plane + px] = p[3 * px + 1] & 0xFF;
                        buf[base + 2 * plane + px] = p[3 * px + 2] & 0xFF;
                    }
                } else {
                    for (int q = 0; q < 3 * plane; q++) {
                        buf[base + q] = p[q] & 0xFF;
                    }
                }
            }
            target.position(start * 3 * plane);
            target.put(buf, 0, k * 3 * plane);
        }
        return out;
    }

    /** One-hot labels {@code [n, classes]}. */
    public INDArray labelsOneHot() {
        int[] y = labels();
        INDArray out = Nd4j.zeros(DataType.FLOAT, y.length, classes().size());
        for (int i = 0; i < y.length; i++) {
            out.putScalar(i, y[i], 1f);
        }
        return out;
    }

    /** Features (NCHW, 0..255) and one-hot labels together. */
    public DataSet dataSet() {
        return new DataSet(features(), labelsOneHot());
    }

    /** Image {@code i} as a Java image, for montages and display. */
    public BufferedImage image(int i) {
        byte[] p = pixels.get(i);
        BufferedImage img = new BufferedImage(width, height, BufferedImage.TYPE_INT_RGB);
        int[] rgb = new int[width * height];
        for (int q = 0; q < rgb.length; q++) {
            rgb[q] = (p[3 * q] & 0xFF) << 16 | (p[3 * q + 1] & 0xFF) << 8 | (p[3 * q + 2] & 0xFF);
        }
        img.setRGB(0, 0, width, height, rgb, 0, width);
        return img;
    }

    /**
     * Where the images of {@code subset} are in this set (by file), e.g. to take the rows of a split
     * out of features computed once for a whole folder; an image not loaded here is an error.
     */
    public int[] positionsOf(ImageIndex subset) {
        java.util.Map<java.nio.file.Path, Integer> at = new java.util.HashMap<>();
        for (int i = 0; i < size(); i++) {
            at.put(index.get(i).path(), i);
        }
        return subset.records().stream().mapToInt(r -> {
            Integer i = at.get(r.path());
            if (i == null) {
                throw new IllegalArgumentException(r.path() + " is not among these loaded images");
            }
            return i;
        }).toArray();
    }

    /** The images at the given positions, in that order. */
    public LoadedImages subset(int... positions) {
        List<ImageRecord> recs = new ArrayList<>(positions.length);
        for (int i : positions) {
            recs.add(index.get(i));
        }
        ImageIndex idx = new ImageIndex(index.name(), index.root(), recs, index.classes(), index.issues());
        return new LoadedImages(idx, pixels.select(positions), height, width, issues, fromCache, positions.length, null, loader);
    }

    @Override
    public String toString() {
        return String.format("%s: %d images %dx%d RGB (%s%s), %s", index.name(), size(), height, width,
                fromCache ? "from cache" : "decoded", onDisk() ? String.format(", %.1f GB read from disk as needed", pixelBytes() / 1e9) : "",
                issues.isEmpty() ? "no problems" : issues.summary(5));
    }

    @Override
    public Map<String, Object> mimeBundle() {
        return Map.of("text/plain", toString(), "text/html", "<pre>" + Tables.escape(toString()) + "</pre>");
    }
}

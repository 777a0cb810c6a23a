package org.leukolab.training;

import java.util.Arrays;
import java.util.List;
import java.util.Optional;
import org.leukolab.data.ImageIndex;
import org.leukolab.system.Hashing;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.indexing.SpecifiedIndex;

/**
 * Examples a {@link Trainer} takes mini-batches from: a {@link DataSet} in memory ({@link #of(DataSet)}),
 * or images turned into tensors one batch at a time ({@link ImageBatches}), so a set far larger than
 * memory as float tensors (report 000's balanced set: 31,155 images at 350x350 would be 46 GB) still trains.
 */
public interface Batches {
    /** How many examples. */
    int size();

    /** Features and one-hot labels of the examples at {@code rows}, in that order. */
    DataSet batch(int[] rows);

    /** Class index of every example. */
    int[] labels();

    /** Number of classes (width of the one-hot labels). */
    int classes();

    /** Class names in label order ({@code class 0}, {@code class 1}, ... when the data has none). */
    default List<String> classNames() {
        return java.util.stream.IntStream.range(0, classes()).mapToObj(i -> "class " + i).toList();
    }

    /** A stable text that changes when the examples or their preparation change (checkpoint signatures). */
    String fingerprint();

    /** Shape of one example's features (without the batch dimension). */
    long[] exampleShape();

    /**
     * The images these examples are, in the same order, when known: predictions on them can then be recorded
     * per image (file, source, class) and broken down by source.
     */
    default Optional<ImageIndex> index() {
        return Optional.empty();
    }

    /** An in-memory data set as batches. */
    static Batches of(DataSet ds) {
        return new InMemory(ds, null);
    }

    /**
     * An in-memory data set whose rows are the images of {@code index}, in that order (e.g. features a
     * frozen backbone computed for them); its class names are the index's.
     */
    static Batches of(DataSet ds, ImageIndex index) {
        if (index.size() != ds.numExamples()) {
            throw new IllegalArgumentException(ds.numExamples() + " examples but the index has " + index.size() + " images");
        }
        if (index.classes().size() != ds.getLabels().size(1)) {
            throw new IllegalArgumentException(ds.getLabels().size(1) + " label columns but the index has classes " + index.classes());
        }
        return new InMemory(ds, index);
    }

    /** Features computed for loaded images (a frozen backbone's, say), one row per image, in order. */
    static Batches of(DataSet ds, org.leukolab.data.LoadedImages images) {
        return of(ds, images.index());
    }

    /**
     * The rows of {@code all} (features computed once for every image of {@code images}) that belong to the images
     * of {@code subset}, in the subset's order, labelled with the subset's classes: so features are computed once
     * for a whole set and reused for its splits, or for the same images under another labelling (their source, a
     * smaller class list).
     */
    static Batches select(DataSet all, org.leukolab.data.LoadedImages images, ImageIndex subset) {
        if (all.numExamples() != images.size()) {
            throw new IllegalArgumentException(all.numExamples() + " rows of features for " + images.size() + " images");
        }
        int[] pos = images.positionsOf(subset);
        int[] y = subset.labels();
        INDArray labels = org.nd4j.linalg.factory.Nd4j.zeros(all.getLabels().dataType(), y.length, subset.classes().size());
        for (int i = 0; i < y.length; i++) {
            labels.putScalar(i, y[i], 1);
        }
        return of(new DataSet(rows(all, pos).getFeatures(), labels), subset);
    }

    /** Rows {@code idx} of a dataset (features of any rank), in that order. */
    static DataSet rows(DataSet ds, int[] idx) {
        return new DataSet(select(ds.getFeatures(), idx), select(ds.getLabels(), idx));
    }

    private static INDArray select(INDArray a, int[] idx) {
        INDArrayIndex[] ix = new INDArrayIndex[a.rank()];
        ix[0] = new SpecifiedIndex(Arrays.stream(idx).asLongStream().toArray());
        for (int d = 1; d < ix.length; d++) {
            ix[d] = NDArrayIndex.all();
        }
        return a.get(ix);
    }

    /** A {@link DataSet} held in memory. */
    final class InMemory implements Batches {
        private final DataSet ds;
        private final ImageIndex index;

        InMemory(DataSet ds, ImageIndex index) {
            this.ds = ds;
            this.index = index;
        }

        @Override
        public Optional<ImageIndex> index() {
            return Optional.ofNullable(index);
        }

        @Override
        public List<String> classNames() {
            return index == null ? Batches.super.classNames() : index.classes();
        }

        public DataSet dataSet() {
            return ds;
        }

        @Override
        public int size() {
            return ds.numExamples();
        }

        @Override
        public DataSet batch(int[] rows) {
            return Batches.rows(ds, rows);
        }

        @Override
        public int[] labels() {
            return ds.getLabels().argMax(1).toIntVector();
        }

        @Override
        public int classes() {
            return (int) ds.getLabels().size(1);
        }

        /** SHA-256 of the shapes and every value of the features and labels. */
        @Override
        public String fingerprint() {
            Hashing h = Hashing.sha256().add(Arrays.toString(ds.getFeatures().shape()) + "|" + Arrays.toString(ds.getLabels().shape()));
            for (INDArray a : List.of(ds.getFeatures(), ds.getLabels())) {
                INDArray c = a.isView() || a.ordering() != 'c' ? a.dup('c') : a;
                h.add(c.dataType().toString()).add(c.data().asNio());
            }
            return h.hex();
        }

        @Override
        public long[] exampleShape() {
            long[] s = ds.getFeatures().shape();
            return Arrays.copyOfRange(s, 1, s.length);
        }
    }
}

package org.leukolab.training;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.HexFormat;
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

    /** A stable text that changes when the examples or their preparation change (checkpoint signatures). */
    String fingerprint();

    /** Shape of one example's features (without the batch dimension). */
    long[] exampleShape();

    /** An in-memory data set as batches. */
    static Batches of(DataSet ds) {
        return new InMemory(ds);
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

    static String sha256(String s) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** A {@link DataSet} held in memory. */
    final class InMemory implements Batches {
        private final DataSet ds;

        InMemory(DataSet ds) {
            this.ds = ds;
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

        @Override
        public String fingerprint() {
            return sha256(Arrays.toString(ds.getFeatures().shape()) + "|" + ds.getFeatures().sumNumber() + "|"
                    + ds.getLabels().sumNumber());
        }

        @Override
        public long[] exampleShape() {
            long[] s = ds.getFeatures().shape();
            return Arrays.copyOfRange(s, 1, s.length);
        }
    }
}

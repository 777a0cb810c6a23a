package org.leukolab.models.keras;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.bytedeco.hdf5.Attribute;
import org.bytedeco.hdf5.DataSet;
import org.bytedeco.hdf5.DataSpace;
import org.bytedeco.hdf5.Group;
import org.bytedeco.hdf5.H5File;
import org.bytedeco.hdf5.H5Object;
import org.bytedeco.hdf5.PredType;
import org.bytedeco.hdf5.global.hdf5;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.FloatPointer;
import org.bytedeco.javacpp.PointerPointer;
import org.bytedeco.javacpp.PointerScope;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Reads groups, float datasets and string-array attributes of an HDF5 file through JavaCPP's HDF5
 * bindings. Every call opens the file, works inside a {@link PointerScope} (so each native HDF5 object
 * is closed before the call returns, on the calling thread) and holds one global lock: the HDF5
 * library is not thread-safe, and objects left to the garbage collector get closed on another thread,
 * which corrupts it.
 */
public final class Hdf5Reader {
    private static final Object LOCK = org.deeplearning4j.nn.modelimport.keras.Hdf5Archive.LOCK_OBJECT;

    private final Path path;

    public Hdf5Reader(Path path) {
        if (!Files.isRegularFile(path)) {
            throw new IllegalArgumentException(path + " does not exist");
        }
        this.path = path;
    }

    public Path path() {
        return path;
    }

    private interface Work<T> {
        T run(H5File file);
    }

    private <T> T withFile(Work<T> work) {
        synchronized (LOCK) {
            try (PointerScope scope = new PointerScope()) {
                H5File f = new H5File(path.toString(), hdf5.H5F_ACC_RDONLY());
                return work.run(f);
            } catch (RuntimeException e) {
                throw new IllegalArgumentException(path + ": " + e.getMessage(), e);
            }
        }
    }

    private static Group open(H5File f, String... groups) {
        Group g = f;
        for (String name : groups) {
            g = g.openGroup(name);
        }
        return g;
    }

    private static List<String> children(Group g, int type) {
        List<String> out = new ArrayList<>();
        for (long i = 0; i < g.getNumObjs(); i++) {
            BytePointer name = g.getObjnameByIdx(i);
            if (g.childObjType(name) == type) {
                out.add(name.getString(StandardCharsets.UTF_8));
            }
        }
        return out;
    }

    /** Names of the groups inside the given group path (the root if none). */
    public List<String> groups(String... path) {
        return withFile(f -> children(open(f, path), hdf5.H5O_TYPE_GROUP));
    }

    /** Names of the datasets inside the given group path. */
    public List<String> datasets(String... path) {
        return withFile(f -> children(open(f, path), hdf5.H5O_TYPE_DATASET));
    }

    public boolean hasAttribute(String attribute, String... path) {
        return withFile(f -> open(f, path).attrExists(attribute));
    }

    /** A numeric dataset of any rank (0 included) as a float array with its shape. */
    public INDArray readFloat(String dataset, String... path) {
        return withFile(f -> {
            DataSet ds = open(f, path).openDataSet(dataset);
            long[] dims = dims(ds);
            FloatPointer buf = new FloatPointer(count(dims, dataset));
            ds.read(buf, new org.bytedeco.hdf5.DataType(PredType.NATIVE_FLOAT()));
            float[] values = new float[(int) buf.capacity()];
            buf.get(values);
            return dims.length == 0 ? Nd4j.scalar(values[0]) : Nd4j.create(values, dims, 'c');
        });
    }

    /** A numeric dataset as a float64 array with its shape (for references computed in double precision). */
    public INDArray readDouble(String dataset, String... path) {
        return withFile(f -> {
            DataSet ds = open(f, path).openDataSet(dataset);
            long[] dims = dims(ds);
            org.bytedeco.javacpp.DoublePointer buf = new org.bytedeco.javacpp.DoublePointer(count(dims, dataset));
            ds.read(buf, new org.bytedeco.hdf5.DataType(PredType.NATIVE_DOUBLE()));
            double[] values = new double[(int) buf.capacity()];
            buf.get(values);
            return dims.length == 0 ? Nd4j.scalar(values[0]) : Nd4j.create(values, dims, 'c');
        });
    }

    private static long[] dims(DataSet ds) {
        DataSpace space = ds.getSpace();
        long[] dims = new long[space.getSimpleExtentNdims()];
        if (dims.length > 0) {
            space.getSimpleExtentDims(dims);
        }
        return dims;
    }

    private static long count(long[] dims, String dataset) {
        long n = 1;
        for (long d : dims) {
            n *= d;
        }
        if (n > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("dataset " + dataset + " is too large (" + n + " values)");
        }
        return n;
    }

    /** A string-array attribute (fixed-length, as numpy byte strings, or variable-length, as Python str). */
    public List<String> stringArrayAttribute(String attribute, String... path) {
        return withFile(f -> {
            H5Object owner = open(f, path);
            if (!owner.attrExists(attribute)) {
                return List.<String>of();
            }
            Attribute attr = owner.openAttribute(attribute);
            org.bytedeco.hdf5.DataType type = attr.getDataType();
            DataSpace space = attr.getSpace();
            int n = (int) space.getSimpleExtentNpoints();
            List<String> out = new ArrayList<>(n);
            if (type.isVariableStr()) {
                PointerPointer<BytePointer> ptrs = new PointerPointer<>(n);
                check(hdf5.H5Aread(attr.getId(), type.getId(), ptrs), attribute);
                for (int i = 0; i < n; i++) {
                    out.add(ptrs.get(BytePointer.class, i).getString(StandardCharsets.UTF_8));
                }
                hdf5.H5Treclaim(type.getId(), space.getId(), hdf5.H5P_DEFAULT(), ptrs);
                return out;
            }
            // the C API: the C++ wrapper's read returns only the first element of a fixed-length array
            int size = (int) type.getSize();
            BytePointer buf = new BytePointer((long) size * n);
            check(hdf5.H5Aread(attr.getId(), type.getId(), buf), attribute);
            byte[] all = new byte[size * n];
            buf.get(all);
            for (int i = 0; i < n; i++) {
                int len = 0;
                while (len < size && all[i * size + len] != 0) {
                    len++;
                }
                out.add(new String(all, i * size, len, StandardCharsets.UTF_8));
            }
            return out;
        });
    }

    private static void check(int rc, String attribute) {
        if (rc < 0) {
            throw new IllegalStateException("cannot read attribute " + attribute);
        }
    }
}

package org.leukolab.data;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.nd4j.linalg.api.buffer.DataBuffer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * numpy's {@code .npy} format, read in Java: the header is parsed and checked before a byte of the data is allocated,
 * and the data is copied into an ND4J array by this class (ND4J's own npy reader is native code that trusts the
 * header: an object array or a header claiming more data than the file holds crashed the JVM or exhausted memory).
 *
 * <p>Accepted: numeric and boolean arrays ({@code b1}, {@code i1..i8}, {@code u1..u8}, {@code f2}, {@code f4},
 * {@code f8}), either byte order, C or Fortran order, any shape (a zero in it makes an empty array). Refused with a
 * {@link DatasetException.Layout} that names the file, the array and what to do: object arrays (numpy writes them as
 * pickles; a reader must never unpickle), structured, string, complex and date dtypes, a header that is not numpy's,
 * and a shape whose size does not match the bytes that follow the header.
 */
public final class Npy {
    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final Pattern DESCR = Pattern.compile("'descr'\\s*:\\s*('([^']*)'|\\[)");
    private static final Pattern FORTRAN = Pattern.compile("'fortran_order'\\s*:\\s*(True|False)");
    private static final Pattern SHAPE = Pattern.compile("'shape'\\s*:\\s*\\(([^)]*)\\)");
    /** The most header bytes numpy writes for ordinary arrays is a few hundred; anything far larger is not a header. */
    private static final int MAX_HEADER = 1 << 16;

    private Npy() {}

    /** A parsed npy header: element type, byte order, memory order and shape; where the data starts. */
    public record Header(String descr, DataType type, int itemSize, ByteOrder byteOrder, boolean fortranOrder, long[] shape,
                         int dataOffset) {
        /** Elements, or -1 if the product overflows a long. */
        public long elements() {
            long n = 1;
            for (long s : shape) {
                try {
                    n = Math.multiplyExact(n, s);
                } catch (ArithmeticException e) {
                    return -1;
                }
            }
            return n;
        }

        /** Bytes of data the shape and item size call for, or -1 if that overflows a long. */
        public long dataBytes() {
            long n = elements();
            if (n < 0) {
                return -1;
            }
            try {
                return Math.multiplyExact(n, itemSize);
            } catch (ArithmeticException e) {
                return -1;
            }
        }

        @Override
        public String toString() {
            return descr + " " + Arrays.toString(shape) + (fortranOrder ? " (Fortran order)" : "");
        }
    }

    /** numpy type letters and sizes accepted, with the ND4J type each becomes. */
    private static final Map<String, DataType> TYPES = Map.ofEntries(
            Map.entry("b1", DataType.BOOL), Map.entry("i1", DataType.INT8), Map.entry("i2", DataType.INT16),
            Map.entry("i4", DataType.INT32), Map.entry("i8", DataType.INT64), Map.entry("u1", DataType.UINT8),
            Map.entry("u2", DataType.UINT16), Map.entry("u4", DataType.UINT32), Map.entry("u8", DataType.UINT64),
            Map.entry("f2", DataType.HALF), Map.entry("f4", DataType.FLOAT), Map.entry("f8", DataType.DOUBLE));

    /**
     * Parses and checks a header from the start of {@code in} (which is left at the first data byte). {@code what} names
     * the array in messages (e.g. {@code bloodmnist.npz: train_labels.npy}).
     */
    public static Header header(InputStream in, String what) throws IOException {
        byte[] pre = in.readNBytes(8);
        if (pre.length < 8 || !Arrays.equals(Arrays.copyOf(pre, 6), MAGIC)) {
            throw new DatasetException.Layout(what + " is not a numpy array (.npy): it does not start with numpy's magic bytes"
                    + " \\x93NUMPY. Save arrays with numpy.save or numpy.savez.");
        }
        int major = pre[6] & 0xFF;
        int headerLen;
        int offset;
        if (major == 1) {
            byte[] l = in.readNBytes(2);
            if (l.length < 2) {
                throw truncated(what);
            }
            headerLen = (l[0] & 0xFF) | (l[1] & 0xFF) << 8;
            offset = 10;
        } else if (major == 2 || major == 3) {
            byte[] l = in.readNBytes(4);
            if (l.length < 4) {
                throw truncated(what);
            }
            long len = (l[0] & 0xFFL) | (l[1] & 0xFFL) << 8 | (l[2] & 0xFFL) << 16 | (l[3] & 0xFFL) << 24;
            if (len > MAX_HEADER) {
                throw new DatasetException.Layout(what + ": its header claims " + len + " bytes, far more than numpy writes; the "
                        + "file is damaged or not a numpy array.");
            }
            headerLen = (int) len;
            offset = 12;
        } else {
            throw new DatasetException.Layout(what + ": numpy format version " + major + "." + (pre[7] & 0xFF)
                    + " is not one this reader knows (1.0, 2.0, 3.0).");
        }
        byte[] h = in.readNBytes(headerLen);
        if (h.length < headerLen) {
            throw truncated(what);
        }
        String text = new String(h, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1).trim();
        return parse(text, what, offset + headerLen);
    }

    static Header parse(String text, String what, int dataOffset) {
        Matcher d = DESCR.matcher(text);
        Matcher f = FORTRAN.matcher(text);
        Matcher s = SHAPE.matcher(text);
        if (!text.startsWith("{") || !d.find() || !f.find() || !s.find()) {
            throw new DatasetException.Layout(what + ": the numpy header is not readable ('" + abbreviate(text)
                    + "'); the file is damaged or not written by numpy.");
        }
        if (d.group(2) == null) {
            throw new DatasetException.Layout(what + " has a structured dtype (a record of named fields), not plain numbers; "
                    + "save each field as its own array.");
        }
        String descr = d.group(2);
        if (descr.length() < 2) {
            throw new DatasetException.Layout(what + ": dtype '" + descr + "' is not a numpy type.");
        }
        char order = descr.charAt(0);
        String kind = descr.substring(1);
        if (kind.startsWith("O")) {
            throw new DatasetException.Layout(what + " is an object array (dtype '" + descr + "'): numpy stores those as Python "
                    + "pickles, which this reader never runs. Save the labels as integers, e.g. "
                    + "numpy.asarray(labels, dtype=numpy.int64), and the images as uint8.");
        }
        DataType type = TYPES.get(kind);
        if (type == null) {
            throw new DatasetException.Layout(what + " has dtype '" + descr + "' (" + kindName(kind.charAt(0)) + "); only numbers "
                    + "and booleans are read (integer, unsigned integer, float, bool). Convert it with numpy's astype first.");
        }
        ByteOrder bo = order == '>' ? ByteOrder.BIG_ENDIAN : ByteOrder.LITTLE_ENDIAN;
        if (order != '<' && order != '>' && order != '|' && order != '=') {
            throw new DatasetException.Layout(what + ": dtype '" + descr + "' has an unknown byte-order mark '" + order + "'.");
        }
        List<Long> dims = new ArrayList<>();
        for (String part : s.group(1).split(",")) {
            String p = part.trim().replaceAll("L$", "");
            if (p.isEmpty()) {
                continue;
            }
            long v;
            try {
                v = Long.parseLong(p);
            } catch (NumberFormatException e) {
                throw new DatasetException.Layout(what + ": the shape (" + s.group(1) + ") is not a list of whole numbers.");
            }
            if (v < 0) {
                throw new DatasetException.Layout(what + ": the shape (" + s.group(1) + ") has a negative size.");
            }
            dims.add(v);
        }
        int itemSize = Integer.parseInt(kind.substring(1));
        return new Header(descr, type, itemSize, bo, f.group(1).equals("True"), dims.stream().mapToLong(Long::longValue).toArray(),
                dataOffset);
    }

    /**
     * Reads one array whose header has been read from {@code in}; {@code available} is the number of data bytes the
     * file (or zip entry) holds after the header, when known (-1 otherwise). The size is checked against it before the
     * data is allocated.
     */
    public static INDArray data(InputStream in, Header h, long available, String what) throws IOException {
        long need = h.dataBytes();
        if (need < 0 || h.elements() > Integer.MAX_VALUE || need > Integer.MAX_VALUE - 16) {
            throw new DatasetException.Layout(what + ": its header claims shape " + Arrays.toString(h.shape()) + " of " + h.descr()
                    + (need < 0 ? " (more bytes than a long counts)" : ", " + bytes(need))
                    + (available >= 0 ? ", but the file holds " + bytes(available) + " of data" : "")
                    + ". The array is larger than the file (or than one Java array can hold): the file is damaged "
                    + "or not what it claims; fetch it again.");
        }
        if (available >= 0 && available != need) {
            throw new DatasetException.Layout(what + ": its header claims shape " + Arrays.toString(h.shape()) + " of "
                    + h.descr() + " (" + bytes(need) + ") but the file holds " + bytes(available) + " of data. The array is "
                    + (need > available ? "larger than the file (truncated or damaged)" : "smaller than the file (damaged)")
                    + ": fetch it again.");
        }
        // read straight into the native-order buffer ND4J takes (no second copy of a large image array)
        ByteBuffer bb = ByteBuffer.allocateDirect((int) Math.max(need, 1)).order(ByteOrder.nativeOrder());
        bb.limit((int) need);
        java.nio.channels.ReadableByteChannel ch = java.nio.channels.Channels.newChannel(in);
        while (bb.hasRemaining() && ch.read(bb) >= 0) {
            // keep reading
        }
        if (bb.hasRemaining()) {
            throw new DatasetException.Layout(what + ": its header claims " + bytes(need) + " of data but the file ends after "
                    + bytes(bb.position()) + ". The array is larger than the file (truncated): fetch it again.");
        }
        if (available < 0 && in.read() != -1) {
            throw new DatasetException.Layout(what + ": more data follows the " + bytes(need) + " its header claims ("
                    + h + "); the file is damaged: fetch it again.");
        }
        bb.flip();
        return toArray(bb, h);
    }

    private static INDArray toArray(ByteBuffer bb, Header h) {
        long[] shape = h.shape();
        if (h.elements() == 0) {
            return Nd4j.create(h.type(), shape);
        }
        int k = h.itemSize();
        if (h.byteOrder() != ByteOrder.nativeOrder() && k > 1) {
            for (int i = 0; i < bb.limit(); i += k) {
                for (int a = i, b = i + k - 1; a < b; a++, b--) {
                    byte t = bb.get(a);
                    bb.put(a, bb.get(b));
                    bb.put(b, t);
                }
            }
        }
        DataBuffer buf;
        if (h.type() == DataType.BOOL) { // ND4J's byte-buffer path misreads booleans; its boolean[] path does not
            boolean[] v = new boolean[bb.limit()];
            for (int i = 0; i < v.length; i++) {
                v[i] = bb.get(i) != 0;
            }
            buf = Nd4j.createFromArray(v).data();
        } else {
            buf = Nd4j.createBuffer(bb, h.type(), (int) h.elements());
        }
        if (!h.fortranOrder() || shape.length < 2) {
            return Nd4j.create(buf, shape.length == 0 ? new long[0] : shape);
        }
        long[] reversed = new long[shape.length];
        int[] axes = new int[shape.length];
        for (int i = 0; i < shape.length; i++) {
            reversed[i] = shape[shape.length - 1 - i];
            axes[i] = shape.length - 1 - i;
        }
        return Nd4j.create(buf, reversed).permute(axes).dup('c');
    }

    /** Reads a {@code .npy} file. */
    public static INDArray read(Path file) {
        if (!Files.isRegularFile(file)) {
            throw new DatasetException.Missing(file + " does not exist");
        }
        try (InputStream in = new java.io.BufferedInputStream(Files.newInputStream(file))) {
            Header h = header(in, file.toString());
            return data(in, h, Files.size(file) - h.dataOffset(), file.toString());
        } catch (IOException e) {
            throw new DatasetException.Layout(file + " cannot be read (" + e.getMessage() + ")");
        }
    }

    private static DatasetException truncated(String what) {
        return new DatasetException.Layout(what + " ends inside its numpy header: the file is truncated; fetch it again.");
    }

    static String bytes(long n) {
        double v = n;
        String[] units = {"bytes", "KB", "MB", "GB", "TB", "PB", "EB"};
        int u = 0;
        while (v >= 1000 && u < units.length - 1) {
            v /= 1000;
            u++;
        }
        return u == 0 ? String.format(Locale.ROOT, "%,d bytes", n) : String.format(Locale.ROOT, "%.1f %s (%,d bytes)", v, units[u], n);
    }

    private static String kindName(char k) {
        return switch (k) {
            case 'U' -> "unicode strings";
            case 'S', 'a' -> "byte strings";
            case 'c' -> "complex numbers";
            case 'M' -> "dates";
            case 'm' -> "time spans";
            case 'V' -> "raw records";
            default -> "an unsupported kind or size";
        };
    }

    private static String abbreviate(String s) {
        return s.length() <= 120 ? s : s.substring(0, 117) + "...";
    }
}

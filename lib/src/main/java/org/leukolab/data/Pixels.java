package org.leukolab.data;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/**
 * Where the 8-bit RGB pixels of loaded images live: in the Java heap, or in an image cache file read
 * image by image when asked (for sets larger than memory, e.g. report 000's 31,155 balanced images at
 * 350x350, 11.4 GB).
 */
abstract class Pixels {
    abstract int size();

    /** The pixels of image {@code i} (HWC). In memory: shared, do not modify; on disk: a fresh copy. */
    abstract byte[] get(int i);

    /** The images at {@code positions}, in that order, without copying pixels. */
    abstract Pixels select(int[] positions);

    abstract boolean onDisk();

    static Pixels inMemory(List<byte[]> images) {
        return new InMemory(List.copyOf(images));
    }

    /** Images {@code slots[i]} of a file holding equal-sized images one after another from {@code dataOffset}. */
    static Pixels onDisk(Path file, long dataOffset, int imageBytes, int[] slots) throws IOException {
        return new OnDisk(new Source(file, FileChannel.open(file, StandardOpenOption.READ), dataOffset, imageBytes), slots);
    }

    private static final class InMemory extends Pixels {
        private final List<byte[]> images;

        InMemory(List<byte[]> images) {
            this.images = images;
        }

        @Override
        int size() {
            return images.size();
        }

        @Override
        byte[] get(int i) {
            return images.get(i);
        }

        @Override
        Pixels select(int[] positions) {
            byte[][] out = new byte[positions.length][];
            for (int k = 0; k < positions.length; k++) {
                out[k] = images.get(positions[k]);
            }
            return new InMemory(List.of(out));
        }

        @Override
        boolean onDisk() {
            return false;
        }
    }

    /** One open file shared by every view on it (positional reads are safe from several threads). */
    private record Source(Path file, FileChannel channel, long dataOffset, int imageBytes) {}

    private static final class OnDisk extends Pixels {
        private final Source source;
        private final int[] slots;

        OnDisk(Source source, int[] slots) {
            this.source = source;
            this.slots = slots;
        }

        @Override
        int size() {
            return slots.length;
        }

        @Override
        byte[] get(int i) {
            byte[] b = new byte[source.imageBytes()];
            ByteBuffer buf = ByteBuffer.wrap(b);
            long pos = source.dataOffset() + (long) slots[i] * source.imageBytes();
            try {
                while (buf.hasRemaining()) {
                    int n = source.channel().read(buf, pos + buf.position());
                    if (n < 0) {
                        throw new IOException("unexpected end of file");
                    }
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read image " + slots[i] + " from the image cache " + source.file()
                        + " (" + e.getMessage() + "); delete the file and load again", e);
            }
            return b;
        }

        @Override
        Pixels select(int[] positions) {
            int[] s = new int[positions.length];
            for (int k = 0; k < positions.length; k++) {
                s[k] = slots[positions[k]];
            }
            return new OnDisk(source, s);
        }

        @Override
        boolean onDisk() {
            return true;
        }
    }
}

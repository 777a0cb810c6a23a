package org.leukolab.data;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.ArrayList;
import java.util.List;
import org.leukolab.system.AtomicFiles;
import org.leukolab.system.Hashing;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * On-disk cache of decoded images: one file per (image list, loader settings), named by a SHA-256 key,
 * written to a temporary file and moved into place atomically, so a crash never leaves a cache file
 * that looks complete. A damaged or foreign file is reported, deleted and rebuilt, never trusted.
 *
 * <p>File layout ({@code v2}): {@code LKIMGv2\n}, the kept images' RGB bytes one after another, a JSON
 * header (size, kept positions, issues), the header's length (4 bytes) and {@code LKEND\n}. The header
 * comes last so images can be written as they are decoded, without holding them all in memory.
 */
final class ImageCache {
    private static final Logger LOG = LoggerFactory.getLogger(ImageCache.class);
    static final byte[] MAGIC = "LKIMGv2\n".getBytes(StandardCharsets.US_ASCII);
    static final byte[] END = "LKEND\n".getBytes(StandardCharsets.US_ASCII);

    private final Path dir;

    ImageCache(Path dir) {
        this.dir = dir;
    }

    /** Key over the loader settings and every record's path, size, modification time, label and split. */
    static String key(String settings, ImageIndex index) {
        Hashing h = Hashing.sha256().add(settings);
        for (ImageRecord r : index.records()) {
            long mtime;
            try {
                mtime = Files.readAttributes(r.backingFile(), BasicFileAttributes.class).lastModifiedTime().toMillis();
            } catch (IOException e) {
                mtime = -1;
            }
            h.add("\n" + r.path() + "|" + r.bytes() + "|" + mtime + "|" + r.label() + "|" + r.split());
        }
        return h.hex();
    }

    Path file(String key) {
        return dir.resolve(key + ".img");
    }

    /**
     * The cached images, or null if absent or unusable (then the caller decodes). With {@code onDisk} the
     * pixels stay in the file and are read when asked for.
     */
    LoadedImages read(String key, ImageIndex index, int h, int w, boolean onDisk) {
        Path f = file(key);
        if (!Files.isRegularFile(f)) {
            return null;
        }
        try {
            Header hd = readHeader(f, index.size(), h, w);
            Pixels px;
            int bytes = h * w * 3;
            if (onDisk) {
                px = Pixels.onDisk(f, MAGIC.length, bytes, java.util.stream.IntStream.range(0, hd.kept.size()).toArray());
            } else {
                List<byte[]> images = new ArrayList<>(hd.kept.size());
                try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
                    long pos = MAGIC.length;
                    for (int k = 0; k < hd.kept.size(); k++) {
                        byte[] b = new byte[bytes];
                        readFully(ch, ByteBuffer.wrap(b), pos);
                        pos += bytes;
                        images.add(b);
                    }
                }
                px = Pixels.inMemory(images);
            }
            return LoadedImages.of(index, hd.kept, px, h, w, hd.issues, true);
        } catch (IOException | RuntimeException e) {
            LOG.warn("image cache {} is unusable ({}); deleting it and decoding again", f, e.getMessage());
            try {
                Files.deleteIfExists(f);
            } catch (IOException ignored) {
                // the rebuilt file will replace it atomically anyway
            }
            return null;
        }
    }

    private record Header(List<Integer> kept, DataIssues issues) {}

    private static Header readHeader(Path f, int count, int h, int w) throws IOException {
        try (FileChannel ch = FileChannel.open(f, StandardOpenOption.READ)) {
            long size = ch.size();
            if (size < MAGIC.length + 4 + END.length) {
                throw new IOException("too short (" + size + " bytes)");
            }
            ByteBuffer magic = ByteBuffer.allocate(MAGIC.length);
            readFully(ch, magic, 0);
            if (!java.util.Arrays.equals(magic.array(), MAGIC)) {
                throw new IOException("not a leukolab v2 image cache file");
            }
            ByteBuffer tail = ByteBuffer.allocate(4 + END.length);
            readFully(ch, tail, size - tail.capacity());
            byte[] end = java.util.Arrays.copyOfRange(tail.array(), 4, tail.capacity());
            if (!java.util.Arrays.equals(end, END)) {
                throw new IOException("incomplete (no end marker)");
            }
            int hlen = tail.getInt(0);
            if (hlen <= 0 || hlen > 256 << 20 || hlen > size) {
                throw new IOException("bad header length " + hlen);
            }
            ByteBuffer hb = ByteBuffer.allocate(hlen);
            readFully(ch, hb, size - tail.capacity() - hlen);
            JsonObject header = new Gson().fromJson(new String(hb.array(), StandardCharsets.UTF_8), JsonObject.class);
            if (header.get("height").getAsInt() != h || header.get("width").getAsInt() != w
                    || header.get("count").getAsInt() != count) {
                throw new IOException("header does not match the request");
            }
            List<Integer> kept = new ArrayList<>();
            header.getAsJsonArray("kept").forEach(e -> kept.add(e.getAsInt()));
            long expected = MAGIC.length + (long) kept.size() * h * w * 3 + hlen + 4 + END.length;
            if (size != expected) {
                throw new IOException("size " + size + " bytes, expected " + expected);
            }
            DataIssues issues = new DataIssues(null);
            for (JsonElement e : header.getAsJsonArray("issues")) {
                JsonObject o = e.getAsJsonObject();
                issues.add(new DataIssue(Paths.get(o.get("file").getAsString()),
                        DataIssue.Kind.valueOf(o.get("kind").getAsString()),
                        o.get("detail").getAsString(), o.get("action").getAsString()));
            }
            return new Header(kept, issues);
        }
    }

    private static void readFully(FileChannel ch, ByteBuffer buf, long pos) throws IOException {
        while (buf.hasRemaining()) {
            if (ch.read(buf, pos + buf.position()) < 0) {
                throw new IOException("unexpected end of file");
            }
        }
    }

    /** A cache file being written, image by image; {@link #commit} moves it into place. */
    final class Writer implements AutoCloseable {
        private final String key;
        private final Path tmp;
        private final OutputStream out;
        private boolean done;

        Writer(String key) throws IOException {
            this.key = key;
            Files.createDirectories(dir);
            this.tmp = Files.createTempFile(dir, key + ".", ".tmp");
            this.out = new BufferedOutputStream(Files.newOutputStream(tmp), 1 << 20);
            out.write(MAGIC);
        }

        void append(byte[] pixels) throws IOException {
            out.write(pixels);
        }

        /** Writes the header, syncs and moves the file into place; returns where it is. */
        Path commit(String indexName, int h, int w, int count, List<Integer> kept, DataIssues issues) throws IOException {
            JsonObject header = new JsonObject();
            header.addProperty("index", indexName);
            header.addProperty("height", h);
            header.addProperty("width", w);
            header.addProperty("count", count);
            JsonArray k = new JsonArray();
            kept.forEach(k::add);
            header.add("kept", k);
            JsonArray is = new JsonArray();
            for (DataIssue i : issues.all()) {
                JsonObject o = new JsonObject();
                o.addProperty("file", i.file().toString());
                o.addProperty("kind", i.kind().name());
                o.addProperty("detail", i.detail());
                o.addProperty("action", i.action());
                is.add(o);
            }
            header.add("issues", is);
            byte[] hb = header.toString().getBytes(StandardCharsets.UTF_8);
            out.write(hb);
            out.write(ByteBuffer.allocate(4).putInt(hb.length).array());
            out.write(END);
            out.close();
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            Path target = file(key);
            AtomicFiles.move(tmp, target);
            done = true;
            return target;
        }

        /** Without a commit: the temporary file is removed. */
        @Override
        public void close() {
            if (done) {
                return;
            }
            try {
                out.close();
            } catch (IOException ignored) {
                // being discarded anyway
            }
            try {
                Files.deleteIfExists(tmp);
            } catch (IOException e) {
                LOG.warn("could not remove the temporary cache file {}: {}", tmp, e.getMessage());
            }
        }
    }

    Writer writer(String key) throws IOException {
        return new Writer(key);
    }
}

package org.leukolab.data;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * On-disk cache of decoded images: one file per (image list, loader settings), named by a SHA-256 key,
 * written to a temporary file and moved into place atomically, so a crash never leaves a cache file
 * that looks complete. A damaged or foreign file is reported, deleted and rebuilt, never trusted.
 *
 * <p>File layout: {@code LKIMGv1\n}, a 4-byte header length, a JSON header (size, kept positions,
 * issues), then the kept images' RGB bytes one after another.
 */
final class ImageCache {
    private static final Logger LOG = LoggerFactory.getLogger(ImageCache.class);
    private static final byte[] MAGIC = "LKIMGv1\n".getBytes(StandardCharsets.US_ASCII);

    private final Path dir;

    ImageCache(Path dir) {
        this.dir = dir;
    }

    /** Key over the loader settings and every record's path, size, modification time, label and split. */
    static String key(String settings, ImageIndex index) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(settings.getBytes(StandardCharsets.UTF_8));
            for (ImageRecord r : index.records()) {
                long mtime;
                try {
                    mtime = Files.readAttributes(r.path(), BasicFileAttributes.class).lastModifiedTime().toMillis();
                } catch (IOException e) {
                    mtime = -1;
                }
                md.update(("\n" + r.path() + "|" + r.bytes() + "|" + mtime + "|" + r.label() + "|" + r.split())
                        .getBytes(StandardCharsets.UTF_8));
            }
            return HexFormat.of().formatHex(md.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    Path file(String key) {
        return dir.resolve(key + ".img");
    }

    /** The cached images, or null if absent or unusable (then the caller decodes). */
    LoadedImages read(String key, ImageIndex index, int h, int w) {
        Path f = file(key);
        if (!Files.isRegularFile(f)) {
            return null;
        }
        try (InputStream raw = Files.newInputStream(f);
             DataInputStream in = new DataInputStream(new BufferedInputStream(raw, 1 << 20))) {
            byte[] magic = in.readNBytes(MAGIC.length);
            if (!java.util.Arrays.equals(magic, MAGIC)) {
                throw new IOException("not a leukolab image cache file");
            }
            int hlen = in.readInt();
            if (hlen <= 0 || hlen > 256 << 20) {
                throw new IOException("bad header length " + hlen);
            }
            JsonObject header = new Gson().fromJson(new String(in.readNBytes(hlen), StandardCharsets.UTF_8), JsonObject.class);
            if (header.get("height").getAsInt() != h || header.get("width").getAsInt() != w
                    || header.get("count").getAsInt() != index.size()) {
                throw new IOException("header does not match the request");
            }
            List<Integer> kept = new ArrayList<>();
            header.getAsJsonArray("kept").forEach(e -> kept.add(e.getAsInt()));
            long expected = MAGIC.length + 4L + hlen + (long) kept.size() * h * w * 3;
            if (Files.size(f) != expected) {
                throw new IOException("size " + Files.size(f) + " bytes, expected " + expected);
            }
            byte[][] pixels = new byte[index.size()][];
            for (int k : kept) {
                pixels[k] = in.readNBytes(h * w * 3);
            }
            DataIssues issues = new DataIssues(index.root());
            for (JsonElement e : header.getAsJsonArray("issues")) {
                JsonObject o = e.getAsJsonObject();
                issues.add(new DataIssue(Paths.get(o.get("file").getAsString()),
                        DataIssue.Kind.valueOf(o.get("kind").getAsString()),
                        o.get("detail").getAsString(), o.get("action").getAsString()));
            }
            return LoadedImages.of(index, kept, pixels, h, w, issues, true);
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

    /** Writes atomically; a failure to cache is logged, never fatal. */
    void write(String key, LoadedImages images) {
        Path tmp = null;
        try {
            Files.createDirectories(dir);
            tmp = Files.createTempFile(dir, key + ".", ".tmp");
            JsonObject header = new JsonObject();
            header.addProperty("index", images.index().name());
            header.addProperty("height", images.height());
            header.addProperty("width", images.width());
            header.addProperty("count", images.sourceSize());
            JsonArray kept = new JsonArray();
            images.keptPositions().forEach(kept::add);
            header.add("kept", kept);
            JsonArray issues = new JsonArray();
            for (DataIssue i : images.issues().all()) {
                JsonObject o = new JsonObject();
                o.addProperty("file", i.file().toString());
                o.addProperty("kind", i.kind().name());
                o.addProperty("detail", i.detail());
                o.addProperty("action", i.action());
                issues.add(o);
            }
            header.add("issues", issues);
            byte[] hb = header.toString().getBytes(StandardCharsets.UTF_8);
            try (OutputStream raw = Files.newOutputStream(tmp);
                 DataOutputStream out = new DataOutputStream(new BufferedOutputStream(raw, 1 << 20))) {
                out.write(MAGIC);
                out.writeInt(hb.length);
                out.write(hb);
                for (int i = 0; i < images.size(); i++) {
                    out.write(images.pixels(i));
                }
            }
            try (var ch = java.nio.channels.FileChannel.open(tmp, java.nio.file.StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            Files.move(tmp, file(key), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            tmp = null;
        } catch (IOException | RuntimeException e) {
            LOG.warn("could not write the image cache in {} ({}); the next run will decode again", dir, e.getMessage());
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // nothing more to do
                }
            }
        }
    }
}

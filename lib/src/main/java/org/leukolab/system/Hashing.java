package org.leukolab.system;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * SHA-256 keys for caches, checkpoints and fingerprints: one place that names the algorithm and the text
 * form (lower-case hex), so every key in the workspace is made the same way.
 *
 * <pre>{@code
 * String key = Hashing.sha256("settings|" + n);
 * String k2 = Hashing.sha256().add("settings").add(pixels).hex();
 * }</pre>
 */
public final class Hashing {
    private final MessageDigest md;

    private Hashing() {
        try {
            md = MessageDigest.getInstance("SHA-256");
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("this JVM has no SHA-256", e);
        }
    }

    /** A digest to feed piece by piece. */
    public static Hashing sha256() {
        return new Hashing();
    }

    /** The SHA-256 of a text (UTF-8), as 64 hex digits. */
    public static String sha256(String text) {
        return sha256().add(text).hex();
    }

    public Hashing add(String text) {
        md.update(text.getBytes(StandardCharsets.UTF_8));
        return this;
    }

    public Hashing add(byte[] bytes) {
        md.update(bytes);
        return this;
    }

    /** Adds the remaining bytes of a buffer (direct buffers too: ND4J's data) without moving its position. */
    public Hashing add(ByteBuffer buffer) {
        md.update(buffer.duplicate());
        return this;
    }

    public Hashing add(long value) {
        md.update(ByteBuffer.allocate(8).putLong(value).array());
        return this;
    }

    /** The digest as 64 hex digits; the object cannot be fed after this. */
    public String hex() {
        return HexFormat.of().formatHex(md.digest());
    }
}

package org.leukolab.system;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;

/**
 * Files written whole or not at all. Every cache, checkpoint, result and figure of the workspace is
 * written through here: the content goes to a temporary file beside the target (same folder, so the
 * rename cannot cross file systems), is flushed to disk, and is then renamed over the target in one step.
 * A reader sees the old file or the new one, never half of one; a write that fails (disk full, an
 * exception in the writer) deletes its temporary file and leaves the target as it was.
 */
public final class AtomicFiles {
    private AtomicFiles() {}

    /** Something that writes a file's content; may throw. */
    @FunctionalInterface
    public interface Writer {
        void write(OutputStream out) throws IOException;
    }

    /** Something that writes a complete file at the path it is given (for libraries that only take paths). */
    @FunctionalInterface
    public interface PathWriter {
        void write(Path temporary) throws IOException;
    }

    public static Path write(Path target, byte[] content) {
        return write(target, out -> out.write(content));
    }

    public static Path writeString(Path target, String content) {
        return write(target, content.getBytes(StandardCharsets.UTF_8));
    }

    /** Streams the content into a temporary file, then renames it to {@code target}. */
    public static Path write(Path target, Writer writer) {
        return writeWith(target, tmp -> {
            try (OutputStream out = new java.io.BufferedOutputStream(Files.newOutputStream(tmp, StandardOpenOption.WRITE,
                    StandardOpenOption.TRUNCATE_EXISTING), 1 << 16)) {
                writer.write(out);
            }
        });
    }

    /**
     * Lets {@code writer} create the file at a temporary path (e.g. DL4J's {@code ModelSerializer}, which
     * takes a file), then renames it to {@code target}.
     */
    public static Path writeWith(Path target, PathWriter writer) {
        Path abs = target.toAbsolutePath();
        Path tmp = null;
        try {
            Files.createDirectories(abs.getParent());
            // not createTempFile, whose files are private (0600): the written file keeps the usual permissions
            tmp = Files.createFile(abs.resolveSibling("." + abs.getFileName() + "." + ProcessHandle.current().pid() + "."
                    + System.nanoTime() + ".tmp"));
            writer.write(tmp);
            try (FileChannel ch = FileChannel.open(tmp, StandardOpenOption.WRITE)) {
                ch.force(true);
            }
            move(tmp, abs);
            tmp = null;
            return abs;
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write " + abs + ": " + e.getMessage()
                    + (isDiskFull(e) ? " (the disk is full: free some space and run again)" : ""), e);
        } finally {
            if (tmp != null) {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // nothing more can be done; the name starts with '.' and ends with .tmp
                }
            }
        }
    }

    /**
     * Renames a finished file or folder onto {@code target} in one step (replacing a file; a folder target
     * must not exist).
     */
    public static void move(Path from, Path target) throws IOException {
        try {
            Files.move(from, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            throw new IOException("the file system of " + target.getParent() + " cannot rename atomically", e);
        }
    }

    private static boolean isDiskFull(Throwable e) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t.getMessage() != null && t.getMessage().contains("No space left")) {
                return true;
            }
        }
        return false;
    }
}

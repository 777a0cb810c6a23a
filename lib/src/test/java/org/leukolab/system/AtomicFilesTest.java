package org.leukolab.system;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AtomicFilesTest {
    @TempDir
    Path dir;

    @Test
    void aFailedWriteKeepsTheOldFileAndLeavesNoTemporaryFile() throws Exception {
        Path f = AtomicFiles.writeString(dir.resolve("a/state.json"), "old");
        UncheckedIOException e = assertThrows(UncheckedIOException.class, () -> AtomicFiles.write(f, out -> {
            out.write("new, half written".getBytes());
            throw new IOException("No space left on device");
        }));
        assertTrue(e.getMessage().contains(f.toString()) && e.getMessage().contains("disk is full"), e.getMessage());
        assertEquals("old", Files.readString(f));
        try (var s = Files.list(f.getParent())) {
            assertEquals(1, s.count(), "only state.json: the temporary file is gone");
        }
    }

    @Test
    void writeWithHandsThePathToLibrariesThatOnlyTakeFiles() throws Exception {
        Path f = AtomicFiles.writeWith(dir.resolve("b.bin"), tmp -> Files.write(tmp, new byte[] {1, 2, 3}));
        assertEquals(3, Files.size(f));
        assertThrows(UncheckedIOException.class, () -> AtomicFiles.writeWith(f, tmp -> {
            throw new IOException("boom");
        }));
        assertEquals(3, Files.size(f));
    }

    @Test
    void hashingIsSha256() {
        assertEquals("ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad", Hashing.sha256("abc"));
        assertEquals(Hashing.sha256("abc"), Hashing.sha256().add("a").add("bc").hex());
    }
}

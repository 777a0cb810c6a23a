package org.leukolab.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import org.junit.jupiter.api.Test;

class NativeMemoryTest {
    private static final long MIB = 1L << 20;

    /** This process's resident memory in bytes (Linux). */
    private static long resident() throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
            if (line.startsWith("VmRSS:")) {
                return Long.parseLong(line.replaceAll("\\D", "")) * 1024;
            }
        }
        throw new IllegalStateException("no VmRSS in /proc/self/status");
    }

    /** Allocates {@code bytes} with the C library's malloc, writes every page, frees it; returns the resident memory it kept. */
    private static long keptAfterFree(long bytes) throws Exception {
        long before = resident();
        long peer = Native.malloc(bytes);
        assertTrue(peer != 0, "malloc failed");
        new Pointer(peer).setMemory(0, bytes, (byte) 1);
        long touched = resident();
        assertTrue(touched - before > bytes / 2, "the written block should be resident: " + (touched - before) / MIB + " MiB");
        Native.free(peer);
        return resident() - before;
    }

    /** Whether the C library is glibc (another one, musl for instance, has no {@code mallopt}). */
    private static boolean glibc() {
        try {
            com.sun.jna.Function.getFunction("c", "gnu_get_libc_version");
            return true;
        } catch (UnsatisfiedLinkError e) {
            return false;
        }
    }

    @Test
    void largeFreedBlocksGoBackToTheSystem() throws Exception {
        assumeTrue(System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux") && glibc(), "glibc only");
        assumeTrue(!"default".equalsIgnoreCase(System.getenv(NativeMemory.ENV)), NativeMemory.ENV + "=default");
        assertTrue(NativeMemory.returnLargeBlocksOnFree(), "mallopt should be in force on Linux with glibc");
        assertEquals(true, NativeMemory.returnLargeBlocksOnFree(), "a second call gives the first answer");
        // With glibc's default, freeing the 24 MiB block raises the threshold above 20 MiB: the second block then comes
        // from the allocator's heap and stays resident after its free (checked with LEUKOLAB_MALLOC=default: the
        // assertion below fails, about 20 MiB kept).
        keptAfterFree(24 * MIB);
        long kept = keptAfterFree(20 * MIB);
        assertTrue(kept < 6 * MIB, "a freed 20 MiB block should leave the process, kept " + kept / MIB + " MiB");
    }
}

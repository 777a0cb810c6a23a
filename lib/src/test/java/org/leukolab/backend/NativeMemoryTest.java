package org.leukolab.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.sun.jna.Native;
import com.sun.jna.Pointer;
import java.util.Locale;
import org.junit.jupiter.api.Test;

class NativeMemoryTest {
    private static final long MIB = 1L << 20;

    private static final long PAGE = 4096;
    private static final int ENOMEM = 12;

    /**
     * How many bytes of {@code [peer, peer + bytes)} are resident, asked of the kernel page by page ({@code mincore}); 0
     * once the range is no longer mapped. Not the process's VmRSS: since Linux 6.2 that is a per-CPU counter read without
     * summing, which can lag by tens of MiB on a host with many CPUs (seen in CI: a freshly written 24 MiB block showed
     * as 0 MiB).
     */
    private static long residentIn(long peer, long bytes) {
        long first = peer & -PAGE;
        long pages = (peer + bytes - first + PAGE - 1) / PAGE;
        byte[] vector = new byte[(int) pages];
        int status = com.sun.jna.Function.getFunction("c", "mincore")
                .invokeInt(new Object[] {new Pointer(first), pages * PAGE, vector});
        if (status != 0) {
            assertEquals(ENOMEM, Native.getLastError(), "mincore failed for another reason than an unmapped range");
            return 0;
        }
        long resident = 0;
        for (byte page : vector) {
            resident += page & 1;
        }
        return resident * PAGE;
    }

    /** Allocates {@code bytes} with the C library's malloc, writes every page, frees it; returns how much of it stays resident. */
    private static long keptAfterFree(long bytes) {
        long peer = Native.malloc(bytes);
        assertTrue(peer != 0, "malloc failed");
        new Pointer(peer).setMemory(0, bytes, (byte) 1);
        long written = residentIn(peer, bytes);
        assertTrue(written >= bytes, "the written block should be resident: " + written / MIB + " MiB");
        Native.free(peer);
        return residentIn(peer, bytes);
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
    void largeFreedBlocksGoBackToTheSystem() {
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

package org.leukolab.backend;

import java.util.Locale;

/**
 * Gives freed native memory back to the operating system. ND4J's arrays and DL4J's workspaces live outside the Java
 * heap, in memory from the C library's allocator; when they are freed, glibc keeps most of it for later allocations,
 * so the process stays as large as its largest moment. After {@link OneDnnLayers}' check (copies of the network in
 * float32 and float64, gone once it is done) that is about a gigabyte that training does not need: glibc's
 * {@code malloc_trim} returns it. Elsewhere (another C library, no JNA) this does nothing.
 */
public final class NativeMemory {
    private static volatile boolean available = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux");

    private NativeMemory() {}

    /** Calls glibc's {@code malloc_trim(0)}; true if memory was given back, false if none was or it is not available. */
    public static boolean trim() {
        if (!available) {
            return false;
        }
        try {
            return com.sun.jna.Function.getFunction("c", "malloc_trim").invokeInt(new Object[] {0L}) == 1;
        } catch (Throwable e) { // UnsatisfiedLinkError (not glibc), NoClassDefFoundError (no JNA): give up for good
            available = false;
            return false;
        }
    }
}

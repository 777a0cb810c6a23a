package org.leukolab.backend;

import java.util.Locale;

/**
 * Gives freed native memory back to the operating system. ND4J's arrays and DL4J's workspaces live outside the Java
 * heap, in memory from the C library's allocator; when they are freed, glibc keeps most of it for later allocations,
 * so the process stays as large as its largest moment. After {@link OneDnnLayers}' check (copies of the network in
 * float32 and float64, gone once it is done) that is about a gigabyte that training does not need: glibc's
 * {@code malloc_trim} returns it ({@link #trim}). Elsewhere (another C library, no JNA) this does nothing.
 *
 * <p>{@link #returnLargeBlocksOnFree} keeps it from piling up in the first place. glibc serves a block of at least its
 * "mmap threshold" with a mapping of its own, returned to the system on free; but the threshold starts at 128 KiB and
 * rises (up to 32 MiB) to the size of every such block freed, so once DL4J has freed its first large arrays the later
 * ones come from the allocator's heap and stay there. DL4J's first training step is where that hurts: its workspaces
 * are still learning their size, so every activation is allocated and freed separately, and the workspaces are then
 * allocated on top of what glibc kept. EfficientNetB0 fine-tuning at 224x224 (batch 32): the first step peaked at
 * 3.8 GB resident with glibc's default and at 2.3 GB with a fixed 1 MiB threshold; the process's peak is now the check's,
 * 2.7 GB ({@code docs/speed-depthwise.md}, round 3, third changes).
 *
 * <p>The threshold alone is not enough when large blocks were freed before it was fixed: glibc then also raised its
 * "trim threshold" (to twice the mmap threshold, up to 64 MiB), the heap's free top is kept below that, and a later
 * large block that fits in the top is served from it, not from a mapping of its own, and stays after its free (seen in
 * CI: a freed 20 MiB block kept resident). So the trim threshold is fixed too, at {@value #TRIM} bytes (glibc's own
 * ratio), and what the heap already kept is returned once ({@link #trim}). One case stays: a large free chunk inside the
 * heap (freed before the call, with something still allocated above it) is reused by glibc for a later block that fits
 * and kept after that block's free; only a later {@link #trim} returns it (the inference check calls it when done).
 */
public final class NativeMemory {
    /** glibc's {@code M_MMAP_THRESHOLD} parameter of {@code mallopt}. */
    private static final int M_MMAP_THRESHOLD = -3;
    /** glibc's {@code M_TRIM_THRESHOLD} parameter of {@code mallopt}. */
    private static final int M_TRIM_THRESHOLD = -1;
    /** Blocks of at least this many bytes get their own mapping ({@value}: 1 MiB). */
    public static final long LARGE_BLOCK = 1L << 20;
    /** Free memory at the top of the heap beyond this many bytes goes back to the system ({@value}: 2 MiB). */
    public static final long TRIM = 2 * LARGE_BLOCK;
    /** Set to {@code default} to leave glibc's own threshold (to measure what the fixed one changes). */
    public static final String ENV = "LEUKOLAB_MALLOC";

    private static volatile boolean available = System.getProperty("os.name", "").toLowerCase(Locale.ROOT).contains("linux");
    private static volatile Boolean largeBlocks;

    private NativeMemory() {}

    /** Calls glibc's {@code malloc_trim(0)}; true if memory was given back, false if none was or it is not available. */
    public static boolean trim() {
        return callsOne("malloc_trim", 0L);
    }

    /**
     * Fixes glibc's mmap threshold at {@value #LARGE_BLOCK} bytes and its trim threshold at {@value #TRIM} bytes, then
     * trims once (once per process; later calls return the first answer), so that every freed block that large goes
     * back to the system at once, even after large blocks were freed before this call. True if it is in force; false where
     * it cannot be (not glibc, no JNA) or {@value #ENV}{@code =default} asks for glibc's own behaviour.
     */
    public static boolean returnLargeBlocksOnFree() {
        Boolean done = largeBlocks;
        if (done != null) {
            return done;
        }
        synchronized (NativeMemory.class) {
            if (largeBlocks == null) {
                largeBlocks = !"default".equalsIgnoreCase(System.getenv(ENV))
                        && mallopt(M_MMAP_THRESHOLD, LARGE_BLOCK)
                        && mallopt(M_TRIM_THRESHOLD, TRIM);
                if (largeBlocks) {
                    trim();
                }
            }
            return largeBlocks;
        }
    }

    private static boolean mallopt(int parameter, long value) {
        return callsOne("mallopt", parameter, (int) value);
    }

    /** Calls the C library's {@code function}; true if it returned 1 (both functions' "done"). */
    private static boolean callsOne(String function, Object... args) {
        if (!available) {
            return false;
        }
        try {
            return com.sun.jna.Function.getFunction("c", function).invokeInt(args) == 1;
        } catch (Throwable e) { // UnsatisfiedLinkError (not glibc), NoClassDefFoundError (no JNA): give up for good
            available = false;
            return false;
        }
    }
}

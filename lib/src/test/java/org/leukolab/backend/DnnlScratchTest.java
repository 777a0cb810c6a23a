package org.leukolab.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CompletableFuture;
import org.bytedeco.javacpp.Pointer;
import org.junit.jupiter.api.Test;

/** The working buffers the convolution kernels share: one per role and thread, grown on demand, reused otherwise. */
class DnnlScratchTest {
    @Test
    void oneBufferPerRoleGrownWhenTooSmallAndReusedOtherwise() {
        Pointer a = Dnnl.Scratch.get("test-src", 1_000);
        assertTrue(a.capacity() >= 1_000);
        assertEquals(a.address(), Dnnl.Scratch.get("test-src", 500).address(), "a smaller request reuses the buffer");
        Pointer b = Dnnl.Scratch.get("test-dst", 500);
        assertNotEquals(a.address(), b.address(), "another role has its own buffer");
        Pointer c = Dnnl.Scratch.get("test-src", 4_000);
        assertTrue(c.capacity() >= 4_000, "a larger request grows the buffer");
        assertEquals(c.address(), Dnnl.Scratch.get("test-src", 1_000).address());
    }

    @Test
    void threadsDoNotShareBuffers() throws Exception {
        long here = Dnnl.Scratch.get("test-thread", 256).address();
        long there = CompletableFuture.supplyAsync(() -> Dnnl.Scratch.get("test-thread", 256).address()).get();
        assertNotEquals(here, there);
    }
}

package org.leukolab.models.backbones;

import java.util.Locale;
import org.leukolab.data.LoadedImages;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * How fast a frozen backbone computes features, and how much memory DL4J gives it, measured the way
 * {@link FeatureCache} computes them (same preprocessing, oneDNN layers installed and checked, batches of 32):
 * one warm-up batch, then {@code repeats} timed batches.
 *
 * <p>Memory: the bytes of the parameters plus the bytes of the workspaces DL4J allocated on this thread for the
 * forward pass (each workspace grows to the largest cycle it has seen, so this is the peak of a batch's activations as
 * DL4J holds them). It counts what ND4J itself allocates, not the JVM heap, the JIT or the native libraries.
 *
 * @param imagesPerSecond  throughput of the timed batches
 * @param parameterBytes   the parameters' bytes
 * @param workspaceBytes   the forward pass's workspaces after the timed batches
 */
public record FeatureSpeed(String backbone, int inputSize, int batch, int repeats, double imagesPerSecond, long parameterBytes,
                           long workspaceBytes) {
    public static final int BATCH = 32;

    public double millisecondsPerImage() {
        return 1000.0 / imagesPerSecond;
    }

    /** Times {@code repeats} batches of the first {@value #BATCH} images of {@code images} (fewer if there are fewer). */
    public static FeatureSpeed measure(Backbone b, LoadedImages images, int repeats) {
        int n = Math.min(BATCH, images.size());
        INDArray x = b.preprocessing().apply(images.subset(java.util.stream.IntStream.range(0, n).toArray()).features());
        org.leukolab.backend.OneDnnLayers.installForInference(b.graph(), x);
        // workspaces are per thread and shared by name between networks: start from none, so they measure this one
        Nd4j.getWorkspaceManager().destroyAllWorkspacesForCurrentThread();
        b.graph().outputSingle(false, x); // warm-up: workspaces sized, kernels chosen
        long t0 = System.nanoTime();
        for (int r = 0; r < repeats; r++) {
            b.graph().outputSingle(false, x);
        }
        double seconds = (System.nanoTime() - t0) / 1e9;
        long ws = Nd4j.getWorkspaceManager().getAllWorkspacesForCurrentThread().stream().mapToLong(MemoryWorkspace::getCurrentSize).sum();
        long params = b.parameters() * b.graph().params().dataType().width();
        return new FeatureSpeed(b.architecture(), b.inputSize(), n, repeats, n * (double) repeats / seconds, params, ws);
    }

    /** Parameters plus workspaces, in bytes. */
    public long memoryBytes() {
        return parameterBytes + workspaceBytes;
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%s at %dx%d: %.1f images/s (%.1f ms per image); parameters %.0f MB + workspaces %.0f MB "
                + "(batch %d)", backbone, inputSize, inputSize, imagesPerSecond, millisecondsPerImage(), parameterBytes / 1e6,
                workspaceBytes / 1e6, batch);
    }
}

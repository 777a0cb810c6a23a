package org.leukolab.backend;

import org.nd4j.linalg.factory.Nd4j;

/**
 * The one decision whether leukolab's own kernels may run: its oneDNN convolutions, pooling and batch normalisation
 * ({@link OneDnnLayers}), the runtime layers it puts in place, and the plain-Java passes of {@code FrozenBatchNorm}
 * ({@link NchwBatchNorm#scaleShift}). They are written for ND4J's CPU backend and its arrays in host memory; on any other
 * backend (the CUDA build users make for a GPU) every one of them stands aside and DL4J's own layers run, and so they do
 * with {@code LEUKOLAB_ONEDNN=0}. The trainer's log line gives the reason ({@link #reason()}).
 */
public final class Kernels {
    private static volatile Boolean forcedCpu;
    private static volatile Boolean cpu;

    private Kernels() {}

    /** True when leukolab's kernels may run: ND4J's CPU backend, and {@value OneDnnLayers#ENV} does not turn them off. */
    public static boolean allowed() {
        return cpuBackend() && !turnedOff();
    }

    /** Why they may not ("" when they may). */
    public static String reason() {
        if (!cpuBackend()) {
            return "ND4J's backend is " + backendName() + ", not the CPU backend: leukolab's kernels stand aside, DL4J's own "
                    + "layers run";
        }
        return turnedOff() ? OneDnnLayers.ENV + " turns them off" : "";
    }

    /** Whether ND4J runs on its CPU backend (arrays in host memory). */
    public static boolean cpuBackend() {
        Boolean forced = forcedCpu;
        if (forced != null) {
            return forced;
        }
        Boolean known = cpu;
        if (known == null) {
            try {
                known = Nd4j.getEnvironment().isCPU();
            } catch (RuntimeException | LinkageError e) {
                known = false;
            }
            cpu = known;
        }
        return known;
    }

    private static String backendName() {
        Boolean forced = forcedCpu;
        if (forced != null && !forced) {
            return "not the CPU backend (forced for a test)";
        }
        try {
            return Nd4j.getBackend().getClass().getSimpleName();
        } catch (RuntimeException | LinkageError e) {
            return "unknown";
        }
    }

    static boolean turnedOff() {
        String env = System.getenv(OneDnnLayers.ENV);
        return env != null && (env.equals("0") || env.equalsIgnoreCase("off") || env.equalsIgnoreCase("false"));
    }

    /**
     * Tests only: answer {@code cpu} to "is this the CPU backend?" instead of asking ND4J ({@code null}: ask again). The
     * CUDA backend cannot run on the project's machines, so its answer is forced to test what happens there.
     */
    public static void forceCpuBackendForTests(Boolean cpu) {
        forcedCpu = cpu;
    }
}

package org.leukolab.system;

import java.io.File;
import java.util.Arrays;
import java.util.stream.Collectors;
import org.nd4j.linalg.factory.Nd4j;

/** Facts about the numerical backend in use, for logs, result files and benchmark output. */
public final class Backend {
    /** e.g. nd4j-native-1.0.0-M2.1-linux-x86_64-avx2.jar: backend artifact, version, platform classifier. */
    private static final String VARIANT_JAR =
            "^(nd4j-(?:native|cuda-[0-9.]+))-[0-9][0-9A-Za-z.]*(?:-M[0-9.]+)?-((?:linux|windows|macosx|android)-.+)\\.jar$";

    private Backend() {}

    /**
     * The ND4J native build on the classpath (for example {@code nd4j-native linux-x86_64-avx2}),
     * read from the jar names, since that is what decides which binary JavaCPP loads.
     */
    public static String nativeVariant() {
        String cp = System.getProperty("java.class.path", "");
        String found = Arrays.stream(cp.split(File.pathSeparator))
                .map(p -> new File(p).getName())
                .filter(n -> n.matches(VARIANT_JAR))
                .map(n -> n.replaceFirst(VARIANT_JAR, "$1 $2"))
                .collect(Collectors.joining(", "));
        return found.isEmpty() ? "unknown (no nd4j native jar named on the class path)" : found;
    }

    /** The backend facts that need no ND4J start: the native variant on the class path. */
    public static String describeWithoutInit() {
        return "ND4J " + nativeVariant();
    }

    /** One line: backend class, native variant, thread counts, JDK. */
    public static String describe() {
        var env = Nd4j.getExecutioner().getEnvironmentInformation();
        return String.format("%s; %s; omp threads %s; blas %s threads %s; %s %s",
                Nd4j.getBackend().getClass().getSimpleName(), nativeVariant(),
                env.get("omp.threads"), env.get("blas.vendor"), env.get("blas.threads"),
                System.getProperty("java.vm.name"), System.getProperty("java.runtime.version"));
    }
}

package org.leukolab.system;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * Where leukolab keeps things. Every location can be moved with an environment variable; the kernel
 * launcher and the command-line tools set them, so notebooks never hard-code paths.
 *
 * <table>
 *   <tr><th>what</th><th>variable</th><th>default</th></tr>
 *   <tr><td>project root</td><td>LEUKOLAB_HOME</td><td>nearest parent of the working directory holding {@code data-scripts/datasets.json}</td></tr>
 *   <tr><td>datasets</td><td>LEUKOLAB_DATA</td><td>{@code <root>/data}</td></tr>
 *   <tr><td>caches (decoded images, features)</td><td>LEUKOLAB_CACHE</td><td>{@code <root>/.cache}</td></tr>
 *   <tr><td>run outputs (checkpoints, figures)</td><td>LEUKOLAB_BUILD</td><td>{@code <root>/build}</td></tr>
 *   <tr><td>committed results</td><td>-</td><td>{@code <root>/results}</td></tr>
 * </table>
 */
public final class Workspace {
    private Workspace() {}

    /** The project root. */
    public static Path root() {
        String env = System.getenv("LEUKOLAB_HOME");
        if (env != null && !env.isBlank()) {
            return Paths.get(env).toAbsolutePath().normalize();
        }
        Path here = Paths.get("").toAbsolutePath();
        for (Path p = here; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("data-scripts/datasets.json"))) {
                return p;
            }
        }
        return here;
    }

    public static Path dataDir() {
        return fromEnv("LEUKOLAB_DATA", root().resolve("data"));
    }

    public static Path cacheDir() {
        return fromEnv("LEUKOLAB_CACHE", root().resolve(".cache"));
    }

    public static Path buildDir() {
        return fromEnv("LEUKOLAB_BUILD", root().resolve("build"));
    }

    public static Path resultsDir() {
        return root().resolve("results");
    }

    private static Path fromEnv(String name, Path fallback) {
        String v = System.getenv(name);
        return (v == null || v.isBlank() ? fallback : Paths.get(v)).toAbsolutePath().normalize();
    }
}

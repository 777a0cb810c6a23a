package org.leukolab.system;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * Where and how a result was produced: the facts a reviewer needs beside a number (command, commit,
 * machine, JDK, numerical backend, profile, date).
 */
public final class RunInfo {
    private RunInfo() {}

    public static Map<String, String> current() {
        Map<String, String> m = new LinkedHashMap<>();
        m.put("date", OffsetDateTime.now(ZoneOffset.UTC).format(DateTimeFormatter.ISO_OFFSET_DATE_TIME));
        m.put("command", System.getenv().getOrDefault("LEUKOLAB_RUN_COMMAND", "(interactive notebook)"));
        String notebook = System.getenv("LEUKOLAB_NOTEBOOK"); // set by tools/run_notebooks.py for each notebook it runs
        if (notebook != null && !notebook.isBlank()) {
            m.put("notebook", notebook);
        }
        m.put("profile", Profile.current().toString());
        m.put("commit", commit());
        m.put("machine", machine());
        m.put("jdk", System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version"));
        m.put("backend", Backend.describeWithoutInit());
        return m;
    }

    /** The git commit of the workspace, with "+changes" when the tree differs from it. */
    public static String commit() {
        Path root = Workspace.root();
        String head = git(root, "rev-parse", "--short", "HEAD");
        if (head.isEmpty()) {
            return "unknown";
        }
        return git(root, "status", "--porcelain", "--untracked-files=no").isBlank() ? head : head + "+changes";
    }

    public static String machine() {
        String cpu = "unknown CPU";
        try {
            for (String line : Files.readAllLines(Path.of("/proc/cpuinfo"), StandardCharsets.UTF_8)) {
                if (line.startsWith("model name")) {
                    cpu = line.substring(line.indexOf(':') + 1).trim();
                    break;
                }
            }
        } catch (IOException e) {
            // not Linux: keep the default
        }
        long gb = Math.round(((com.sun.management.OperatingSystemMXBean) java.lang.management.ManagementFactory
                .getOperatingSystemMXBean()).getTotalMemorySize() / 1e9);
        return cpu + ", " + Runtime.getRuntime().availableProcessors() + " cores, " + gb + " GB, "
                + System.getProperty("os.name") + " " + System.getProperty("os.version");
    }

    private static String git(Path dir, String... args) {
        try {
            String[] cmd = new String[args.length + 3];
            cmd[0] = "git";
            cmd[1] = "-C";
            cmd[2] = dir.toString();
            System.arraycopy(args, 0, cmd, 3, args.length);
            Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim();
            if (!p.waitFor(10, TimeUnit.SECONDS) || p.exitValue() != 0) {
                return "";
            }
            return out;
        } catch (IOException | InterruptedException e) {
            return "";
        }
    }
}

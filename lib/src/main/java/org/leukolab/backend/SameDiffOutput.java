package org.leukolab.backend;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;

/**
 * ND4J 1.0.0-M2.1's {@code SameDiff.createGradFunction} prints {@code Added differentiated op <name>} to
 * {@code System.out} for every op of a SameDiff layer, unconditionally (a debugging line left in the release): a
 * fine-tuned MobileNetV2 with frozen BatchNorm (a SameDiff layer) prints some 230 lines into the notebook on its first
 * training step. {@link #quiet} runs a step with those lines, and only those, removed from standard output.
 */
public final class SameDiffOutput {
    static final String NOISE = "Added differentiated op ";

    private SameDiffOutput() {}

    /** Runs {@code step}, dropping ND4J's "Added differentiated op" lines from System.out while it runs. */
    public static void quiet(Runnable step) {
        PrintStream original = System.out;
        PrintStream filter = new PrintStream(new LineFilter(original), true, StandardCharsets.UTF_8);
        System.setOut(filter);
        try {
            step.run();
        } finally {
            filter.flush();
            System.setOut(original);
        }
    }

    /** Passes every line through except those starting with {@link #NOISE}. */
    static final class LineFilter extends java.io.OutputStream {
        private final PrintStream target;
        private final ByteArrayOutputStream line = new ByteArrayOutputStream();

        LineFilter(PrintStream target) {
            this.target = target;
        }

        @Override
        public synchronized void write(int b) {
            line.write(b);
            if (b == '\n') {
                emit();
            }
        }

        @Override
        public synchronized void flush() {
            if (line.size() > 0) {
                emit();
            }
            target.flush();
        }

        private void emit() {
            String s = line.toString(StandardCharsets.UTF_8);
            line.reset();
            if (!s.startsWith(NOISE)) {
                target.print(s);
            }
        }
    }
}

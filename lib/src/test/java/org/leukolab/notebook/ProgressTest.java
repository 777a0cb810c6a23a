package org.leukolab.notebook;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class ProgressTest {
    private static List<String> run(int total, boolean parallel) {
        ByteArrayOutputStream buf = new ByteArrayOutputStream();
        try (PrintStream out = new PrintStream(buf, true, StandardCharsets.UTF_8);
             Progress p = Progress.toStream("work", total, "img", out)) {
            IntStream s = IntStream.range(0, total);
            (parallel ? s.parallel() : s).forEach(i -> p.step());
        }
        return buf.toString(StandardCharsets.UTF_8).lines().toList();
    }

    @Test
    void logsAtMostAboutOneLinePerTenthNotOnePerStep() {
        List<String> lines = run(10_000, false);
        assertTrue(lines.size() <= 13, "too many lines: " + lines.size());
        assertTrue(lines.get(0).contains("0/10000"), lines.get(0));
        String last = lines.get(lines.size() - 1);
        assertTrue(last.contains("100%") && last.contains("10000/10000") && last.contains("done"), last);
    }

    @Test
    void countsEveryStepFromManyThreads() {
        List<String> lines = run(50_000, true);
        assertTrue(lines.get(lines.size() - 1).contains("50000/50000"));
    }

    @Test
    void formatsClock() {
        assertEquals("0:05", Progress.clock(5));
        assertEquals("2:03", Progress.clock(123));
        assertEquals("1:01:01", Progress.clock(3661));
    }

    @Test
    void escapesHtml() {
        assertEquals("a&lt;b&gt;&amp;", Progress.escape("a<b>&"));
    }
}

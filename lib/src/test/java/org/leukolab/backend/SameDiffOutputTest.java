package org.leukolab.backend;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class SameDiffOutputTest {
    @Test
    void onlyTheDebugLinesAreDropped() {
        PrintStream original = System.out;
        ByteArrayOutputStream captured = new ByteArrayOutputStream();
        System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
        try {
            SameDiffOutput.quiet(() -> {
                System.out.println("epoch 1: loss 0.5");
                System.out.println("Added differentiated op add_1");
                System.out.print("no newline at the end");
            });
            assertEquals("epoch 1: loss 0.5\nno newline at the end", captured.toString(StandardCharsets.UTF_8).replace("\r", ""));
        } finally {
            System.setOut(original);
        }
    }
}

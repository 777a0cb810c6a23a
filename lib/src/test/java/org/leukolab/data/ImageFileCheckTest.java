package org.leukolab.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageFileCheckTest {
    @TempDir
    Path dir;

    @Test
    void readsJpegSizeFromTheFrameHeader() throws IOException {
        ImageFileCheck.Result r = ImageFileCheck.inspect(TestImages.solid(dir.resolve("a.jpg"), 33, 21, Color.BLUE, "jpg"));
        assertTrue(r.ok(), r.problem());
        assertEquals(ImageFileCheck.Format.JPEG, r.format());
        assertEquals(33, r.width());
        assertEquals(21, r.height());
        assertEquals(3, r.channels());
    }

    @Test
    void readsPngHeader() throws IOException {
        ImageFileCheck.Result gray = ImageFileCheck.inspect(TestImages.grayPng(dir.resolve("g.png"), 9));
        assertEquals(1, gray.channels());
        assertEquals(8, gray.bitDepth());
        ImageFileCheck.Result deep = ImageFileCheck.inspect(TestImages.png16(dir.resolve("d.png"), 1, 2, 3));
        assertEquals(16, deep.bitDepth());
        assertEquals(3, deep.channels());
        ImageFileCheck.Result rgba = ImageFileCheck.inspect(TestImages.rgbaPng(dir.resolve("r.png"), Color.RED, 128));
        assertEquals(4, rgba.channels());
    }

    @Test
    void recognisesFormatByContentNotName() throws IOException {
        Path png = TestImages.solid(dir.resolve("x.png"), 4, 4, Color.RED, "png");
        Path named = Files.copy(png, dir.resolve("really-a-png.jpg"));
        ImageFileCheck.Result r = ImageFileCheck.inspect(named);
        assertTrue(r.ok());
        assertEquals(ImageFileCheck.Format.PNG, r.format());
    }

    @Test
    void flagsTruncatedPng() throws IOException {
        Path png = TestImages.solid(dir.resolve("t.png"), 64, 64, Color.GREEN, "png");
        byte[] b = Files.readAllBytes(png);
        Files.write(png, java.util.Arrays.copyOf(b, b.length - 20));
        ImageFileCheck.Result r = ImageFileCheck.inspect(png);
        assertFalse(r.ok());
        assertTrue(r.problem().startsWith("truncated"), r.problem());
    }

    @Test
    void describesUnknownContent() throws IOException {
        ImageFileCheck.Result r = ImageFileCheck.inspect(TestImages.text(dir.resolve("x.jpg"), "<html>login</html>"));
        assertFalse(r.ok());
        assertTrue(r.problem().contains("\"<html>lo\""), r.problem());
    }
}

package org.leukolab.plots;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.leukolab.evaluation.ClassificationReport;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

class ChartsTest {
    @TempDir
    Path dir;

    /** Number of distinct colours: a blank or failed render has one or two. */
    private static long colours(BufferedImage img) {
        return java.util.stream.IntStream.range(0, img.getWidth() * img.getHeight())
                .map(i -> img.getRGB(i % img.getWidth(), i / img.getWidth())).distinct().count();
    }

    @Test
    void classCountChartRendersAndSavesAsPng() throws IOException {
        Table counts = Table.create("counts", StringColumn.create("label", List.of("a", "b")),
                IntColumn.create("TRAIN", new int[] {10, 20}), IntColumn.create("TEST", new int[] {3, 4}),
                IntColumn.create("total", new int[] {13, 24}));
        Figure f = Charts.classCounts(counts);
        assertEquals(2, f.chart().getSeriesMap().size(), "total column is left out");
        Path png = dir.resolve("sub/counts.png");
        f.save(png);
        BufferedImage back = ImageIO.read(png.toFile());
        assertEquals(f.width(), back.getWidth());
        assertTrue(colours(back) > 10);
        try (var s = Files.list(png.getParent())) {
            assertEquals(1, s.count(), "no temporary file left behind");
        }
    }

    @Test
    void heatmapAndComparisonAndCurvesRender() {
        ClassificationReport r = ClassificationReport.of(new int[] {0, 1, 1}, new int[] {0, 1, 0}, List.of("x", "y")).titled("m");
        assertTrue(colours(Charts.confusionHeatmap(r.confusion(), true).image()) > 10);
        Figure bars = Charts.compare("cmp", r, r.titled("n"));
        assertEquals(2, bars.chart().getSeriesMap().size());
        Table history = Table.create("h", IntColumn.create("epoch", new int[] {1, 2, 3}),
                DoubleColumn.create("train_loss", new double[] {1, 0.5, 0.3}),
                DoubleColumn.create("val_loss", new double[] {1.1, 0.7, 0.6}),
                DoubleColumn.create("train_acc", new double[] {0.5, 0.7, 0.8}));
        Figure curves = Charts.learningCurves(history);
        assertTrue(curves.width() > 800, "two panels side by side");
    }

    @Test
    void figureShowsAsPngInANotebook() {
        Figure f = Charts.bars("b", Table.create("t", StringColumn.create("k", List.of("a")),
                DoubleColumn.create("v", new double[] {1})), "k", "v");
        Map<String, Object> bundle = f.mimeBundle();
        assertTrue(bundle.containsKey("image/png"));
        byte[] png = java.util.Base64.getDecoder().decode((String) bundle.get("image/png"));
        assertEquals((byte) 0x89, png[0]);
    }
}

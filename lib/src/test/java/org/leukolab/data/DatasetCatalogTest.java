package org.leukolab.data;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DatasetCatalogTest {
    @TempDir
    Path data;

    private DatasetCatalog catalog() {
        return DatasetCatalog.standard().withDataDir(data);
    }

    private void install(String id, String... files) throws IOException {
        Path dir = data.resolve(id);
        for (String f : files) {
            TestImages.jpeg(dir.resolve(f));
        }
        Files.writeString(dir.resolve(DatasetCatalog.INSTALL_MARKER), "{}");
    }

    @Test
    void registryDescribesTheReportsDatasets() {
        DatasetCatalog c = catalog();
        assertTrue(c.ids().containsAll(List.of("blood-cells", "raabin-wbc", "pbc", "bloodmnist")));
        DatasetSpec cells = c.spec("blood-cells");
        assertEquals("dataset2-master/images", cells.imageRoot());
        assertEquals(List.of("TRAIN", "TEST", "TEST_SIMPLE"), cells.splits());
        assertEquals(9957, cells.expectedImages().get("TRAIN"));
        assertEquals("raabin-wbc-sample", c.spec("raabin-wbc").sample());
        assertTrue(c.spec("pbc-sample").isSample());
    }

    @Test
    void missingDatasetNamesTheFetchCommand() {
        DatasetException.Missing e = assertThrows(DatasetException.Missing.class, () -> catalog().open("blood-cells"));
        assertTrue(e.getMessage().contains("./leukolab fetch blood-cells"), e.getMessage());
        assertTrue(e.getMessage().contains("--mirror"), e.getMessage());
    }

    @Test
    void folderWithoutInstallMarkerIsNotTakenForAComplete() throws IOException {
        TestImages.jpeg(data.resolve("blood-cells/dataset2-master/images/TRAIN/A/x.jpg"));
        DatasetException.Missing e = assertThrows(DatasetException.Missing.class, () -> catalog().open("blood-cells"));
        assertTrue(e.getMessage().contains("not installed completely"), e.getMessage());
    }

    @Test
    void fallsBackToTheSampleAndSaysSo() throws IOException {
        install("pbc-sample", "basophil/a.jpg", "neutrophil/b.jpg");
        Dataset d = catalog().openOrSample("pbc");
        assertEquals("pbc-sample", d.id());
        assertEquals("pbc", d.substituteFor());
        assertTrue(d.describe().contains("only a SAMPLE"), d.describe());
        assertEquals(2, d.index().size());
        assertTrue(catalog().find("raabin-wbc").isEmpty());
    }

    @Test
    void prefersTheFullDataset() throws IOException {
        install("pbc-sample", "basophil/a.jpg");
        install("pbc", "basophil/a.jpg", "basophil/b.jpg");
        Dataset d = catalog().openOrSample("pbc");
        assertEquals("pbc", d.id());
        assertNull(d.substituteFor());
        assertFalse(d.describe().contains("SAMPLE"));
    }

    @Test
    void indexChecksTheSplitsOfACompleteCopy() throws IOException {
        install("raabin-wbc", "Train/Basophil/a.jpg");
        DatasetException.Layout e = assertThrows(DatasetException.Layout.class, () -> catalog().open("raabin-wbc").index());
        assertTrue(e.getMessage().contains("[Test-A, Test-B]"), e.getMessage());
    }

    @Test
    void unknownIdIsRejected() {
        assertThrows(IllegalArgumentException.class, () -> catalog().spec("mnist"));
    }
}

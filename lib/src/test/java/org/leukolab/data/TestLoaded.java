package org.leukolab.data;

import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.List;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/** Builds {@link LoadedImages} straight from tensors, for tests of code that consumes loaded images. */
public final class TestLoaded {
    private TestLoaded() {}

    /** Features [n, 3, size, size] with values 0..255 (rounded to bytes), one-hot labels. */
    public static LoadedImages of(DataSet d, int size) {
        INDArray x = d.getFeatures();
        int n = (int) x.size(0);
        int classes = (int) d.getLabels().size(1);
        int[] y = d.getLabels().argMax(1).toIntVector();
        List<String> names = new ArrayList<>();
        for (int c = 0; c < classes; c++) {
            names.add("class" + c);
        }
        List<ImageRecord> recs = new ArrayList<>();
        List<byte[]> px = new ArrayList<>();
        Path root = Paths.get("/nonexistent/test-images");
        for (int i = 0; i < n; i++) {
            recs.add(new ImageRecord(root.resolve(i + ".png"), names.get(y[i]), "all", "test",
                    ImageFileCheck.Format.PNG, size, size, 3, 0));
            byte[] b = new byte[size * size * 3];
            for (int r = 0; r < size; r++) {
                for (int c = 0; c < size; c++) {
                    for (int ch = 0; ch < 3; ch++) {
                        double v = Math.max(0, Math.min(255, Math.round(x.getDouble(i, ch, r, c))));
                        b[(r * size + c) * 3 + ch] = (byte) (int) v;
                    }
                }
            }
            px.add(b);
        }
        ImageIndex idx = new ImageIndex("test", root, recs, names, new DataIssues(root));
        return new LoadedImages(idx, px, size, size, new DataIssues(root), false);
    }
}

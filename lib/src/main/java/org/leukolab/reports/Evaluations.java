package org.leukolab.reports;

import java.util.List;
import java.util.Map;
import org.leukolab.data.LoadedImages;
import org.leukolab.evaluation.ClassificationReport;
import org.leukolab.evaluation.ResultStore;

/** Evaluating a model's predictions on loaded images and keeping both the report and the per-image predictions. */
public final class Evaluations {
    private Evaluations() {}

    /**
     * A titled report of {@code predicted} against the images' labels, recorded (with its per-image
     * predictions) under {@code report}/{@code name}; see {@link ResultStore#record}.
     */
    public static ClassificationReport record(String report, String name, String title, LoadedImages images,
                                              int[] predicted, Map<String, ?> extras) {
        ClassificationReport r = ClassificationReport.of(images.labels(), predicted, images.classes()).titled(title);
        ResultStore.record(report, name, r, extras);
        List<String> files = images.index().records().stream().map(x -> x.split() + "/" + x.label() + "/" + x.fileName()).toList();
        ResultStore.forReport(report).savePredictions(name, files, images.labels(), predicted, images.classes());
        return r;
    }
}

package org.leukolab.evaluation;

import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/** Side-by-side tables of several models' results. */
public final class Comparison {
    private Comparison() {}

    /**
     * One row per report (named by its title): accuracy, macro precision, macro recall, macro F1 —
     * the four numbers the reports' bar charts compare.
     */
    public static Table headline(ClassificationReport... reports) {
        StringColumn model = StringColumn.create("model");
        DoubleColumn acc = DoubleColumn.create("accuracy");
        DoubleColumn p = DoubleColumn.create("precision (macro)");
        DoubleColumn r = DoubleColumn.create("recall (macro)");
        DoubleColumn f = DoubleColumn.create("F1 (macro)");
        for (ClassificationReport rep : reports) {
            model.append(rep.title());
            acc.append(rep.accuracy());
            p.append(rep.macroPrecision());
            r.append(rep.macroRecall());
            f.append(rep.macroF1());
        }
        return org.leukolab.notebook.Tables.rounded(Table.create("model comparison", model, acc, p, r, f), 4);
    }

    /**
     * One row per set of predictions (named by its title): accuracy, macro F1 and macro AUC, each with its 95%
     * bootstrap interval over the images ({@link Bootstrap}); the numbers MedMNIST reports (ACC, AUC) and the
     * one report 003 selects by (macro F1).
     */
    public static Table withIntervals(String title, Predictions... predictions) {
        StringColumn model = StringColumn.create("model");
        StringColumn n = StringColumn.create("images");
        DoubleColumn acc = DoubleColumn.create("accuracy");
        StringColumn accCi = StringColumn.create("accuracy 95% interval");
        DoubleColumn f1 = DoubleColumn.create("macro F1");
        StringColumn f1Ci = StringColumn.create("macro F1 95% interval");
        DoubleColumn auc = DoubleColumn.create("macro AUC");
        for (Predictions p : predictions) {
            Bootstrap.Interval a = Bootstrap.interval(p, org.leukolab.metrics.Metric.ACCURACY);
            Bootstrap.Interval f = Bootstrap.interval(p, org.leukolab.metrics.Metric.F1);
            model.append(p.title());
            n.append(String.valueOf(p.size()));
            acc.append(a.value());
            accCi.append(String.format(java.util.Locale.ROOT, "[%.3f, %.3f]", a.low(), a.high()));
            f1.append(f.value());
            f1Ci.append(String.format(java.util.Locale.ROOT, "[%.3f, %.3f]", f.low(), f.high()));
            auc.append(p.scores().auc());
        }
        return org.leukolab.notebook.Tables.rounded(Table.create(title, model, n, acc, accCi, f1, f1Ci, auc), 4);
    }
}

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
}

package org.leukolab.reports;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.leukolab.evaluation.Labels;
import org.leukolab.evaluation.Reproduction;
import org.leukolab.evaluation.ResultStore;
import org.leukolab.system.Workspace;

/**
 * Every row of the reviewer's page against the committed result it shows: a row declares the protocol it follows and
 * the set its published number was measured on; the result file records what was run. Any disagreement fails, so a
 * row cannot say "as published" over a corrected run, or compare a training accuracy with a test accuracy.
 */
class ReviewerLabelsTest {
    @Test
    void everyRowAgreesWithTheLabelsRecordedInItsResultFile() {
        List<String> wrong = new ArrayList<>();
        int checked = 0;
        for (Reproduction r : Reviewer.all(ResultStore.Kind.COMMITTED)) {
            for (Reproduction.Row row : r.rows()) {
                String where = r.store().dir().getFileName() + "/" + row.result() + " (" + row.experiment() + ", " + row.configuration()
                        + ", " + row.metric() + ")";
                if (row.protocol() == null) {
                    wrong.add(where + ": the row declares no protocol");
                    continue;
                }
                if (!r.store().has(row.result())) {
                    continue;
                }
                var labels = r.store().labels(row.result());
                if (labels.isEmpty()) {
                    wrong.add(where + ": the result file carries no labels");
                    continue;
                }
                if (!labels.get().protocol().equals(row.protocol().words())) {
                    wrong.add(where + ": the row says '" + row.protocol().words() + "', the file records '" + labels.get().protocol() + "'");
                }
                if (!Double.isNaN(row.published()) && !row.publishedOn().equals(r.measuredOn(row))) {
                    wrong.add(where + ": the published number is a " + row.publishedOn() + " figure, ours is measured on the "
                            + r.measuredOn(row) + " set");
                }
                if (row.isTrainingMetric() && Double.isNaN(r.reproduced(row))) {
                    wrong.add(where + ": the file records no " + row.metric());
                }
                checked++;
            }
        }
        assertTrue(wrong.isEmpty(), "rows that disagree with their result files:\n  " + String.join("\n  ", wrong));
        assertTrue(checked > 40, "committed rows checked: " + checked);
    }

    /** A row shows a single run, its spread comes from the repeat's summary: a row on one seed of a repeat is a wrong label. */
    @Test
    void noRowShowsOneSeedOfARepeat() {
        List<String> wrong = new ArrayList<>();
        for (Reproduction r : Reviewer.all(ResultStore.Kind.COMMITTED)) {
            for (Reproduction.Row row : r.rows()) {
                if (r.store().has(row.result()) && r.store().isRepeatRun(row.result())) {
                    wrong.add(r.store().dir().getFileName() + "/" + row.result() + " (" + row.experiment() + ", " + row.configuration() + ")");
                }
            }
        }
        assertTrue(wrong.isEmpty(), "rows showing one seed's run of a repeat: " + wrong);
    }

    @Test
    void everyCommittedResultCarriesLabelsAndASeed() throws IOException {
        List<String> missing = new ArrayList<>();
        try (var reports = Files.list(Workspace.resultsDir())) {
            for (Path dir : reports.filter(Files::isDirectory).toList()) {
                ResultStore store = ResultStore.at(dir);
                for (String name : store.names()) {
                    var l = store.labels(name);
                    if (l.isEmpty() || store.seed(name).isEmpty()) {
                        missing.add(dir.getFileName() + "/" + name);
                    } else {
                        String on = name.endsWith("-val") ? "validation" : "test";
                        assertEquals(on, l.get().evaluatedOn(), dir.getFileName() + "/" + name);
                        assertEquals(store.details(name).get("data"), l.get().data(), dir.getFileName() + "/" + name);
                    }
                }
            }
        }
        assertTrue(missing.isEmpty(), "committed results without labels or seed: " + missing);
    }
}

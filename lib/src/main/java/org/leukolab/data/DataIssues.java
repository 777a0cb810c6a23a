package org.leukolab.data;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.leukolab.notebook.Rich;
import org.leukolab.notebook.Tables;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/** The issues found while indexing or loading a dataset, with a summary for people. Thread-safe. */
public final class DataIssues implements Rich {
    private final List<DataIssue> issues = Collections.synchronizedList(new ArrayList<>());
    private final Path root;

    public DataIssues(Path root) {
        this.root = root;
    }

    public void add(DataIssue issue) {
        issues.add(issue);
    }

    public void addAll(DataIssues other) {
        issues.addAll(other.all());
    }

    public List<DataIssue> all() {
        synchronized (issues) {
            return List.copyOf(issues);
        }
    }

    public List<DataIssue> of(DataIssue.Kind kind) {
        return all().stream().filter(i -> i.kind() == kind).toList();
    }

    public long count(String action) {
        return all().stream().filter(i -> i.action().equals(action)).count();
    }

    public boolean isEmpty() {
        return issues.isEmpty();
    }

    /** Counts by kind, e.g. {@code {NOT_AN_IMAGE=1, TRUNCATED=2}}. */
    public Map<DataIssue.Kind, Integer> counts() {
        Map<DataIssue.Kind, Integer> m = new EnumMap<>(DataIssue.Kind.class);
        for (DataIssue i : all()) {
            m.merge(i.kind(), 1, Integer::sum);
        }
        return m;
    }

    /** One row per issue: file (relative to the dataset root), kind, detail, action. */
    public Table table() {
        List<DataIssue> all = all();
        return Table.create("data issues",
                StringColumn.create("file", all.stream().map(i -> relative(i.file())).toList()),
                StringColumn.create("kind", all.stream().map(i -> i.kind().name()).toList()),
                StringColumn.create("detail", all.stream().map(DataIssue::detail).toList()),
                StringColumn.create("action", all.stream().map(DataIssue::action).toList()));
    }

    /** A short text: one line of counts, then one line per issue (the first {@code limit}). */
    public String summary(int limit) {
        List<DataIssue> all = all();
        if (all.isEmpty()) {
            return "no problems found";
        }
        Map<String, Integer> byAction = new LinkedHashMap<>();
        all.forEach(i -> byAction.merge(i.action(), 1, Integer::sum));
        StringBuilder sb = new StringBuilder();
        byAction.forEach((a, n) -> sb.append(sb.length() == 0 ? "" : ", ").append(n).append(' ').append(a));
        sb.append(" (").append(counts()).append(')');
        all.stream().limit(limit).forEach(i -> sb.append("\n  ").append(i.action()).append(": ")
                .append(relative(i.file())).append(": ").append(i.detail()));
        if (all.size() > limit) {
            sb.append("\n  ... and ").append(all.size() - limit).append(" more (see table())");
        }
        return sb.toString();
    }

    private String relative(Path p) {
        return root != null && p.startsWith(root) ? root.relativize(p).toString() : p.toString();
    }

    @Override
    public String toString() {
        return summary(20);
    }

    @Override
    public Map<String, Object> mimeBundle() {
        if (isEmpty()) {
            return Map.of("text/plain", summary(20), "text/html", "<p>No problems found.</p>");
        }
        return Map.of("text/plain", summary(20),
                "text/html", "<p>" + Tables.escape(summary(0)) + "</p>" + Tables.html(table(), 50));
    }
}

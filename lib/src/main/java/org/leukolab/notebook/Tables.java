package org.leukolab.notebook;

import java.util.Map;
import tech.tablesaw.api.Table;
import tech.tablesaw.columns.Column;

/** Tablesaw tables as HTML for notebooks (the kernel start-up script renders every Table this way). */
public final class Tables {
    private Tables() {}

    /** An HTML table of the first {@code maxRows} rows (all if {@code maxRows <= 0}), with a caption. */
    public static String html(Table t, int maxRows) {
        int rows = maxRows <= 0 ? t.rowCount() : Math.min(maxRows, t.rowCount());
        StringBuilder sb = new StringBuilder("<table>");
        if (t.name() != null && !t.name().isBlank()) {
            sb.append("<caption style='text-align:left'><b>").append(escape(t.name())).append("</b></caption>");
        }
        sb.append("<thead><tr>");
        for (Column<?> c : t.columns()) {
            sb.append("<th>").append(escape(c.name())).append("</th>");
        }
        sb.append("</tr></thead><tbody>");
        for (int r = 0; r < rows; r++) {
            sb.append("<tr>");
            for (Column<?> c : t.columns()) {
                boolean numeric = c.type().name().matches("INTEGER|LONG|DOUBLE|FLOAT|SHORT");
                sb.append(numeric ? "<td style='text-align:right'>" : "<td style='text-align:left'>")
                  .append(escape(c.getString(r))).append("</td>");
            }
            sb.append("</tr>");
        }
        sb.append("</tbody></table>");
        if (rows < t.rowCount()) {
            sb.append("<p><i>").append(t.rowCount() - rows).append(" more rows</i></p>");
        }
        return sb.toString();
    }

    /** The MIME bundle the kernel shows for a table: HTML plus Tablesaw's own text form. */
    public static Map<String, Object> bundle(Table t) {
        return Map.of("text/plain", t.printAll(), "text/html", html(t, 200));
    }

    /** Shows every floating-point column with {@code decimals} decimals (printing and HTML); returns the table. */
    public static Table rounded(Table t, int decimals) {
        java.text.DecimalFormat f = new java.text.DecimalFormat("0." + "0".repeat(Math.max(1, decimals)),
                java.text.DecimalFormatSymbols.getInstance(java.util.Locale.ROOT));
        for (tech.tablesaw.columns.Column<?> c : t.columns()) {
            if (c instanceof tech.tablesaw.api.DoubleColumn d) {
                d.setPrintFormatter(new tech.tablesaw.columns.numbers.NumberColumnFormatter(f, ""));
            }
        }
        return t;
    }

    /**
     * A table from rows given as maps (column name to value), columns in the first row's order: numbers become double
     * columns (integers: integer columns), everything else strings; a missing or null value is a missing cell.
     */
    public static Table ofRows(String title, java.util.List<? extends Map<String, ?>> rows) {
        Table t = Table.create(title);
        if (rows.isEmpty()) {
            return t;
        }
        for (String name : rows.get(0).keySet()) {
            Object first = rows.stream().map(r -> (Object) r.get(name)).filter(java.util.Objects::nonNull).findFirst().orElse("");
            if (first instanceof Integer || first instanceof Long) {
                var c = tech.tablesaw.api.IntColumn.create(name);
                rows.forEach(r -> c.append(r.get(name) == null ? null : ((Number) r.get(name)).intValue()));
                t.addColumns(c);
            } else if (first instanceof Number) {
                var c = tech.tablesaw.api.DoubleColumn.create(name);
                rows.forEach(r -> {
                    if (r.get(name) == null) {
                        c.appendMissing();
                    } else {
                        c.append(((Number) r.get(name)).doubleValue());
                    }
                });
                t.addColumns(c);
            } else {
                var c = tech.tablesaw.api.StringColumn.create(name);
                rows.forEach(r -> c.append(r.get(name) == null ? "" : String.valueOf(r.get(name))));
                t.addColumns(c);
            }
        }
        return t;
    }

    public static String escape(String s) {
        return s == null ? "" : s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
                .replace("\n", "<br>");
    }
}

package org.leukolab.plots;

import java.awt.Color;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Collectors;
import org.knowm.xchart.CategoryChart;
import org.knowm.xchart.CategoryChartBuilder;
import org.knowm.xchart.HeatMapChart;
import org.knowm.xchart.HeatMapChartBuilder;
import org.knowm.xchart.XYChart;
import org.knowm.xchart.XYChartBuilder;
import org.knowm.xchart.XYSeries;
import org.knowm.xchart.style.markers.SeriesMarkers;
import org.knowm.xchart.style.Styler;
import org.leukolab.evaluation.ClassificationReport;
import org.leukolab.evaluation.Comparison;
import org.leukolab.metrics.ConfusionMatrix;
import tech.tablesaw.api.NumericColumn;
import tech.tablesaw.api.Table;
import tech.tablesaw.columns.Column;

/**
 * The charts of the notebooks, drawn with XChart and returned as {@link Figure}s (inline in a
 * notebook, {@code .save(path)} for a PNG). Inputs are the library's own tables, so a chart is one call.
 */
public final class Charts {
    private static final int W = 800;
    private static final int H = 450;

    private Charts() {}

    /**
     * Class counts as grouped bars, one group per class and one bar per split, from a table shaped like
     * {@code ImageIndex.classCounts()} (a label column, then one count column per split; a {@code total}
     * column is left out when there are several splits).
     */
    public static Figure classCounts(Table counts) {
        List<String> labels = counts.stringColumn(0).asList();
        List<NumericColumn<?>> series = numericColumns(counts).stream()
                .filter(c -> !(c.name().equals("total") && counts.columnCount() > 2)).toList();
        CategoryChart chart = new CategoryChartBuilder().width(W).height(H).title(counts.name())
                .xAxisTitle("class").yAxisTitle("images").build();
        style(chart);
        chart.getStyler().setLabelsVisible(true);
        chart.getStyler().setLabelsFontColorAutomaticEnabled(false);
        chart.getStyler().setLabelsFontColor(Color.DARK_GRAY);
        chart.getStyler().setLabelsPosition(0.95);
        for (NumericColumn<?> c : series) {
            chart.addSeries(c.name(), labels, values(c));
        }
        return Figure.of(chart);
    }

    /**
     * A scatter plot of 2-D points (a t-SNE map), one colour per group (class), with the {@code marked} points drawn
     * again as black rings on top (e.g. the images an outlier detector flagged).
     */
    public static Figure scatter(String title, double[][] xy, List<String> groups, boolean[] marked, String markedName) {
        XYChart chart = new XYChartBuilder().width(W + 100).height(W * 3 / 4).title(title).xAxisTitle("t-SNE 1").yAxisTitle("t-SNE 2").build();
        style(chart);
        chart.getStyler().setDefaultSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        chart.getStyler().setMarkerSize(4);
        java.util.Map<String, List<double[]>> by = new java.util.TreeMap<>();
        for (int i = 0; i < xy.length; i++) {
            by.computeIfAbsent(groups.get(i), g -> new ArrayList<>()).add(xy[i]);
        }
        by.forEach((g, pts) -> chart.addSeries(g + " (" + pts.size() + ")", pts.stream().map(p -> p[0]).toList(),
                pts.stream().map(p -> p[1]).toList()).setMarker(SeriesMarkers.CIRCLE));
        List<Double> mx = new ArrayList<>();
        List<Double> my = new ArrayList<>();
        for (int i = 0; i < xy.length; i++) {
            if (marked != null && marked[i]) {
                mx.add(xy[i][0]);
                my.add(xy[i][1]);
            }
        }
        if (!mx.isEmpty()) {
            var s = chart.addSeries(markedName + " (" + mx.size() + ")", mx, my);
            s.setMarker(SeriesMarkers.CIRCLE);
            s.setMarkerColor(new Color(0, 0, 0, 90));
        }
        return Figure.of(chart);
    }

    /**
     * Counts as stacked bars, one bar per row (the first, text column names them) and one segment per numeric
     * column (a {@code total} column is left out): for example {@code ImageIndex.sourceCounts()}, classes by source.
     */
    public static Figure stackedBars(String title, Table counts) {
        List<String> labels = counts.column(0).asList().stream().map(Object::toString).toList();
        CategoryChart chart = new CategoryChartBuilder().width(W).height(H).title(title)
                .xAxisTitle(counts.column(0).name()).yAxisTitle("images").build();
        style(chart);
        chart.getStyler().setStacked(true);
        for (NumericColumn<?> c : numericColumns(counts)) {
            if (!c.name().equals("total")) {
                chart.addSeries(c.name(), labels, values(c));
            }
        }
        return Figure.of(chart);
    }

    /**
     * Two runs' learning curves on the same axes (loss left, accuracy right): {@code reproduced} (a history table)
     * in solid lines, {@code published} (a table with the same column names, e.g. a report's printed log) in dashed
     * lines and marked "published".
     */
    public static Figure compareCurves(String title, Table reproduced, Table published) {
        Figure loss = twoRuns(reproduced, published, List.of("loss", "val_loss"), "loss");
        Figure acc = twoRuns(reproduced, published, List.of("accuracy", "val_accuracy"), "accuracy");
        return Figure.row(title, loss, acc);
    }

    private static Figure twoRuns(Table reproduced, Table published, List<String> columns, String yTitle) {
        XYChart chart = new XYChartBuilder().width(W / 2 + 80).height(H).title(yTitle).xAxisTitle("epoch").yAxisTitle(yTitle).build();
        style(chart);
        for (String c : columns) {
            for (Table t : List.of(reproduced, published)) {
                if (!t.columnNames().contains(c)) {
                    continue;
                }
                boolean pub = t == published;
                var s = chart.addSeries((pub ? "published " : "reproduced ") + c, values(t.numberColumn("epoch")), values(t.numberColumn(c)));
                if (pub) {
                    s.setLineStyle(org.knowm.xchart.style.lines.SeriesLines.DASH_DASH);
                }
            }
        }
        return Figure.of(chart);
    }

    /**
     * Grouped bars comparing models: one group per metric column, one bar per row (model). The first
     * column names the models, the numeric columns are the metrics (e.g. accuracy, precision, recall, F1).
     */
    public static Figure metricBars(String title, Table byModel) {
        List<String> models = byModel.column(0).asList().stream().map(Object::toString).toList();
        List<NumericColumn<?>> metrics = numericColumns(byModel);
        List<String> metricNames = metrics.stream().map(Column::name).toList();
        CategoryChart chart = new CategoryChartBuilder().width(W).height(H).title(title)
                .xAxisTitle("metric").yAxisTitle("score").build();
        style(chart);
        chart.getStyler().setYAxisMin(0.0);
        chart.getStyler().setYAxisMax(1.05);
        chart.getStyler().setLabelsVisible(true);
        chart.getStyler().setLabelsFontColorAutomaticEnabled(false);
        chart.getStyler().setLabelsFontColor(Color.DARK_GRAY);
        chart.getStyler().setLabelsPosition(0.95);
        chart.getStyler().setYAxisDecimalPattern("0.00");
        for (int r = 0; r < models.size(); r++) {
            List<Number> ys = new ArrayList<>();
            for (NumericColumn<?> m : metrics) {
                ys.add(m.getDouble(r));
            }
            chart.addSeries(models.get(r), metricNames, ys);
        }
        return Figure.of(chart);
    }

    /** The four headline numbers of several reports side by side (accuracy and macro P/R/F1). */
    public static Figure compare(String title, ClassificationReport... reports) {
        return metricBars(title, Comparison.headline(reports));
    }

    /**
     * Learning curves from a history table with an {@code epoch} column: loss and accuracy in the top row and,
     * when the history has them, macro F1 (and weighted F1) and macro AUC below; training and validation
     * ({@code val_}) of each metric in the same panel.
     */
    public static Figure learningCurves(Table history) {
        Figure loss = curves(history, List.of("loss", "val_loss"), "loss");
        Figure acc = curves(history, List.of("accuracy", "val_accuracy"), "accuracy");
        Figure top = Figure.row(history.name() + ": learning curves", loss, acc);
        if (!history.columnNames().contains("f1")) {
            return top;
        }
        Figure f1 = curves(history, List.of("f1", "val_f1", "weighted_f1", "val_weighted_f1"), "F1 (macro, weighted)");
        Figure auc = curves(history, List.of("auc", "val_auc"), "AUC (macro, one-vs-rest)");
        return Figure.column(history.name() + ": learning curves", top, Figure.row("", f1, auc));
    }

    /** The learning curves of a training run ({@link #learningCurves(Table)} of its history). */
    public static Figure learningCurves(org.leukolab.training.TrainingResult run) {
        return learningCurves(run.history());
    }

    private static Figure curves(Table history, List<String> columns, String yTitle) {
        XYChart chart = new XYChartBuilder().width(W / 2 + 50).height(H).title(yTitle)
                .xAxisTitle("epoch").yAxisTitle(yTitle).build();
        style(chart);
        List<Double> epochs = values(history.numberColumn("epoch")).stream().map(Number::doubleValue).toList();
        for (NumericColumn<?> c : numericColumns(history)) {
            if (columns.contains(c.name())) {
                List<Double> ys = new ArrayList<>();
                List<Double> xs = new ArrayList<>();
                for (int i = 0; i < c.size(); i++) {
                    if (!c.isMissing(i)) {
                        xs.add(epochs.get(i));
                        ys.add(c.getDouble(i));
                    }
                }
                if (!xs.isEmpty()) {
                    chart.addSeries(c.name(), xs, ys);
                }
            }
        }
        if (chart.getSeriesMap().isEmpty()) {
            chart.addSeries("(no " + yTitle + " recorded)", List.of(0.0), List.of(0.0));
        }
        return Figure.of(chart);
    }

    /**
     * A confusion-matrix heatmap with the count in each cell; {@code normalised} colours (and labels)
     * each row by its share of the actual class, so classes of different sizes compare.
     */
    public static Figure confusionHeatmap(ConfusionMatrix cm, boolean normalised) {
        List<String> classes = cm.classes();
        int k = classes.size();
        boolean none = cm.noClassTotal() > 0;
        List<Number[]> cells = new ArrayList<>();
        double max = 0;
        for (int a = 0; a < k; a++) {
            long rowTotal = cm.actualCount(a);
            for (int p = 0; p < k + (none ? 1 : 0); p++) {
                long count = p < k ? cm.count(a, p) : cm.noClass(a);
                double v = normalised ? (rowTotal == 0 ? 0 : (double) count / rowTotal) : count;
                max = Math.max(max, v);
                // HeatMapChart's y axis runs bottom-up; put the first class at the top, as tables do
                cells.add(new Number[] {p, k - 1 - a, v});
            }
        }
        List<String> predictedLabels = new ArrayList<>(classes);
        if (none) {
            predictedLabels.add("(no class)");
        }
        List<String> reversed = new ArrayList<>(classes);
        java.util.Collections.reverse(reversed);
        HeatMapChart chart = new HeatMapChartBuilder().width(W).height(W * 3 / 4)
                .title(normalised ? "confusion matrix (row-normalised)" : "confusion matrix")
                .xAxisTitle("predicted").yAxisTitle("actual").build();
        chart.getStyler().setShowValue(true);
        chart.getStyler().setHeatMapValueDecimalPattern(normalised ? "0.00" : "0");
        chart.getStyler().setMin(0);
        chart.getStyler().setMax(Math.max(max, normalised ? 1 : 1));
        chart.getStyler().setRangeColors(new Color[] {new Color(247, 251, 255), new Color(107, 174, 214), new Color(8, 48, 107)});
        chart.getStyler().setValueFontColor(Color.BLACK);
        chart.getStyler().setChartBackgroundColor(Color.WHITE);
        chart.getStyler().setLegendVisible(true);
        chart.addSeries("count", predictedLabels, reversed, cells);
        return Figure.of(chart);
    }

    /** A simple bar chart of one numeric column against a label column. */
    public static Figure bars(String title, Table t, String labelColumn, String valueColumn) {
        CategoryChart chart = new CategoryChartBuilder().width(W).height(H).title(title)
                .xAxisTitle(labelColumn).yAxisTitle(valueColumn).build();
        style(chart);
        chart.getStyler().setLegendVisible(false);
        chart.addSeries(valueColumn, t.column(labelColumn).asList().stream().map(Object::toString).toList(),
                values(t.numberColumn(valueColumn)));
        return Figure.of(chart);
    }

    /** One published number and its reproduction for {@link #publishedVersusReproduced}: values in percent, NaN where absent. */
    public record Comparand(String label, double published, double reproduced, double low, double high, String verdict) {}

    /** Colours of the verdicts ({@code org.leukolab.evaluation.Verdict.Kind} words). */
    public static final java.util.Map<String, Color> VERDICT_COLOURS = java.util.Map.of(
            "reproduced", new Color(0x1b, 0x7f, 0x3b), "differs", new Color(0xc6, 0x28, 0x28),
            "not comparable here", new Color(0x8a, 0x8a, 0x8a), "not run", new Color(0x8a, 0x8a, 0x8a));

    /**
     * Published values against reproductions, one line per published number (top to bottom): the published value as a
     * black diamond, ours as a dot with its 95% interval as a whisker, coloured by verdict (green reproduced, red
     * differs, grey not comparable); a number not run has the diamond only.
     */
    public static Figure publishedVersusReproduced(String title, List<Comparand> items) {
        int k = items.size();
        XYChart chart = new XYChartBuilder().width(900).height(130 + 26 * Math.max(k, 4)).title(title).xAxisTitle("%").build();
        style(chart);
        chart.getStyler().setLegendPosition(Styler.LegendPosition.OutsideS).setLegendLayout(Styler.LegendLayout.Horizontal);
        chart.getStyler().setYAxisMin(-(k + 1.0)).setYAxisMax(0.0).setYAxisTickMarkSpacingHint(10);
        chart.getStyler().setAxisTickLabelsFont(new java.awt.Font(java.awt.Font.SANS_SERIF, java.awt.Font.PLAIN, 12));
        chart.setCustomYAxisTickLabelsFormatter(y -> {
            long i = Math.round(-y);
            // XChart drops all tick labels unless they are unique: other ticks get distinct runs of thin spaces
            return Math.abs(y + i) < 1e-6 && i >= 1 && i <= k ? shorten(items.get((int) i - 1).label(), 38)
                    : "\u2009".repeat(1 + (int) Math.round(Math.abs(y) * 4));
        });
        chart.getStyler().setMarkerSize(9);
        double lo = 100;
        for (Comparand c : items) {
            for (double v : new double[] {c.published(), c.reproduced(), c.low()}) {
                if (!Double.isNaN(v)) {
                    lo = Math.min(lo, v);
                }
            }
        }
        chart.getStyler().setXAxisMin(Math.max(0, Math.floor(lo / 10) * 10 - 5)).setXAxisMax(100.0);
        for (int i = 0; i < k; i++) {
            Comparand c = items.get(i);
            if (!Double.isNaN(c.low())) {
                XYSeries w = chart.addSeries("interval " + (i + 1), new double[] {c.low(), c.high()}, new double[] {-(i + 1), -(i + 1)});
                w.setMarker(SeriesMarkers.NONE);
                w.setLineStyle(org.knowm.xchart.style.lines.SeriesLines.SOLID);
                w.setLineWidth(2.5f);
                w.setLineColor(VERDICT_COLOURS.getOrDefault(c.verdict(), Color.GRAY));
                w.setShowInLegend(false);
            }
        }
        for (String verdict : List.of("reproduced", "differs", "not comparable here")) {
            List<Double> x = new ArrayList<>();
            List<Double> y = new ArrayList<>();
            for (int i = 0; i < k; i++) {
                if (items.get(i).verdict().equals(verdict) && !Double.isNaN(items.get(i).reproduced())) {
                    x.add(items.get(i).reproduced());
                    y.add(-(i + 1.0));
                }
            }
            if (!x.isEmpty()) {
                XYSeries s = chart.addSeries("ours: " + verdict, x, y);
                s.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
                s.setMarker(SeriesMarkers.CIRCLE);
                s.setMarkerColor(VERDICT_COLOURS.get(verdict));
            }
        }
        List<Double> px = new ArrayList<>();
        List<Double> py = new ArrayList<>();
        for (int i = 0; i < k; i++) {
            if (!Double.isNaN(items.get(i).published())) {
                px.add(items.get(i).published());
                py.add(-(i + 1.0));
            }
        }
        XYSeries pub = chart.addSeries("published", px, py);
        pub.setXYSeriesRenderStyle(XYSeries.XYSeriesRenderStyle.Scatter);
        pub.setMarker(SeriesMarkers.DIAMOND);
        pub.setMarkerColor(Color.BLACK);
        return Figure.of(chart);
    }

    private static String shorten(String s, int n) {
        return s.length() <= n ? s : s.substring(0, n - 1) + "\u2026";
    }

    private static void style(org.knowm.xchart.internal.chartpart.Chart<?, ?> chart) {
        Styler s = chart.getStyler();
        s.setChartBackgroundColor(Color.WHITE);
        s.setPlotBackgroundColor(Color.WHITE);
        s.setLegendPosition(Styler.LegendPosition.OutsideE);
        s.setLegendBorderColor(Color.WHITE);
        s.setPlotBorderVisible(false);
    }

    private static List<NumericColumn<?>> numericColumns(Table t) {
        return t.columns().stream().filter(c -> c instanceof NumericColumn<?>)
                .map(c -> (NumericColumn<?>) c).collect(Collectors.toList());
    }

    private static List<Number> values(NumericColumn<?> c) {
        List<Number> out = new ArrayList<>(c.size());
        for (int i = 0; i < c.size(); i++) {
            out.add(c.isMissing(i) ? Double.NaN : c.getDouble(i));
        }
        return out;
    }
}

package org.leukolab.evaluation;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.commons.math3.distribution.TDistribution;
import org.apache.commons.math3.stat.descriptive.DescriptiveStatistics;
import org.leukolab.notebook.Rich;
import org.leukolab.notebook.Tables;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.LongColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * One experiment run once per seed (the network's initialisation, the data order and the augmentation draws; the
 * split stays the same), from {@link Experiment#repeat}: every seed's run, and the spread of each metric over the
 * seeds (mean, standard deviation, min, max). The bootstrap interval of one run covers the test sample; this covers
 * the training run. Two repeats over the same seeds compare seed by seed ({@link #pairedWith}).
 */
public record Repeats(String name, List<Long> seeds, List<Experiment.Run> runs, double seconds) implements Rich {
    public Repeats {
        if (seeds.size() != runs.size() || seeds.isEmpty()) {
            throw new IllegalArgumentException(name + ": " + seeds.size() + " seeds for " + runs.size() + " runs");
        }
        seeds = List.copyOf(seeds);
        runs = List.copyOf(runs);
    }

    /**
     * The metric of each seed's test predictions ({@code accuracy}, {@code macro_f1}, {@code auc}), in seed order; the
     * validation predictions for runs without a test set ({@link #scoredOn()}).
     */
    public double[] test(String metric) {
        return runs.stream().mapToDouble(r -> value(r, metric)).toArray();
    }

    /** " [stand-in]", " [sample]", ... when the runs' data is not the full dataset (every table and line says so). */
    private String dataNote() {
        String kind = runs.get(0).dataKind();
        return kind == null || kind.equals("full") ? "" : " [" + kind + "]";
    }

    /** {@code test}, or {@code validation} when the runs had no test set. */
    public String scoredOn() {
        return runs.get(0).testPredictions() == null ? "validation" : "test";
    }

    static double value(Experiment.Run r, String metric) {
        var s = (r.testPredictions() == null ? r.validationPredictions() : r.testPredictions()).scores();
        return switch (metric) {
            case "accuracy" -> s.accuracy();
            case "macro_f1" -> s.f1();
            case "weighted_f1" -> s.weightedF1();
            case "auc" -> s.auc();
            default -> throw new IllegalArgumentException("unknown metric " + metric + " (accuracy, macro_f1, weighted_f1, auc)");
        };
    }

    /** Mean, sample standard deviation, min and max over the seeds of a test metric. */
    public record Spread(String metric, int n, double mean, double sd, double min, double max) {
        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%s %.4f ± %.4f (n = %d seeds; %.4f to %.4f)", metric, mean, sd, n, min, max);
        }

        /** As stored in a result file. */
        public Map<String, Object> toMap() {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("n", n);
            m.put("mean", mean);
            if (!Double.isNaN(sd)) {
                m.put("sd", sd); // absent for one seed
            }
            m.put("min", min);
            m.put("max", max);
            return m;
        }
    }

    public Spread spread(String metric) {
        DescriptiveStatistics d = new DescriptiveStatistics(test(metric));
        return new Spread(metric, (int) d.getN(), d.getMean(), d.getN() > 1 ? d.getStandardDeviation() : Double.NaN, d.getMin(),
                d.getMax());
    }

    /** Each seed's test accuracy, macro F1 and AUC, then mean, sd, min and max. */
    public Table table() {
        LongColumn seed = LongColumn.create("seed");
        DoubleColumn acc = DoubleColumn.create("accuracy (" + scoredOn() + ")");
        DoubleColumn f1 = DoubleColumn.create("macro F1 (" + scoredOn() + ")");
        DoubleColumn auc = DoubleColumn.create("macro AUC (" + scoredOn() + ")");
        IntColumn epochs = IntColumn.create("epochs");
        for (int i = 0; i < runs.size(); i++) {
            seed.append(seeds.get(i));
            acc.append(value(runs.get(i), "accuracy"));
            f1.append(value(runs.get(i), "macro_f1"));
            auc.append(value(runs.get(i), "auc"));
            if (runs.get(i).training() == null) {
                epochs.appendMissing(); // not trained in epochs (e.g. a Random Forest)
            } else {
                epochs.append(runs.get(i).training().epochs());
            }
        }
        StringColumn row = StringColumn.create("run", seeds.stream().map(s -> "seed " + s).toList());
        Table t = Table.create(name + dataNote() + ": " + runs.size() + " seeds", row, seed, acc, f1, auc, epochs);
        for (String stat : List.of("mean", "sd", "min", "max")) {
            row.append(stat);
            seed.appendMissing();
            epochs.appendMissing();
            for (var c : List.of(acc, f1, auc)) {
                String m = c == acc ? "accuracy" : c == f1 ? "macro_f1" : "auc";
                Spread s = spread(m);
                c.append(switch (stat) {
                    case "mean" -> s.mean();
                    case "sd" -> s.sd();
                    case "min" -> s.min();
                    default -> s.max();
                });
            }
        }
        return Tables.rounded(t, 4);
    }

    /**
     * Seed by seed against another repeat over the same seeds: each seed's difference (this minus other) of a test
     * metric, their mean with a 95% t-interval, and how many seeds favour each.
     */
    public SeedPaired pairedWith(Repeats other, String metric) {
        if (!seeds.equals(other.seeds)) {
            throw new IllegalArgumentException(name + " and " + other.name + " were not run over the same seeds: " + seeds + " and "
                    + other.seeds);
        }
        return SeedPaired.of(name + dataNote(), other.name + other.dataNote(), metric, seeds, test(metric), other.test(metric));
    }

    /** Per-seed differences of two repeats and their t-interval. */
    public record SeedPaired(String nameA, String nameB, String metric, List<Long> seeds, double[] differences, double mean,
                             double low, double high, int favourA, int favourB) implements Rich {
        static SeedPaired of(String a, String b, String metric, List<Long> seeds, double[] x, double[] y) {
            double[] d = new double[x.length];
            int fa = 0;
            int fb = 0;
            for (int i = 0; i < d.length; i++) {
                d[i] = x[i] - y[i];
                fa += d[i] > 0 ? 1 : 0;
                fb += d[i] < 0 ? 1 : 0;
            }
            DescriptiveStatistics s = new DescriptiveStatistics(d);
            double half = d.length > 1 ? new TDistribution(d.length - 1).inverseCumulativeProbability(0.975)
                    * s.getStandardDeviation() / Math.sqrt(d.length) : Double.NaN;
            return new SeedPaired(a, b, metric, List.copyOf(seeds), d, s.getMean(), s.getMean() - half, s.getMean() + half, fa, fb);
        }

        /** True when the 95% t-interval of the mean difference excludes 0 (a difference that survives the seed spread). */
        public boolean survives() {
            return !Double.isNaN(low) && (low > 0 || high < 0);
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%s minus %s, %s over %d seeds: mean %+.4f, 95%% t-interval [%+.4f, %+.4f]; %d seeds "
                    + "favour %s, %d favour %s%s", nameA, nameB, metric, differences.length, mean, low, high, favourA, nameA,
                    favourB, nameB, differences.length < 2 ? " (one seed: no interval)"
                            : survives() ? ": the difference survives the run-to-run spread"
                            : ": within the run-to-run spread");
        }

        public Table table() {
            LongColumn seed = LongColumn.create("seed", seeds.stream().mapToLong(Long::longValue).toArray());
            DoubleColumn diff = DoubleColumn.create(metric + " difference (" + nameA + " - " + nameB + ")", differences);
            return Tables.rounded(Table.create(toString(), seed, diff), 4);
        }

        @Override
        public Map<String, Object> mimeBundle() {
            return Map.of("text/plain", table().print(), "text/html", Tables.html(table(), 0));
        }
    }

    @Override
    public String toString() {
        return String.format(Locale.ROOT, "%s%s over %d seeds %s in %.0f s: %s; %s", name, dataNote(), seeds.size(), seeds,
                seconds,
                spread("accuracy"), spread("macro_f1"));
    }

    @Override
    public Map<String, Object> mimeBundle() {
        return Map.of("text/plain", toString() + "\n" + table().print(),
                "text/html", "<p>" + Tables.escape(toString()) + "</p>" + Tables.html(table(), 0));
    }

    /** The seeds of a repeat: 5 in the full profile (1 to 5), 2 in the quick one (the code path, in CI). */
    public static List<Long> seeds(org.leukolab.system.Profile p) {
        return p.isQuick() ? List.of(1L, 2L) : List.of(1L, 2L, 3L, 4L, 5L);
    }
}

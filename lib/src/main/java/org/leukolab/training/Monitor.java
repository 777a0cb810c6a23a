package org.leukolab.training;

import java.util.Locale;
import java.util.Map;
import org.leukolab.metrics.Metric;

/**
 * What a callback watches, and when a value counts as better: a metric of the epoch's history
 * ({@code val_loss}, {@code val_f1}, ...), a direction, the smallest change that counts, how many epochs
 * without improvement are tolerated, and an optional baseline to beat. Keras' callbacks share exactly these
 * settings; here they are one object under every callback ({@link MonitorCallback}).
 *
 * <pre>{@code
 * Monitor.of("val_f1")                                  // direction from the metric: F1 goes up
 * Monitor.of("val_loss").minDelta(1e-3).patience(5)
 * Monitor.of("my_score").mode(Monitor.Mode.MAX)         // a metric leukolab does not know: say its direction
 * }</pre>
 *
 * <p>A monitor is a value: the setters return a new monitor.
 */
public record Monitor(String metric, Mode mode, double minDelta, int patience, double baseline) {
    /** Which way is better. {@code AUTO} takes the direction the metric declares ({@link Metric#higherIsBetter()}). */
    public enum Mode { MIN, MAX, AUTO }

    public Monitor {
        if (metric == null || metric.isBlank()) {
            throw new IllegalArgumentException("a monitor needs a metric name, such as val_loss or val_f1");
        }
        if (minDelta < 0 || Double.isNaN(minDelta)) {
            throw new IllegalArgumentException("min_delta must be >= 0, got " + minDelta);
        }
        if (patience < 0) {
            throw new IllegalArgumentException("patience must be >= 0, got " + patience);
        }
    }

    /** Watches {@code metric} in its declared direction, min_delta 0, patience 0, no baseline. */
    public static Monitor of(String metric) {
        return new Monitor(metric, Mode.AUTO, 0, 0, Double.NaN);
    }

    public Monitor mode(Mode m) {
        return new Monitor(metric, m, minDelta, patience, baseline);
    }

    public Monitor minDelta(double d) {
        return new Monitor(metric, mode, d, patience, baseline);
    }

    public Monitor patience(int p) {
        return new Monitor(metric, mode, minDelta, p, baseline);
    }

    /** A value the metric must beat before an epoch resets the patience count (Keras' {@code baseline}). */
    public Monitor baseline(double b) {
        return new Monitor(metric, mode, minDelta, patience, b);
    }

    /** The direction in effect: the given mode, or the metric's declared one. */
    public boolean higherIsBetter() {
        return switch (mode) {
            case MAX -> true;
            case MIN -> false;
            case AUTO -> Metric.byName(metric).orElseThrow(() -> new IllegalArgumentException("'" + metric
                    + "' is not a metric the trainer records (" + Metric.columnNames() + "), so its direction is unknown: "
                    + "give the mode, e.g. Monitor.of(\"" + metric + "\").mode(Monitor.Mode.MAX)")).higherIsBetter();
        };
    }

    /** Whether {@code value} is better than {@code reference} by more than min_delta (Keras' {@code _is_improvement}). */
    public boolean improves(double value, double reference) {
        if (Double.isNaN(value)) {
            return false;
        }
        return higherIsBetter() ? value - minDelta > reference : value + minDelta < reference;
    }

    /** The worst possible value, where "best so far" starts. */
    public double worst() {
        return higherIsBetter() ? Double.NEGATIVE_INFINITY : Double.POSITIVE_INFINITY;
    }

    /** The metric's value in an epoch's row; a clear error if the epoch did not record it. */
    public double valueIn(Map<String, Double> epochMetrics) {
        Double v = epochMetrics.get(metric);
        if (v == null) {
            throw new IllegalArgumentException("the monitor watches '" + metric + "' but the epoch recorded only "
                    + epochMetrics.keySet() + (metric.startsWith(Metric.VALIDATION_PREFIX) ? " (is there validation data?)" : ""));
        }
        return v;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(metric).append(' ').append(higherIsBetter() ? "max" : "min");
        if (minDelta > 0) {
            sb.append(String.format(Locale.ROOT, ", min_delta %s", minDelta));
        }
        if (patience > 0) {
            sb.append(", patience ").append(patience);
        }
        if (!Double.isNaN(baseline)) {
            sb.append(String.format(Locale.ROOT, ", baseline %s", baseline));
        }
        return sb.toString();
    }
}

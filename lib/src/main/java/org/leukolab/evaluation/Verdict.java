package org.leukolab.evaluation;

import java.util.List;
import java.util.Locale;

/**
 * What a reproduced number says about a published one, by rules written here once (the reviewer's page prints
 * {@link #RULES} beside its verdicts):
 *
 * <ul>
 *   <li><b>not run</b>: no result is saved for it.</li>
 *   <li><b>not comparable here</b>, with the reason, when the result cannot stand for the published number: it was
 *       computed in the quick profile (a CI subset); it is our own analysis, not the report's protocol; it was measured
 *       on another set than the published number (training, validation or test); it was computed on a sample of the
 *       report's data; or its backbone started from random weights because the ImageNet file is not installed.</li>
 *   <li><b>reproduced</b>: the published value lies inside the reproduction's 95% bootstrap interval, or, for a number
 *       without an interval (a training accuracy), within {@value #TOLERANCE} percentage points, or, for a run repeated
 *       over seeds, inside the seeds' range (reproduced within the run-to-run spread).</li>
 *   <li><b>differs</b>: otherwise, with the difference (ours minus published) and the interval.</li>
 * </ul>
 *
 * A stand-in dataset or a substitute backbone (both labelled) still counts as comparable, and the verdict says so.
 * A corrected protocol is compared the same way but is never the verdict on the published number: it is shown as the
 * corrected value beside it ({@link Kind#CORRECTED}). A row without a published number gets {@link Kind#NO_PUBLISHED}.
 */
public record Verdict(Kind kind, String reason, double difference) {
    /** Percentage points within which a number without an interval counts as reproduced. */
    public static final double TOLERANCE = 1.0;

    public static final List<String> RULES = List.of(
            "reproduced: the published value lies inside the reproduction's 95% bootstrap interval (for a number without "
                    + "an interval, such as a training accuracy: within " + TOLERANCE + " percentage points), or, where the run "
                    + "was repeated over seeds, inside the range of the seeds (reproduced within the run-to-run spread)",
            "differs: outside it; the difference (ours minus published) and the interval are given",
            "not comparable here: quick profile (a CI subset); our own analysis; measured on another set than the "
                    + "published number; a sample of the report's data; or a backbone from random weights (its ImageNet "
                    + "file is not on these machines)",
            "not run: no result is saved",
            "a labelled stand-in dataset or substitute backbone still counts as comparable, and the verdict says so; a "
                    + "corrected protocol is shown beside the published number, never as its reproduction");

    public enum Kind {
        REPRODUCED("reproduced"), DIFFERS("differs"), NOT_COMPARABLE("not comparable here"), NOT_RUN("not run"),
        CORRECTED("corrected protocol"), NO_PUBLISHED("no published number");

        private final String words;

        Kind(String words) {
            this.words = words;
        }

        public String words() {
            return words;
        }
    }

    /**
     * The verdict on one row.
     *
     * @param published   the published value (%), NaN when the report published none
     * @param reproduced  ours (%), NaN when not run
     * @param low         the 95% interval's low end (%), NaN when there is none
     * @param high        its high end (%)
     * @param labels      the result's recorded labels, null when it has none
     * @param profile     the result's profile ({@code quick} or {@code full})
     * @param measuredOn  the set ours was measured on
     * @param publishedOn the set the published number was measured on
     * @param images      images the result was scored on (for the reason given for a sample)
     */
    public static Verdict of(double published, double reproduced, double low, double high, Labels labels, String profile,
                             String measuredOn, String publishedOn, long images) {
        return of(published, reproduced, low, high, labels, profile, measuredOn, publishedOn, images, Double.NaN, Double.NaN, 0);
    }

    /**
     * {@link #of} for a result repeated over seeds: {@code seedMin} and {@code seedMax} (in %) are the range of the
     * metric over {@code seeds} seeds (0 for a single run); a published value inside that range counts as reproduced
     * within the run-to-run spread even when it lies outside one run's bootstrap interval.
     */
    public static Verdict of(double published, double reproduced, double low, double high, Labels labels, String profile,
                             String measuredOn, String publishedOn, long images, double seedMin, double seedMax, int seeds) {
        if (Double.isNaN(reproduced)) {
            return new Verdict(Kind.NOT_RUN, "no result saved", Double.NaN);
        }
        if (Double.isNaN(published)) {
            return new Verdict(Kind.NO_PUBLISHED, "the report did not score this", Double.NaN);
        }
        double diff = reproduced - published;
        if (labels == null) {
            return new Verdict(Kind.NOT_COMPARABLE, "the result carries no labels (protocol, data, weights)", diff);
        }
        if ("quick".equals(profile)) {
            return new Verdict(Kind.NOT_COMPARABLE, "quick profile (a CI subset)", diff);
        }
        if (labels.protocol().equals(Labels.Protocol.OURS.words())) {
            return new Verdict(Kind.NOT_COMPARABLE, "our own analysis, not the report's protocol", diff);
        }
        if (publishedOn != null && !publishedOn.equals(measuredOn)) {
            return new Verdict(Kind.NOT_COMPARABLE, "published on the " + publishedOn + " set, ours on the " + measuredOn + " set", diff);
        }
        if (labels.data().contains("sample")) {
            return new Verdict(Kind.NOT_COMPARABLE, String.format(Locale.ROOT, "computed on a sample (%,d images scored), "
                    + "not the report's data", images), diff);
        }
        if (labels.weights().equals(Labels.Weights.RANDOM.words())) {
            return new Verdict(Kind.NOT_COMPARABLE, "random-weight backbone: its ImageNet file is not on these machines", diff);
        }
        boolean inSpread = seeds >= 2 && seedMin <= published && published <= seedMax;
        boolean inside = inSpread || (Double.isNaN(low) ? Math.abs(diff) <= TOLERANCE : low <= published && published <= high);
        String how = Double.isNaN(low) ? String.format(Locale.ROOT, "%+.2f points (no interval; tolerance %.1f)", diff, TOLERANCE)
                : String.format(Locale.ROOT, "%+.2f points; 95%% interval [%.1f, %.1f]", diff, low, high);
        if (seeds >= 2) {
            how += String.format(Locale.ROOT, "; %d seeds range %.1f to %.1f%s", seeds, seedMin, seedMax,
                    inSpread ? ": within the run-to-run spread" : "");
        }
        String qualifier = (labels.data().contains("stand-in") ? "; on a stand-in dataset" : "")
                + (labels.weights().equals(Labels.Weights.IMAGENET_SUBSTITUTE.words()) ? "; substitute backbone" : "");
        if (labels.protocol().equals(Labels.Protocol.CORRECTED.words())) {
            return new Verdict(Kind.CORRECTED, how + qualifier, diff);
        }
        return new Verdict(inside ? Kind.REPRODUCED : Kind.DIFFERS, how + qualifier, diff);
    }

    /** True for a verdict that compares the published number with a reproduction (reproduced or differs). */
    public boolean comparable() {
        return kind == Kind.REPRODUCED || kind == Kind.DIFFERS;
    }
}

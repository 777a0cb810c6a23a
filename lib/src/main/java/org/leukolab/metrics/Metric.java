package org.leukolab.metrics;

import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/**
 * The numbers the trainer records for every epoch, each with the direction in which it gets better, so a
 * monitor never has to guess it from the name. In a history, a metric on the validation data carries the
 * prefix {@value #VALIDATION_PREFIX} ({@code val_f1}).
 */
public enum Metric {
    /** Mean categorical cross-entropy (with class weights, the weighted loss the optimiser saw). */
    LOSS("loss", false, "cross-entropy loss"),
    /** Share of examples whose most probable class is the true one. */
    ACCURACY("accuracy", true, "accuracy"),
    /** Macro-averaged F1: every class counts the same, however rare (report 003's headline metric). */
    F1("f1", true, "macro F1"),
    /** F1 averaged with each class weighted by its number of examples. */
    WEIGHTED_F1("weighted_f1", true, "weighted F1"),
    /** Macro-averaged one-vs-rest area under the ROC curve, from the class probabilities (MedMNIST's AUC). */
    AUC("auc", true, "macro AUC (one-vs-rest)");

    /** Prefix of metrics measured on the validation data. */
    public static final String VALIDATION_PREFIX = "val_";

    private final String key;
    private final boolean higherIsBetter;
    private final String title;

    Metric(String key, boolean higherIsBetter, String title) {
        this.key = key;
        this.higherIsBetter = higherIsBetter;
        this.title = title;
    }

    /** The column name in a history ({@code f1}); {@link #validationKey()} for the validation column. */
    public String key() {
        return key;
    }

    public String validationKey() {
        return VALIDATION_PREFIX + key;
    }

    /** True if larger values are better (accuracy, F1, AUC), false for the loss. */
    public boolean higherIsBetter() {
        return higherIsBetter;
    }

    public String title() {
        return title;
    }

    /** The metric behind a history column name, with or without {@code val_}; empty if it is not one of these. */
    public static Optional<Metric> byName(String column) {
        String k = column.toLowerCase(Locale.ROOT);
        String bare = k.startsWith(VALIDATION_PREFIX) ? k.substring(VALIDATION_PREFIX.length()) : k;
        return Arrays.stream(values()).filter(m -> m.key.equals(bare)).findFirst();
    }

    /** Every column name a history can hold for these metrics, training first, then validation. */
    public static List<String> columnNames() {
        List<String> out = new java.util.ArrayList<>();
        for (Metric m : values()) {
            out.add(m.key);
        }
        for (Metric m : values()) {
            out.add(m.validationKey());
        }
        return out;
    }
}

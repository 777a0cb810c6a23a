package org.leukolab.system;

import java.util.Locale;

/**
 * How much work a notebook does. {@code QUICK} runs on small stratified subsets with few epochs
 * (minutes on two cores, what CI runs); {@code FULL} follows the reports' protocols on all data.
 * Chosen without editing notebooks: the environment variable {@code LEUKOLAB_PROFILE}
 * ({@code quick} by default), set by {@code ./leukolab run --profile full}.
 */
public enum Profile {
    QUICK, FULL;

    public static Profile current() {
        String v = System.getenv("LEUKOLAB_PROFILE");
        if (v == null || v.isBlank()) {
            return QUICK;
        }
        try {
            return valueOf(v.trim().toUpperCase(Locale.ROOT));
        } catch (IllegalArgumentException e) {
            throw new IllegalStateException("LEUKOLAB_PROFILE=" + v + " is not a profile; use quick or full");
        }
    }

    public boolean isQuick() {
        return this == QUICK;
    }

    /**
     * Epochs to train: {@code wanted}, capped by the environment variable {@code LEUKOLAB_MAX_EPOCHS} when it
     * is set (for partial full-profile runs on slow machines, e.g. to measure the time per epoch).
     */
    public static int epochs(int wanted) {
        String cap = System.getenv("LEUKOLAB_MAX_EPOCHS");
        if (cap == null || cap.isBlank()) {
            return wanted;
        }
        try {
            return Math.max(1, Math.min(wanted, Integer.parseInt(cap.trim())));
        } catch (NumberFormatException e) {
            throw new IllegalStateException("LEUKOLAB_MAX_EPOCHS=" + cap + " is not a whole number");
        }
    }

    /** {@code quick} if this is the quick profile, else {@code full}: for choosing a knob in one line. */
    public <T> T pick(T quick, T full) {
        return this == QUICK ? quick : full;
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}

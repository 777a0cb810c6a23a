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

    /** {@code quick} if this is the quick profile, else {@code full}: for choosing a knob in one line. */
    public <T> T pick(T quick, T full) {
        return this == QUICK ? quick : full;
    }

    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}

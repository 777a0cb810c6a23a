package org.leukolab.notebook;

import java.util.Locale;
import java.util.Objects;

/**
 * Checks a notebook states and relies on: each one either passes quietly (returning the value, so a cell can
 * show it) or stops the notebook with a message that says what was expected and what was found. A notebook
 * never prints "DIFFERENT" and carries on.
 *
 * <pre>{@code
 * Check.equal("parameters (hand count in the table above)", net.numParams(), 87_245L);
 * Check.that(split.test().size() == 5_059, "test split has the report's 5,059 images");
 * }</pre>
 */
public final class Check {
    private Check() {}

    /** Passes if {@code actual} equals {@code expected}; otherwise stops with both values. */
    public static <T> T equal(String what, T actual, T expected) {
        if (!Objects.equals(actual, expected)) {
            throw new IllegalStateException(String.format(Locale.ROOT, "check failed: %s is %s, expected %s", what,
                    show(actual), show(expected)));
        }
        System.out.println(String.format(Locale.ROOT, "check passed: %s = %s", what, show(actual)));
        return actual;
    }

    /** Passes if the condition holds; otherwise stops with the statement that was expected to be true. */
    public static void that(boolean condition, String statement) {
        if (!condition) {
            throw new IllegalStateException("check failed: expected " + statement);
        }
        System.out.println("check passed: " + statement);
    }

    /** Passes if {@code actual} is within {@code tolerance} of {@code expected}. */
    public static double near(String what, double actual, double expected, double tolerance) {
        if (!(Math.abs(actual - expected) <= tolerance)) {
            throw new IllegalStateException(String.format(Locale.ROOT, "check failed: %s is %s, expected %s within %s", what,
                    actual, expected, tolerance));
        }
        System.out.println(String.format(Locale.ROOT, "check passed: %s = %s (expected %s within %s)", what, actual, expected, tolerance));
        return actual;
    }

    private static String show(Object o) {
        return o instanceof Long || o instanceof Integer ? String.format(Locale.ROOT, "%,d", ((Number) o).longValue()) : String.valueOf(o);
    }
}

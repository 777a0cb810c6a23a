package org.leukolab.notebook;

import java.util.Map;
import java.util.function.BiConsumer;
import java.util.function.Function;

/**
 * The link between the library and the Jupyter kernel. The leukolab kernel's start-up script calls
 * {@link #attach} with the kernel's display functions; outside a notebook (tests, command-line runs)
 * nothing is attached and the library prints plain text instead.
 *
 * <p>Displays are MIME bundles: {@code text/plain}, {@code text/html}, {@code image/png} (base64).
 */
public final class Notebook {
    private static volatile Function<Map<String, Object>, String> display;
    private static volatile BiConsumer<String, Map<String, Object>> update;

    private Notebook() {}

    /** Called once by the kernel start-up script. */
    public static void attach(Function<Map<String, Object>, String> displayFn,
                              BiConsumer<String, Map<String, Object>> updateFn) {
        display = displayFn;
        update = updateFn;
    }

    public static boolean attached() {
        return display != null;
    }

    /**
     * Shows a bundle below the running cell and returns its display id (for {@link #update}); outside
     * a notebook prints its text form and returns null.
     */
    public static String show(Map<String, Object> bundle) {
        Function<Map<String, Object>, String> d = display;
        if (d == null) {
            Object text = bundle.get("text/plain");
            if (text != null) {
                System.out.println(text);
            }
            return null;
        }
        return d.apply(bundle);
    }

    /** Shows anything with a rich form. */
    public static String show(Rich rich) {
        return show(rich.mimeBundle());
    }

    /** Replaces a display in place (no-op outside a notebook or for a null id). */
    public static void update(String id, Map<String, Object> bundle) {
        BiConsumer<String, Map<String, Object>> u = update;
        if (u != null && id != null) {
            u.accept(id, bundle);
        }
    }
}

package org.leukolab.notebook;

import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * A progress bar for long work: in a notebook one display updated in place (a few times a second);
 * elsewhere plain lines on standard error, at most one every 10% or 30 seconds, so logs stay short.
 * Safe to advance from several threads.
 *
 * <pre>{@code
 * try (Progress p = Progress.start("decoding", n, "img")) {
 *     for (...) { ...; p.step(); }
 * }
 * }</pre>
 */
public final class Progress implements AutoCloseable {
    private static final long NOTEBOOK_INTERVAL_NS = 250_000_000L;
    private static final long LOG_INTERVAL_NS = 30_000_000_000L;

    private final String task;
    private final long total;
    private final String unit;
    private final boolean notebook;
    private final PrintStream log;
    private final long startNs = System.nanoTime();
    private final AtomicLong done = new AtomicLong();
    private final ReentrantLock renderLock = new ReentrantLock();
    private volatile String status = "";
    private String displayId;
    private long lastRenderNs;
    private long lastLoggedTenth = -1;
    private boolean closed;

    private Progress(String task, long total, String unit, boolean notebook, PrintStream log) {
        this.task = task;
        this.total = total;
        this.unit = unit;
        this.notebook = notebook;
        this.log = log;
    }

    /** Starts a bar for {@code total} units of work ({@code total <= 0}: unknown). */
    public static Progress start(String task, long total, String unit) {
        Progress p = new Progress(task, total, unit, Notebook.attached(), System.err);
        p.render(true);
        return p;
    }

    /** A bar that writes plain lines to the given stream (for tests and command-line tools). */
    public static Progress toStream(String task, long total, String unit, PrintStream out) {
        Progress p = new Progress(task, total, unit, false, out);
        p.render(true);
        return p;
    }

    public void step() {
        step(1);
    }

    public void step(long n) {
        done.addAndGet(n);
        render(false);
    }

    /** Extra text shown after the counts, e.g. {@code "loss 0.412  acc 0.873"}. */
    public void status(String text) {
        status = text == null ? "" : text;
        render(false);
    }

    public long done() {
        return done.get();
    }

    /** Renders the final state (with the total time) and stops updating. */
    @Override
    public void close() {
        renderLock.lock();
        try {
            if (!closed) {
                closed = true;
                draw(true);
            }
        } finally {
            renderLock.unlock();
        }
    }

    private void render(boolean force) {
        if (!force && !renderLock.tryLock()) {
            return; // another thread is drawing; the next step will catch up
        }
        if (force) {
            renderLock.lock();
        }
        try {
            if (closed) {
                return;
            }
            long now = System.nanoTime();
            if (notebook) {
                if (force || now - lastRenderNs >= NOTEBOOK_INTERVAL_NS) {
                    lastRenderNs = now;
                    draw(false);
                }
            } else {
                long tenth = total > 0 ? done.get() * 10 / total : -1;
                if (force || (total > 0 && tenth > lastLoggedTenth) || now - lastRenderNs >= LOG_INTERVAL_NS) {
                    lastRenderNs = now;
                    lastLoggedTenth = Math.max(lastLoggedTenth, tenth);
                    draw(false);
                }
            }
        } finally {
            renderLock.unlock();
        }
    }

    private void draw(boolean finished) {
        String text = line(finished);
        if (notebook) {
            Map<String, Object> bundle = new LinkedHashMap<>();
            bundle.put("text/plain", text);
            bundle.put("text/html", html(finished));
            if (displayId == null) {
                displayId = Notebook.show(bundle);
            } else {
                Notebook.update(displayId, bundle);
            }
        } else {
            log.println(text);
            log.flush();
        }
    }

    /** The text form, e.g. {@code decoding  45% |#########           | 4500/9957 img [0:12<0:15, 380.2 img/s]}. */
    String line(boolean finished) {
        long d = done.get();
        double elapsed = (System.nanoTime() - startNs) / 1e9;
        StringBuilder sb = new StringBuilder(task).append(' ');
        if (total > 0) {
            double frac = Math.min(1.0, (double) d / total);
            int filled = (int) Math.round(frac * 20);
            sb.append(String.format(Locale.ROOT, "%3d%% |", (int) Math.floor(frac * 100)))
              .append("#".repeat(filled)).append(" ".repeat(20 - filled)).append("| ")
              .append(d).append('/').append(total);
        } else {
            sb.append(d);
        }
        sb.append(' ').append(unit).append(" [").append(clock(elapsed));
        double rate = elapsed > 0 ? d / elapsed : 0;
        if (finished) {
            sb.append(", done");
        } else if (total > 0 && rate > 0) {
            sb.append('<').append(clock((total - d) / rate));
        }
        sb.append(String.format(Locale.ROOT, ", %.1f %s/s]", rate, unit));
        if (!status.isEmpty()) {
            sb.append("  ").append(status);
        }
        return sb.toString();
    }

    private String html(boolean finished) {
        long d = done.get();
        String bar = total > 0
                ? String.format(Locale.ROOT, "<progress value='%d' max='%d' style='width:30em'></progress> ", d, total)
                : "";
        return "<div style='font-family:monospace'>" + bar + escape(line(finished)) + "</div>";
    }

    static String clock(double seconds) {
        long s = Math.max(0, Math.round(seconds));
        return s >= 3600 ? String.format(Locale.ROOT, "%d:%02d:%02d", s / 3600, s / 60 % 60, s % 60)
                         : String.format(Locale.ROOT, "%d:%02d", s / 60, s % 60);
    }

    static String escape(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;");
    }
}

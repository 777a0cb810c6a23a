package org.leukolab.compare;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.leukolab.notebook.Rich;
import org.leukolab.notebook.Tables;
import org.leukolab.plots.Figure;

/**
 * One audit of a comparison's data, in plain language: what was checked ({@code name}), how it came out
 * ({@link Level}), a one-sentence {@code verdict}, the facts behind it ({@code details}) and, where pictures say it
 * better, a montage of examples ({@code figure}, may be null).
 */
public record Audit(String name, Level level, String verdict, List<String> details, Figure figure) implements Rich {
    /** How an audit came out. */
    public enum Level {
        /** Nothing found that changes the comparison. */
        OK("ok"),
        /** Something to know; the comparison handles it and says how. */
        WARNING("warning"),
        /** Something that biases the comparison unless acted on; the verdict says what was done or what to do. */
        PROBLEM("problem");

        private final String words;

        Level(String words) {
            this.words = words;
        }

        public String words() {
            return words;
        }
    }

    public Audit {
        details = List.copyOf(details);
    }

    /** The audit as a map for the comparison's JSON (the figure as a base64 PNG). */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", name);
        m.put("level", level.words());
        m.put("verdict", verdict);
        m.put("details", details);
        if (figure != null) {
            m.put("figure_title", figure.title());
            m.put("figure_png_base64", java.util.Base64.getEncoder().encodeToString(figure.pngBytes()));
        }
        return m;
    }

    @Override
    public String toString() {
        StringBuilder s = new StringBuilder(name).append(": ").append(level.words().toUpperCase(java.util.Locale.ROOT))
                .append(" - ").append(verdict);
        details.forEach(d -> s.append("\n  ").append(d));
        return s.toString();
    }

    @Override
    public Map<String, Object> mimeBundle() {
        String colour = switch (level) {
            case OK -> "#1b7a3a";
            case WARNING -> "#9a6700";
            case PROBLEM -> "#b42318";
        };
        StringBuilder h = new StringBuilder("<div><p><b>").append(Tables.escape(name)).append("</b>: <b style=\"color:")
                .append(colour).append("\">").append(level.words()).append("</b> &mdash; ").append(Tables.escape(verdict)).append("</p>");
        if (!details.isEmpty()) {
            h.append("<ul>");
            details.forEach(d -> h.append("<li>").append(Tables.escape(d)).append("</li>"));
            h.append("</ul>");
        }
        if (figure != null) {
            h.append("<img alt=\"").append(Tables.escape(figure.title())).append("\" src=\"data:image/png;base64,")
                    .append(java.util.Base64.getEncoder().encodeToString(figure.pngBytes())).append("\"/>");
        }
        return Map.of("text/plain", toString(), "text/html", h.append("</div>").toString());
    }

    /** Several audits shown together, problems first. */
    public record Summary(List<Audit> audits) implements Rich {
        @Override
        public String toString() {
            return String.join("\n", audits.stream().map(Audit::toString).toList());
        }

        @Override
        public Map<String, Object> mimeBundle() {
            StringBuilder h = new StringBuilder();
            audits.forEach(a -> h.append(a.mimeBundle().get("text/html")));
            return Map.of("text/plain", toString(), "text/html", h.toString());
        }
    }
}

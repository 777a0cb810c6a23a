package org.leukolab.evaluation;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The facts a result carries that decide what it may be compared with, recorded when the result is computed (by
 * {@link Experiment}) under {@code labels} in its JSON file, never read back from the wording of a title or a
 * configuration string: what protocol it follows, what weights its backbone had, what data it was computed on, which
 * set it was scored on, and the seed. The reviewer's page shows these and a test fails when a row's declared label
 * disagrees with its file ({@code ReviewerLabelsTest}).
 *
 * @param protocol     {@link Protocol}: as published, corrected, or our own analysis
 * @param weights      {@link Weights}: the report's own ImageNet backbone, a substitute, a random start, none
 * @param data         {@code full}, {@code sample}, {@code stand-in} or {@code sample + stand-in}
 * @param evaluatedOn  {@code training}, {@code validation} or {@code test}
 */
public record Labels(String protocol, String weights, String data, String evaluatedOn) {
    /** The key of the labels in a result file. */
    public static final String KEY = "labels";
    /** The key under which a run's extras carry its protocol kind ({@link Protocol#describe}). */
    public static final String PROTOCOL_KIND = "protocol_kind";
    public static final List<String> EVALUATED_ON = List.of("training", "validation", "test");
    public static final List<String> DATA = List.of("full", "sample", "stand-in", "sample + stand-in");

    public Labels {
        if (Protocol.of(protocol) == null) {
            throw new IllegalArgumentException("unknown protocol label '" + protocol + "'; one of "
                    + allWords(Protocol.values(), Protocol::words));
        }
        if (Weights.of(weights) == null) {
            throw new IllegalArgumentException("unknown weights label '" + weights + "'; one of "
                    + allWords(Weights.values(), Weights::words));
        }
        if (!DATA.contains(data)) {
            throw new IllegalArgumentException("unknown data label '" + data + "'; one of " + DATA);
        }
        if (!EVALUATED_ON.contains(evaluatedOn)) {
            throw new IllegalArgumentException("unknown evaluation set '" + evaluatedOn + "'; one of " + EVALUATED_ON);
        }
    }

    /** Whether a run follows the report's protocol, a corrected one, or is an analysis the report did not make. */
    public enum Protocol {
        AS_PUBLISHED("as published"),
        CORRECTED("corrected"),
        OURS("our analysis (not in the report)");

        private final String words;

        Protocol(String words) {
            this.words = words;
        }

        public String words() {
            return words;
        }

        /**
         * A run's extras saying what it follows: {@code protocol} (the description, in words) and {@code protocol_kind}
         * (this label), e.g. {@code Protocol.CORRECTED.describe("split first, then balance the training part")}.
         */
        public Map<String, Object> describe(String description) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("protocol", description);
            m.put(PROTOCOL_KIND, words);
            return m;
        }

        static Protocol of(String words) {
            return byWords(values(), Protocol::words, words);
        }
    }

    /** What the weights of a model's backbone were when training started. */
    public enum Weights {
        /** The report's own backbone with its real ImageNet weights (or a backbone used for itself, not standing in). */
        IMAGENET("ImageNet"),
        /** Real ImageNet weights of another, smaller backbone standing in for the report's (a labelled substitute). */
        IMAGENET_SUBSTITUTE("ImageNet, substitute backbone"),
        /** The report's backbone from a random start, because its ImageNet file is not installed: never a reproduction. */
        RANDOM("random (no ImageNet file)"),
        /** No backbone: a model trained from scratch (a forest, an MLP, a custom CNN). */
        NONE("none (trained from scratch)");

        private final String words;

        Weights(String words) {
            this.words = words;
        }

        public String words() {
            return words;
        }

        static Weights of(String words) {
            return byWords(values(), Weights::words, words);
        }
    }

    /** The constant whose words are {@code words}, or null. */
    private static <E> E byWords(E[] values, java.util.function.Function<E, String> words, String wanted) {
        return java.util.Arrays.stream(values).filter(v -> words.apply(v).equals(wanted)).findFirst().orElse(null);
    }

    private static <E> List<String> allWords(E[] values, java.util.function.Function<E, String> words) {
        return java.util.Arrays.stream(values).map(words).toList();
    }

    /** As stored in a result file. */
    public Map<String, Object> toMap() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("protocol", protocol);
        m.put("weights", weights);
        m.put("data", data);
        m.put("evaluated_on", evaluatedOn);
        return m;
    }

    /** From a result file's {@code labels} object (as {@link ResultStore#labels} reads it). */
    public static Labels fromMap(Map<String, String> m) {
        return new Labels(m.get("protocol"), m.get("weights"), m.get("data"), m.get("evaluated_on"));
    }
}

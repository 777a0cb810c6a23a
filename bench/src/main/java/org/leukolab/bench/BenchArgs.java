package org.leukolab.bench;

import java.util.LinkedHashMap;
import java.util.Map;

/** {@code key=value} command-line arguments of the benchmark mains. */
final class BenchArgs {
    private BenchArgs() {}

    static Map<String, String> parse(String[] args) {
        Map<String, String> m = new LinkedHashMap<>();
        for (String a : args) {
            int eq = a.indexOf('=');
            if (eq <= 0) {
                throw new IllegalArgumentException("arguments are key=value, got '" + a + "'");
            }
            m.put(a.substring(0, eq), a.substring(eq + 1));
        }
        return m;
    }
}

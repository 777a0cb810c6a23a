package org.leukolab.compare;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * {@code ./leukolab compare DIR [options]}: the comparison of {@link ModelComparison} run headless, printing what the
 * notebook shows and writing {@code compare.json} (the script then renders {@code index.html} beside it). A bad
 * argument or a folder that cannot be compared ends with a one-paragraph message and exit status 2.
 */
public final class CompareCommand {
    static final String USAGE = """
            ./leukolab compare DIR [--second DIR2 [--map 'class2=class,...']] [--size N] [--budget MIN] [--out DIR]
                               [--models heads,random-forest,ensemble,small-cnn,fine-tune,repeats] [--seeds 1,2,3]
                               [--split auto|stratified|grouped] [--remove-outliers] [--profile quick|full]
            DIR holds one folder of images per class. Defaults: --size 96, every model, the profile's seeds, a budget of
            10 minutes (quick) or 120 (full), --out build/compare/<DIR's name>, --split auto (grouped when near-copies
            would cross a stratified split).""";

    private CompareCommand() {}

    public static void main(String[] args) {
        ModelComparison cmp;
        try {
            cmp = ModelComparison.prepare(parse(args)); // what the user can fix: arguments, the folder's layout and classes
        } catch (IllegalArgumentException | org.leukolab.data.DatasetException e) {
            System.err.println("leukolab compare: " + e.getMessage());
            System.exit(2);
            return;
        }
        System.out.println(cmp.audits());
        System.out.println(cmp.run().print());
        cmp.pairs().forEach(p -> System.out.println(p.nameA() + " vs " + p.nameB() + ": " + p.verdict() + String.format(
                java.util.Locale.ROOT, " (McNemar p = %.3g)", p.pValue())));
        if (!cmp.spread().isEmpty()) {
            System.out.println(cmp.spread().print());
        }
        cmp.pairedSeeds().ifPresent(System.out::println);
        cmp.dropped().forEach(d -> System.out.println("left out: " + d.model() + ": " + d.reason()));
        System.out.println("written: " + cmp.write());
        System.exit(0);
    }

    /** The settings the arguments give (on top of {@link ModelComparison.Settings#of}). */
    static ModelComparison.Settings parse(String[] args) {
        List<String> a = new ArrayList<>(Arrays.asList(args));
        if (a.isEmpty() || a.contains("--help") || a.contains("-h")) {
            throw new IllegalArgumentException(a.isEmpty() ? "give the folder of images to compare on.\n" + USAGE : USAGE);
        }
        String dir = a.remove(0);
        if (dir.startsWith("--")) {
            throw new IllegalArgumentException("the first argument is the folder of images (got " + dir + ").\n" + USAGE);
        }
        ModelComparison.Settings s = ModelComparison.Settings.of(Path.of(dir));
        Path second = null;
        Map<String, String> mapping = new LinkedHashMap<>();
        while (!a.isEmpty()) {
            String opt = a.remove(0);
            if (opt.equals("--remove-outliers")) {
                s = s.removeOutliers(true);
                continue;
            }
            if (a.isEmpty()) {
                throw new IllegalArgumentException(opt + " needs a value.\n" + USAGE);
            }
            String v = a.remove(0);
            switch (opt) {
                case "--second" -> second = Path.of(v);
                case "--map" -> {
                    for (String pair : v.split(",")) {
                        String[] kv = pair.split("=", 2);
                        if (kv.length != 2 || kv[0].isBlank() || kv[1].isBlank()) {
                            throw new IllegalArgumentException("--map takes class2=class pairs separated by commas (got '" + pair + "')");
                        }
                        mapping.put(kv[0].trim(), kv[1].trim());
                    }
                }
                case "--size" -> s = s.size(number(opt, v));
                case "--budget" -> s = s.budgetMinutes(positive(opt, v));
                case "--out" -> s = s.out(Path.of(v));
                case "--models" -> s = s.models(Arrays.stream(v.split(",")).map(ModelComparison.Model::of)
                        .toArray(ModelComparison.Model[]::new));
                case "--seeds" -> s = s.seeds(Arrays.stream(v.split(",")).map(x -> (long) number("--seeds", x.trim())).toList());
                case "--split" -> {
                    try {
                        s = s.split(ModelComparison.SplitChoice.valueOf(v.toUpperCase(java.util.Locale.ROOT)));
                    } catch (IllegalArgumentException e) {
                        throw new IllegalArgumentException("--split is auto, stratified or grouped (got " + v + ")");
                    }
                }
                default -> throw new IllegalArgumentException("unknown option " + opt + ".\n" + USAGE);
            }
        }
        if (!mapping.isEmpty() && second == null) {
            throw new IllegalArgumentException("--map renames the classes of a second source: give it with --second DIR2");
        }
        return second == null ? s : s.secondSource(second, mapping);
    }

    private static int number(String opt, String v) {
        try {
            return Integer.parseInt(v);
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException(opt + " takes a whole number (got " + v + ")");
        }
    }

    private static double positive(String opt, String v) {
        try {
            double d = Double.parseDouble(v);
            if (d > 0) {
                return d;
            }
        } catch (NumberFormatException e) {
            // fall through to the message
        }
        throw new IllegalArgumentException(opt + " takes a positive number of minutes (got " + v + ")");
    }
}

package org.leukolab.evaluation;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import org.leukolab.data.ImageIndex;
import org.leukolab.data.ImageRecord;
import org.leukolab.notebook.Rich;
import org.leukolab.notebook.Tables;
import org.nd4j.linalg.api.ndarray.INDArray;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.IntColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Finds images that are not what the rest of a dataset is, from embeddings of a pretrained backbone, with three
 * rules that each say why an image is flagged:
 *
 * <ol>
 *   <li><b>One picture, several labels.</b> Images whose embeddings are near-identical (cosine similarity at least
 *       {@code duplicateSimilarity}, joined directly or through others) are the same picture; if such a group carries
 *       more than one label, every image of it is flagged: a cell cannot be two cell types, so the picture was put into
 *       the set, not photographed for it.</li>
 *   <li><b>Far from everything else.</b> Each image's distance from the coordinate-wise median of all the
 *       (L2-normalised) embeddings is turned into a robust z-score, {@code (d - median(d)) / (1.4826 MAD(d))}, the
 *       "modified z-score" of Iglewicz and Hoaglin; above {@code zThreshold} (3.5 by their rule of thumb) the image is
 *       flagged. The median and MAD are not pulled by the outliers as long as they are a minority of the whole set,
 *       even when they are most of one class (a mean or a per-class centre would be).</li>
 *   <li><b>A cluster whose members carry many labels.</b> Similar pictures (crops of one photograph, say) filed under
 *       every class are neither copies nor necessarily far from the cells. What gives them away is that their labels
 *       mean nothing: among an image's {@value #NEIGHBOURS} nearest neighbours, the share with its own label
 *       ("agreement") is about what labels drawn at random would give. For each image the agreement is averaged over
 *       it and its neighbours; an image is a candidate when that average is at most {@value #CHANCE_MULTIPLE} times
 *       the chance agreement (the sum of the squared class shares) and its neighbourhood holds at least half the
 *       classes (and at least 3). It is flagged when at least half of its neighbours are candidates too: a cluster,
 *       not one cell between two classes. Real cells of similar classes share neighbourhoods with two or three labels,
 *       and their neighbours' own neighbourhoods mostly agree, so they stay well above that line (measured on
 *       {@code pbc96-standin}: no cell flagged by this rule; a group of crops of one picture spread over all eight
 *       classes, 16 to 200 of them, found whole).</li>
 * </ol>
 *
 * None of the rules looks at file names or at any list of known outliers; {@link Result#score(Set)} compares the flags
 * with such a list afterwards.
 */
public final class Outliers {
    /** Iglewicz and Hoaglin's cut-off for the modified z-score. */
    public static final double Z_THRESHOLD = 3.5;
    /** Cosine similarity at which two embeddings are taken for the same picture. */
    public static final double DUPLICATE_SIMILARITY = 0.995;
    /** Neighbours per image for the cross-label cluster rule. */
    public static final int NEIGHBOURS = 10;
    /** A neighbourhood's label agreement at most this multiple of chance makes its image a candidate. */
    public static final double CHANCE_MULTIPLE = 2.0;

    private Outliers() {}

    /** The rules, each a reason an image can be flagged for. */
    public enum Rule {
        SAME_PICTURE_SEVERAL_LABELS("same picture, several labels"),
        FAR_FROM_THE_REST("far from the rest"),
        CLUSTER_OF_MANY_LABELS("cluster of many labels");

        private final String words;

        Rule(String words) {
            this.words = words;
        }

        @Override
        public String toString() {
            return words;
        }
    }

    /**
     * The detector's verdict on every image of an index: which rules flagged it ({@code rules[i]}, empty for an image
     * kept), its robust z-score (rule 2), the thresholds, and how many groups rules 1 and 3 found.
     */
    public record Result(ImageIndex index, List<Set<Rule>> rules, double[] robustZ, double zThreshold, double duplicateSimilarity,
                         int conflictingGroups, int manyLabelClusters) implements Rich {
        public boolean flagged(int i) {
            return !rules.get(i).isEmpty();
        }

        /** True when {@code rule} flagged image {@code i}. */
        public boolean flaggedBy(int i, Rule rule) {
            return rules.get(i).contains(rule);
        }

        public int count() {
            return (int) rules.stream().filter(r -> !r.isEmpty()).count();
        }

        /** How many images {@code rule} flagged (an image flagged by two rules counts for both). */
        public int count(Rule rule) {
            return (int) rules.stream().filter(r -> r.contains(rule)).count();
        }

        /** Positions of the flagged images, farthest first. */
        public int[] flaggedPositions() {
            List<Integer> f = new ArrayList<>();
            for (int i = 0; i < rules.size(); i++) {
                if (flagged(i)) {
                    f.add(i);
                }
            }
            f.sort((a, b) -> Double.compare(robustZ[b], robustZ[a]));
            return f.stream().mapToInt(Integer::intValue).toArray();
        }

        /** The index without the flagged images. */
        public ImageIndex kept() {
            return filter(false, " (outliers removed)");
        }

        /** The flagged images only. */
        public ImageIndex removed() {
            return filter(true, " (flagged as outliers)");
        }

        private ImageIndex filter(boolean wantFlagged, String suffix) {
            java.util.Set<java.nio.file.Path> f = new java.util.HashSet<>();
            for (int i = 0; i < rules.size(); i++) {
                if (flagged(i)) {
                    f.add(index.get(i).path());
                }
            }
            return index.filter(index.name() + suffix, r -> f.contains(r.path()) == wantFlagged);
        }

        /** Images per class before and after removal, and how many were flagged by each rule. */
        public Table counts() {
            Rule[] all = Rule.values();
            Map<String, int[]> m = new TreeMap<>();
            for (String c : index.classes()) {
                m.put(c, new int[all.length + 2]);
            }
            for (int i = 0; i < rules.size(); i++) {
                int[] c = m.get(index.get(i).label());
                c[0]++;
                for (Rule r : rules.get(i)) {
                    c[1 + r.ordinal()]++;
                }
                if (flagged(i)) {
                    c[all.length + 1]++;
                }
            }
            int[] total = new int[all.length + 2];
            m.values().forEach(v -> {
                for (int j = 0; j < v.length; j++) {
                    total[j] += v[j];
                }
            });
            m = new LinkedHashMap<>(m);
            m.put("all", total);
            StringColumn cls = StringColumn.create("class", List.copyOf(m.keySet()));
            Table t = Table.create(index.name() + ": outliers per class", cls,
                    IntColumn.create("images", m.values().stream().mapToInt(v -> v[0]).toArray()));
            for (Rule r : all) {
                t.addColumns(IntColumn.create(r.toString(), m.values().stream().mapToInt(v -> v[1 + r.ordinal()]).toArray()));
            }
            t.addColumns(IntColumn.create("flagged", m.values().stream().mapToInt(v -> v[all.length + 1]).toArray()),
                    IntColumn.create("kept", m.values().stream().mapToInt(v -> v[0] - v[all.length + 1]).toArray()));
            return t;
        }

        /**
         * The flags against a list of known outliers ({@code label/file} names, e.g. a stand-in's OUTLIERS.txt):
         * precision, recall, and the share of the other images flagged by mistake.
         */
        public Table score(Set<String> knownOutliers) {
            int tp = 0;
            int fp = 0;
            int fn = 0;
            int known = 0;
            for (int i = 0; i < rules.size(); i++) {
                ImageRecord r = index.get(i);
                boolean truth = knownOutliers.contains(r.label() + "/" + r.fileName());
                known += truth ? 1 : 0;
                if (flagged(i) && truth) {
                    tp++;
                } else if (flagged(i)) {
                    fp++;
                } else if (truth) {
                    fn++;
                }
            }
            int others = rules.size() - known;
            Map<String, Double> m = new LinkedHashMap<>();
            m.put("known outliers", (double) known);
            m.put("flagged", (double) (tp + fp));
            m.put("known outliers flagged (true positives)", (double) tp);
            m.put("known outliers missed", (double) fn);
            m.put("other images flagged (false positives)", (double) fp);
            m.put("precision", tp + fp == 0 ? Double.NaN : (double) tp / (tp + fp));
            m.put("recall", known == 0 ? Double.NaN : (double) tp / known);
            m.put("share of the other images flagged", others == 0 ? Double.NaN : (double) fp / others);
            return Tables.rounded(Table.create("the detector against the list of planted outliers",
                    StringColumn.create("measure", List.copyOf(m.keySet())),
                    DoubleColumn.create("value", m.values().stream().mapToDouble(Double::doubleValue).toArray())), 4);
        }

        @Override
        public String toString() {
            return String.format(Locale.ROOT, "%d of %d images flagged: %d by rule 1 (%d groups of one picture under several "
                    + "labels), %d by rule 2 (robust z-score above %.1f), %d by rule 3 (%d clusters of many labels)", count(),
                    rules.size(), count(Rule.SAME_PICTURE_SEVERAL_LABELS), conflictingGroups, count(Rule.FAR_FROM_THE_REST),
                    zThreshold, count(Rule.CLUSTER_OF_MANY_LABELS), manyLabelClusters);
        }

        @Override
        public Map<String, Object> mimeBundle() {
            return Map.of("text/plain", toString() + "\n" + counts().print(),
                    "text/html", "<p>" + Tables.escape(toString()) + "</p>" + Tables.html(counts(), 0));
        }
    }

    /** Flags the outliers among {@code index}'s images from their embeddings ({@code [n, d]} or {@code [n, c, 1, 1]}), in index order. */
    public static Result detect(INDArray embeddings, ImageIndex index) {
        return detect(embeddings, index, Z_THRESHOLD, DUPLICATE_SIMILARITY);
    }

    public static Result detect(INDArray embeddings, ImageIndex index, double zThreshold, double duplicateSimilarity) {
        NearDuplicates nd = NearDuplicates.of(embeddings);
        int n = nd.size();
        if (n != index.size()) {
            throw new IllegalArgumentException(n + " embeddings for " + index.size() + " images");
        }
        // rule 1: groups of one picture under several labels
        int[] group = nd.groups(duplicateSimilarity);
        Map<Integer, Set<String>> labels = new TreeMap<>();
        for (int i = 0; i < n; i++) {
            labels.computeIfAbsent(group[i], g -> new java.util.HashSet<>()).add(index.get(i).label());
        }
        boolean[] conflict = new boolean[n];
        int conflicting = (int) labels.values().stream().filter(s -> s.size() > 1).count();
        for (int i = 0; i < n; i++) {
            conflict[i] = labels.get(group[i]).size() > 1;
        }
        // rule 2: robust distance from the median embedding
        double[][] v = nd.vectors().toDoubleMatrix();
        int d = v[0].length;
        double[] median = new double[d];
        double[] col = new double[n];
        for (int j = 0; j < d; j++) {
            for (int i = 0; i < n; i++) {
                col[i] = v[i][j];
            }
            median[j] = median(col.clone());
        }
        double[] dist = new double[n];
        for (int i = 0; i < n; i++) {
            double s = 0;
            for (int j = 0; j < d; j++) {
                double q = v[i][j] - median[j];
                s += q * q;
            }
            dist[i] = Math.sqrt(s);
        }
        double md = median(dist.clone());
        double[] dev = new double[n];
        for (int i = 0; i < n; i++) {
            dev[i] = Math.abs(dist[i] - md);
        }
        double mad = 1.4826 * median(dev);
        double[] z = new double[n];
        NearDuplicates.Neighbours nb = n > NEIGHBOURS ? nd.kNearestWithin(NEIGHBOURS) : null;
        boolean[] cluster = manyLabelCluster(nb, index);
        List<Set<Rule>> rules = new ArrayList<>(n);
        for (int i = 0; i < n; i++) {
            z[i] = mad == 0 ? 0 : (dist[i] - md) / mad;
            Set<Rule> r = java.util.EnumSet.noneOf(Rule.class);
            if (conflict[i]) {
                r.add(Rule.SAME_PICTURE_SEVERAL_LABELS);
            }
            if (z[i] > zThreshold) {
                r.add(Rule.FAR_FROM_THE_REST);
            }
            if (cluster[i]) {
                r.add(Rule.CLUSTER_OF_MANY_LABELS);
            }
            rules.add(Set.copyOf(r));
        }
        return new Result(index, List.copyOf(rules), z, zThreshold, duplicateSimilarity, conflicting, clusters(nb, cluster));
    }

    /** Rule 3 (see the class comment): images in a cluster of near neighbours whose labels agree no better than chance. */
    static boolean[] manyLabelCluster(NearDuplicates.Neighbours nb, ImageIndex index) {
        int n = index.size();
        int classes = index.classes().size();
        boolean[] flagged = new boolean[n];
        int minLabels = Math.max(3, (classes + 1) / 2);
        if (nb == null || classes < minLabels) {
            return flagged;
        }
        int[] label = new int[n];
        double[] share = new double[classes];
        for (int i = 0; i < n; i++) {
            label[i] = index.classes().indexOf(index.get(i).label());
            share[label[i]] += 1.0 / n;
        }
        double chance = Arrays.stream(share).map(p -> p * p).sum();
        double[] agreement = new double[n];
        for (int i = 0; i < n; i++) {
            int same = 0;
            for (int j : nb.index()[i]) {
                same += label[j] == label[i] ? 1 : 0;
            }
            agreement[i] = (double) same / nb.index()[i].length;
        }
        boolean[] candidate = new boolean[n];
        for (int i = 0; i < n; i++) {
            double a = agreement[i];
            Set<Integer> seen = new java.util.HashSet<>();
            seen.add(label[i]);
            for (int j : nb.index()[i]) {
                a += agreement[j];
                seen.add(label[j]);
            }
            a /= nb.index()[i].length + 1;
            candidate[i] = a <= CHANCE_MULTIPLE * chance && seen.size() >= minLabels;
        }
        for (int i = 0; i < n; i++) {
            if (!candidate[i]) {
                continue;
            }
            int c = 0;
            for (int j : nb.index()[i]) {
                c += candidate[j] ? 1 : 0;
            }
            flagged[i] = 2 * c >= nb.index()[i].length;
        }
        return flagged;
    }

    /** Clusters among the images rule 3 flagged: groups joined by being among each other's neighbours. */
    private static int clusters(NearDuplicates.Neighbours nb, boolean[] flagged) {
        int n = flagged.length;
        boolean any = false;
        for (boolean f : flagged) {
            any |= f;
        }
        if (!any) {
            return 0;
        }
        int[] parent = new int[n];
        for (int i = 0; i < n; i++) {
            parent[i] = i;
        }
        for (int i = 0; i < n; i++) {
            if (flagged[i]) {
                for (int j : nb.index()[i]) {
                    if (flagged[j]) {
                        int a = NearDuplicates.find(parent, i);
                        int b = NearDuplicates.find(parent, j);
                        parent[Math.max(a, b)] = Math.min(a, b);
                    }
                }
            }
        }
        int count = 0;
        for (int i = 0; i < n; i++) {
            count += flagged[i] && NearDuplicates.find(parent, i) == i ? 1 : 0;
        }
        return count;
    }

    private static double median(double[] x) {
        Arrays.sort(x);
        int m = x.length / 2;
        return x.length % 2 == 1 ? x[m] : (x[m - 1] + x[m]) / 2;
    }
}

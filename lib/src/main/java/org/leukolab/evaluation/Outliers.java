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
 * Finds images that are not what the rest of a dataset is, from embeddings of a pretrained backbone, with two
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
 * </ol>
 *
 * Neither rule looks at file names or at any list of known outliers; {@link Result#score(Set)} compares the flags with
 * such a list afterwards.
 */
public final class Outliers {
    /** Iglewicz and Hoaglin's cut-off for the modified z-score. */
    public static final double Z_THRESHOLD = 3.5;
    /** Cosine similarity at which two embeddings are taken for the same picture. */
    public static final double DUPLICATE_SIMILARITY = 0.995;

    private Outliers() {}

    /** Why an image was flagged. */
    public enum Reason { NONE, SAME_PICTURE_SEVERAL_LABELS, FAR_FROM_THE_REST, BOTH }

    /** The detector's verdict on every image of an index. */
    public record Result(ImageIndex index, Reason[] reasons, double[] robustZ, double zThreshold, double duplicateSimilarity,
                         int conflictingGroups) implements Rich {
        public boolean flagged(int i) {
            return reasons[i] != Reason.NONE;
        }

        public int count() {
            return (int) Arrays.stream(reasons).filter(r -> r != Reason.NONE).count();
        }

        /** Positions of the flagged images, farthest first. */
        public int[] flaggedPositions() {
            List<Integer> f = new ArrayList<>();
            for (int i = 0; i < reasons.length; i++) {
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
            for (int i = 0; i < reasons.length; i++) {
                if (flagged(i)) {
                    f.add(index.get(i).path());
                }
            }
            return index.filter(index.name() + suffix, r -> f.contains(r.path()) == wantFlagged);
        }

        /** Images per class before and after removal, and how many were flagged by each rule. */
        public Table counts() {
            Map<String, int[]> m = new TreeMap<>();
            for (String c : index.classes()) {
                m.put(c, new int[4]);
            }
            for (int i = 0; i < reasons.length; i++) {
                int[] c = m.get(index.get(i).label());
                c[0]++;
                if (reasons[i] == Reason.SAME_PICTURE_SEVERAL_LABELS || reasons[i] == Reason.BOTH) {
                    c[1]++;
                }
                if (reasons[i] == Reason.FAR_FROM_THE_REST || reasons[i] == Reason.BOTH) {
                    c[2]++;
                }
                if (flagged(i)) {
                    c[3]++;
                }
            }
            StringColumn cls = StringColumn.create("class");
            IntColumn before = IntColumn.create("images");
            IntColumn dup = IntColumn.create("same picture, several labels");
            IntColumn far = IntColumn.create("far from the rest");
            IntColumn removed = IntColumn.create("flagged");
            IntColumn after = IntColumn.create("kept");
            int[] total = new int[4];
            m.forEach((k, v) -> {
                cls.append(k);
                before.append(v[0]);
                dup.append(v[1]);
                far.append(v[2]);
                removed.append(v[3]);
                after.append(v[0] - v[3]);
                for (int j = 0; j < 4; j++) {
                    total[j] += v[j];
                }
            });
            cls.append("all");
            before.append(total[0]);
            dup.append(total[1]);
            far.append(total[2]);
            removed.append(total[3]);
            after.append(total[0] - total[3]);
            return Table.create(index.name() + ": outliers per class", cls, before, dup, far, removed, after);
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
            for (int i = 0; i < reasons.length; i++) {
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
            int others = reasons.length - known;
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
            return String.format(Locale.ROOT, "%d of %d images flagged (%d groups of one picture under several labels; robust "
                    + "z-score above %.1f)", count(), reasons.length, conflictingGroups, zThreshold);
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
        Reason[] reasons = new Reason[n];
        for (int i = 0; i < n; i++) {
            z[i] = mad == 0 ? 0 : (dist[i] - md) / mad;
            boolean far = z[i] > zThreshold;
            reasons[i] = conflict[i] && far ? Reason.BOTH : conflict[i] ? Reason.SAME_PICTURE_SEVERAL_LABELS
                    : far ? Reason.FAR_FROM_THE_REST : Reason.NONE;
        }
        return new Result(index, reasons, z, zThreshold, duplicateSimilarity, conflicting);
    }

    private static double median(double[] x) {
        Arrays.sort(x);
        int m = x.length / 2;
        return x.length % 2 == 1 ? x[m] : (x[m - 1] + x[m]) / 2;
    }
}

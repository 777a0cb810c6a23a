package org.leukolab.augmentation;

import java.util.Random;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * CutMix (Yun et al., 2019): into every example a rectangle of another example of the batch (a random permutation) is
 * pasted, and the labels are mixed by area: {@code y = (1 - a) y_i + a y_j} with {@code a} the share of the image the
 * pasted rectangle covers. The rectangle has sides {@code sqrt(1 - lambda)} times the image's, with
 * {@code lambda ~ Beta(alpha, alpha)} per example, and a uniformly random centre; it is clipped at the borders, and the
 * label weight is computed from the rectangle as clipped, so it is always the pasted area exactly.
 */
public final class CutMix implements BatchTransform {
    private final double alpha;

    private CutMix(double alpha) {
        if (!(alpha > 0)) {
            throw new IllegalArgumentException("alpha must be positive, got " + alpha);
        }
        this.alpha = alpha;
    }

    /** CutMix with {@code Beta(alpha, alpha)} box sizes (KerasCV's default alpha is 1.0). */
    public static CutMix withAlpha(double alpha) {
        return new CutMix(alpha);
    }

    /** Where one example's pasted box is: rows {@code [top, bottom)} and columns {@code [left, right)}, and its partner. */
    record Box(int partner, int top, int bottom, int left, int right) {
        double area(int h, int w) {
            return (double) (bottom - top) * (right - left) / ((double) h * w);
        }
    }

    static Box[] boxes(int n, int h, int w, double alpha, Random random) {
        int[] partner = MixUp.permutation(n, random);
        double[] lambda = MixUp.betaSamples(n, alpha, random);
        Box[] out = new Box[n];
        for (int i = 0; i < n; i++) {
            double cut = Math.sqrt(1 - lambda[i]);
            int ch = (int) (h * cut);
            int cw = (int) (w * cut);
            int cy = random.nextInt(h);
            int cx = random.nextInt(w);
            out[i] = new Box(partner[i], Math.max(0, cy - ch / 2), Math.min(h, cy + ch / 2), Math.max(0, cx - cw / 2),
                    Math.min(w, cx + cw / 2));
        }
        return out;
    }

    @Override
    public DataSet apply(INDArray features, INDArray labels, Random random) {
        int n = (int) features.size(0);
        int h = (int) features.size(2);
        int w = (int) features.size(3);
        Box[] boxes = boxes(n, h, w, alpha, random);
        INDArray x = features.dup();
        INDArray y = labels.dup();
        for (int i = 0; i < n; i++) {
            Box b = boxes[i];
            if (b.bottom() > b.top() && b.right() > b.left()) {
                var idx = new org.nd4j.linalg.indexing.INDArrayIndex[] {NDArrayIndex.point(i), NDArrayIndex.all(),
                    NDArrayIndex.interval(b.top(), b.bottom()), NDArrayIndex.interval(b.left(), b.right())};
                var src = new org.nd4j.linalg.indexing.INDArrayIndex[] {NDArrayIndex.point(b.partner()), NDArrayIndex.all(),
                    NDArrayIndex.interval(b.top(), b.bottom()), NDArrayIndex.interval(b.left(), b.right())};
                x.get(idx).assign(features.get(src));
            }
            double a = b.area(h, w);
            y.getRow(i).assign(labels.getRow(i).mul(1 - a).addi(labels.getRow(b.partner()).mul(a)));
        }
        return new DataSet(x, y);
    }

    @Override
    public String id() {
        return "CutMix(alpha=" + alpha + ")";
    }

    @Override
    public String toString() {
        return id();
    }
}

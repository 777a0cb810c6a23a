package org.leukolab.training;

import java.nio.FloatBuffer;
import java.util.stream.IntStream;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.learning.AdamUpdater;
import org.nd4j.linalg.learning.config.Adam;

/**
 * ND4J's Adam step, computed in Java with the same float arithmetic as ND4J's native {@code adam_updater} operation,
 * except that a second moment that would fall below float's normal range (under {@link Float#MIN_NORMAL}, about
 * 1.2e-38) is held at zero.
 *
 * <p>Why: a network with vanishing gradients (report 001's EfficientNetB0 trained from a random start; the speed harness's
 * fine-tuning rows, which have no ImageNet weights here) has gradients of 1e-18 to 1e-33 in its early trainable layers,
 * whose squares are subnormal floats, and x86 processors compute with subnormal numbers tens of times more slowly. In
 * EfficientNetB0's fine-tuning step at 96x96, with half of the 4.0 million second moments subnormal, ND4J's operation
 * took 200-320 ms of a 780 ms step (against 13 ms on gradients of ordinary size). PyTorch's Adam sees the same
 * subnormal moments on the same network (measured with its own Adam on torchvision's EfficientNetB0).
 *
 * <p>Why the parameters stay the same: the update is {@code m * lrT / (sqrt(v) + epsilon)}, and the square root of a
 * subnormal second moment is below 1.1e-19, about a hundred billionth of epsilon (Keras' 1e-7, ND4J's 1e-8), far below
 * the last bit of epsilon in float: with the moment at zero the denominator, and so the update, is the same. Every other
 * value (first moments, second moments of normal size, the updates) is computed as ND4J computes it, operation by
 * operation in float. The tests compare updates and moments bit for bit with ND4J's operation, on gradients of ordinary
 * size and on gradients whose squares are subnormal, and a network trained with it against DL4J's own updater. An
 * epsilon below {@link #SMALLEST_EPSILON}, and arrays this code does not handle (not float, not contiguous vectors), go
 * to ND4J's operation.
 */
public final class DenormalSafeAdam extends AdamUpdater {
    /** Smallest epsilon handled here: against it the square root of a subnormal moment (below 1.1e-19) is lost in float. */
    static final double SMALLEST_EPSILON = 1e-12;
    /** Below this gradient magnitude the gradient's square is subnormal or zero: sqrt(Float.MIN_NORMAL). */
    private static final float GRADIENT_MIN = (float) Math.sqrt(Float.MIN_NORMAL);
    private static final int CHUNK = 4096;
    private static final int PARALLEL_FROM = 1 << 16;

    public DenormalSafeAdam(Adam config) {
        super(config);
    }

    /** An updater with {@code original}'s configuration and its state arrays (the same memory). */
    static DenormalSafeAdam sharing(AdamUpdater original) {
        DenormalSafeAdam a = new DenormalSafeAdam(original.getConfig());
        a.setM(original.getM());
        a.setV(original.getV());
        a.setGradientReshapeOrder(original.getGradientReshapeOrder());
        return a;
    }

    /** True if this updater computes the step itself; false if it hands it to ND4J's operation. */
    boolean handles(INDArray gradient) {
        INDArray m = getM();
        INDArray v = getV();
        return m != null && v != null && getConfig().getEpsilon() >= SMALLEST_EPSILON && flat(gradient) && flat(m) && flat(v)
                && m.length() == gradient.length() && v.length() == gradient.length() && gradient.length() < Integer.MAX_VALUE;
    }

    private static boolean flat(INDArray a) {
        return a.dataType() == DataType.FLOAT && a.elementWiseStride() == 1 && (a.rank() <= 1 || a.isVector() || a.isScalar());
    }

    @Override
    public void applyUpdater(INDArray gradient, int iteration, int epoch) {
        if (!handles(gradient)) {
            super.applyUpdater(gradient, iteration, epoch);
            return;
        }
        Adam c = getConfig();
        // the constants as ND4J's operation forms them (libnd4j's updaterAdam: T = float, some steps in double)
        float lr = (float) c.getLearningRate(iteration, epoch);
        float beta1 = (float) c.getBeta1();
        float beta2 = (float) c.getBeta2();
        float epsilon = (float) c.getEpsilon();
        float t = (float) iteration + 1f;
        float beta1T = (float) Math.pow(beta1, t);
        float beta2T = (float) Math.pow(beta2, t);
        float epsilonT = (float) ((double) (lr * (float) Math.sqrt((float) (1.0 - beta2T))) / (1.0 - beta1T));
        if (Float.isNaN(epsilonT) || epsilonT == 0f || Float.isInfinite(epsilonT)) {
            epsilonT = epsilon;
        }
        Step step = new Step(beta1, beta2, epsilon, epsilonT, gradient, getM(), getV());
        int n = (int) gradient.length();
        if (n < PARALLEL_FROM) {
            step.run(0, n);
        } else {
            int parts = Math.max(1, Math.min(java.util.concurrent.ForkJoinPool.getCommonPoolParallelism(), 8));
            IntStream.range(0, parts).parallel().forEach(p -> step.run((int) ((long) n * p / parts), (int) ((long) n * (p + 1) / parts)));
        }
    }

    /** One Adam step over elements [from, to) of the three arrays (the gradient becomes the update, in place). */
    private static final class Step {
        private final float beta1, beta2, oneMinusBeta1, oneMinusBeta2, epsilon, epsilonT, squareMin, momentMin;
        private final FloatBuffer g, m, v;
        private final int go, mo, vo;

        Step(float beta1, float beta2, float epsilon, float epsilonT, INDArray gradient, INDArray m, INDArray v) {
            this.beta1 = beta1;
            this.beta2 = beta2;
            this.oneMinusBeta1 = 1 - beta1;
            this.oneMinusBeta2 = 1 - beta2;
            this.epsilon = epsilon;
            this.epsilonT = epsilonT;
            this.squareMin = Float.MIN_NORMAL / oneMinusBeta2; // a smaller g*g times (1 - beta2) is subnormal
            this.momentMin = Float.MIN_NORMAL / beta2; // a smaller v times beta2 is subnormal
            this.g = gradient.data().asNioFloat();
            this.m = m.data().asNioFloat();
            this.v = v.data().asNioFloat();
            this.go = (int) gradient.offset();
            this.mo = (int) m.offset();
            this.vo = (int) v.offset();
        }

        void run(int from, int to) {
            float[] gs = new float[CHUNK];
            float[] ms = new float[CHUNK];
            float[] vs = new float[CHUNK];
            for (int start = from; start < to; start += CHUNK) {
                int len = Math.min(CHUNK, to - start);
                g.get(go + start, gs, 0, len);
                m.get(mo + start, ms, 0, len);
                v.get(vo + start, vs, 0, len);
                for (int k = 0; k < len; k++) {
                    float gk = gs[k];
                    // ND4J's operation is compiled with fused multiply-adds: m = fma(beta1, m, g * (1 - beta1)), and
                    // v = fma(beta2, v, g * g * (1 - beta2)) (found by comparing bits; Math.fma is the same instruction)
                    float mk = Math.fma(beta1, ms[k], gk * oneMinusBeta1);
                    float square = Math.abs(gk) < GRADIENT_MIN ? 0f : gk * gk;
                    float added = square < squareMin ? 0f : square * oneMinusBeta2;
                    float kept = vs[k] < momentMin ? 0f : vs[k];
                    float vk = Math.fma(beta2, kept, added);
                    ms[k] = mk;
                    vs[k] = vk;
                    gs[k] = (mk * epsilonT) / ((float) Math.sqrt(vk) + epsilon);
                }
                g.put(go + start, gs, 0, len);
                m.put(mo + start, ms, 0, len);
                v.put(vo + start, vs, 0, len);
            }
        }
    }
}

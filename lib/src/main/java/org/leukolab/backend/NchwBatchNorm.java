package org.leukolab.backend;

import java.nio.FloatBuffer;
import java.util.Map;
import java.util.stream.IntStream;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.normalization.BatchNormalizationHelper;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.memory.MemoryWorkspace;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Batch normalisation of float32 NCHW (or [batch, features]) arrays in plain Java, for DL4J's
 * {@code BatchNormalization} layer: two passes over the data forward (per-channel sums, then {@code x * s + t}) and two
 * backward (per-channel sums of the output gradient and of its product with the input, then the input gradient), each
 * contiguous channel plane copied in bulk and processed as a Java array, split over the cores by batch.
 *
 * <p>Why not oneDNN: for DL4J's plain NCHW arrays libnd4j's oneDNN helper ends up in oneDNN's generic
 * {@code ncsp_bnorm} code; its backward pass was the largest item of report 000's training step in oneDNN's own trace
 * (BENCHMARKS.md), tens of milliseconds for arrays of one to four million values, where this takes a few. Sums are
 * accumulated in float64. Like the other kernels {@link OneDnnLayers} installs, it is checked against a float64
 * computation on a real batch before it is used.
 *
 * <p>Training mode uses the batch's mean and (biased) variance and leaves them for the layer, which updates its
 * running averages from them ({@link #getMeanCache}, {@link #getVarCache}); inference uses the running values given.
 * Anything else (NHWC, other data types, locked gamma and beta) returns null: DL4J's own code then runs.
 */
public final class NchwBatchNorm implements BatchNormalizationHelper {
    private INDArray meanCache;
    private INDArray varCache;
    private double[] mean;
    private double[] var;

    @Override
    public boolean checkSupported(double eps, boolean lockGammaBeta) {
        return !lockGammaBeta;
    }

    @Override
    public boolean checkSupported() {
        return true;
    }

    @Override
    public INDArray preOutput(INDArray x, boolean training, long[] shape, INDArray gamma, INDArray beta, INDArray runningMean,
                              INDArray runningVar, double decay, double eps, CNN2DFormat format, LayerWorkspaceMgr mgr) {
        Geometry g = Geometry.of(x, format);
        if (g == null || gamma == null || beta == null || !Dnnl.plain(gamma) || !Dnnl.plain(beta)) {
            return null;
        }
        int c = g.channels;
        double[] m;
        double[] v;
        if (training) {
            double[][] sums = g.reduce(x, null, (plane, other, s) -> {
                double a = 0;
                double b = 0;
                for (float f : plane) {
                    a += f;
                    b += (double) f * f;
                }
                s[0] += a;
                s[1] += b;
            });
            m = new double[c];
            v = new double[c];
            double count = g.count();
            for (int k = 0; k < c; k++) {
                m[k] = sums[k][0] / count;
                v[k] = Math.max(0, sums[k][1] / count - m[k] * m[k]);
            }
            mean = m;
            var = v;
            try (MemoryWorkspace ws = Nd4j.getMemoryManager().scopeOutOfWorkspaces()) {
                meanCache = Nd4j.createFromArray(m).castTo(DataType.FLOAT);
                varCache = Nd4j.createFromArray(v).castTo(DataType.FLOAT);
            }
        } else {
            m = doubles(runningMean, c);
            v = doubles(runningVar, c);
        }
        double[] gm = doubles(gamma, c);
        double[] bt = doubles(beta, c);
        float[] s = new float[c];
        float[] t = new float[c];
        for (int k = 0; k < c; k++) {
            double scale = gm[k] / Math.sqrt(v[k] + eps);
            s[k] = (float) scale;
            t[k] = (float) (bt[k] - m[k] * scale);
        }
        INDArray y = mgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT, x.shape());
        g.map(x, null, y, (plane, other, k) -> {
            float a = s[k];
            float b = t[k];
            for (int i = 0; i < plane.length; i++) {
                plane[i] = plane[i] * a + b;
            }
        });
        return y;
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray x, INDArray dy, long[] shape, INDArray gamma, INDArray beta,
                                                     INDArray dGammaView, INDArray dBetaView, double eps, CNN2DFormat format,
                                                     LayerWorkspaceMgr mgr) {
        Geometry g = Geometry.of(x, format);
        if (g == null || mean == null || mean.length != g.channels || gamma == null || !Dnnl.plain(dGammaView)
                || !Dnnl.plain(dBetaView) || !dy.equalShapes(x)) {
            return null;
        }
        INDArray dyPlain = dy.dataType() == DataType.FLOAT && Dnnl.plain(dy) ? dy : dy.castTo(DataType.FLOAT).dup('c');
        int c = g.channels;
        double[] m = mean;
        double[][] sums = g.reduce(x, dyPlain, (plane, grad, k, s) -> {
            double mk = m[k];
            double a = 0;
            double b = 0;
            for (int i = 0; i < plane.length; i++) {
                a += grad[i];
                b += grad[i] * (plane[i] - mk);
            }
            s[0] += a;
            s[1] += b;
        });
        double[] gm = doubles(gamma, c);
        double count = g.count();
        float[] dGamma = new float[c];
        float[] dBeta = new float[c];
        float[] ca = new float[c];
        float[] cb = new float[c];
        float[] cd = new float[c];
        for (int k = 0; k < c; k++) {
            double inv = 1 / Math.sqrt(var[k] + eps);
            double dg = sums[k][1] * inv;
            double db = sums[k][0];
            dGamma[k] = (float) dg;
            dBeta[k] = (float) db;
            // dx = gamma * inv * (dy - db / count - (x - mean) * inv * dg / count) = a * dy + b * x + d
            double a = gm[k] * inv;
            double b = -a * inv * dg / count;
            ca[k] = (float) a;
            cb[k] = (float) b;
            cd[k] = (float) (-a * db / count - b * m[k]);
        }
        INDArray dx = mgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT, x.shape());
        g.map(x, dyPlain, dx, (plane, grad, k) -> {
            float a = ca[k];
            float b = cb[k];
            float d = cd[k];
            for (int i = 0; i < plane.length; i++) {
                plane[i] = a * grad[i] + b * plane[i] + d;
            }
        });
        dGammaView.assign(Nd4j.createFromArray(dGamma).reshape(dGammaView.shape()));
        dBetaView.assign(Nd4j.createFromArray(dBeta).reshape(dBetaView.shape()));
        Gradient out = new DefaultGradient();
        out.setGradientFor("gamma", dGammaView);
        out.setGradientFor("beta", dBetaView);
        return new Pair<>(out, dx);
    }

    @Override
    public INDArray getMeanCache(DataType dataType) {
        return meanCache == null ? null : meanCache.castTo(dataType);
    }

    @Override
    public INDArray getVarCache(DataType dataType) {
        return varCache == null ? null : varCache.castTo(dataType);
    }

    @Override
    public Map<String, Long> helperMemoryUse() {
        return Map.of();
    }

    private static final java.util.concurrent.atomic.AtomicLong SCALE_SHIFT_CALLS = new java.util.concurrent.atomic.AtomicLong();

    /** How many times {@link #scaleShift} was called (tests check that it stands aside off the CPU backend). */
    public static long scaleShiftCalls() {
        return SCALE_SHIFT_CALLS.get();
    }

    /**
     * {@code out = x * scale[c] + shift[c]} per channel {@code c} (no shift if {@code shift} is null) for a float32 NCHW or
     * [batch, features] array, in one pass: a frozen batch normalisation's forward pass ({@code FrozenBatchNorm}), and
     * with {@code shift} null its backward pass. Returns false, writing nothing, for any other array (the caller then
     * uses ND4J's broadcast operations, two passes).
     */
    public static boolean scaleShift(INDArray x, float[] scale, float[] shift, INDArray out) {
        SCALE_SHIFT_CALLS.incrementAndGet();
        if (ChannelScale.affine(x, scale, shift, out)) {
            return true; // oneDNN's binary kernels: the same values, several times the speed of the plane copies below
        }
        Geometry g = Geometry.of(x, CNN2DFormat.NCHW);
        if (g == null || !Dnnl.plain(out) || !out.equalShapes(x) || scale.length != g.channels
                || (shift != null && shift.length != g.channels)) {
            return false;
        }
        g.map(x, null, out, (plane, unused, k) -> {
            float a = scale[k];
            if (shift == null) {
                for (int i = 0; i < plane.length; i++) {
                    plane[i] = plane[i] * a;
                }
            } else {
                float b = shift[k];
                for (int i = 0; i < plane.length; i++) {
                    plane[i] = plane[i] * a + b;
                }
            }
        });
        return true;
    }

    private static double[] doubles(INDArray a, int n) {
        double[] d = a.castTo(DataType.DOUBLE).dup('c').data().asDouble();
        if (d.length != n) {
            throw new IllegalArgumentException("expected " + n + " values per channel, got " + d.length);
        }
        return d;
    }

    private interface Sum {
        void add(float[] plane, float[] other, int channel, double[] sums);
    }

    private interface SumOne {
        void add(float[] plane, float[] unused, double[] sums);
    }

    private interface Map1 {
        void apply(float[] plane, float[] other, int channel);
    }

    /** A float32 array seen as [batch, channels, plane] with contiguous planes (NCHW, or [batch, features] with planes of 1). */
    private record Geometry(int batch, int channels, int plane) {
        static Geometry of(INDArray x, CNN2DFormat format) {
            if (x.dataType() != DataType.FLOAT || !Dnnl.plain(x) || x.length() >= Integer.MAX_VALUE) {
                return null;
            }
            if (x.rank() == 4 && format == CNN2DFormat.NCHW) {
                return new Geometry((int) x.size(0), (int) x.size(1), (int) (x.size(2) * x.size(3)));
            }
            if (x.rank() == 2) {
                return new Geometry((int) x.size(0), (int) x.size(1), 1);
            }
            return null;
        }

        double count() {
            return (double) batch * plane;
        }

        private int parts() {
            return Math.max(1, Math.min(batch, Runtime.getRuntime().availableProcessors()));
        }

        private static FloatBuffer floats(INDArray a) {
            FloatBuffer b = a.data().asNioFloat();
            return b.position((int) a.offset()).slice();
        }

        /** Per-channel sums {@code [channels][2]} of {@code f} over every plane of {@code x} (and the same plane of {@code other}). */
        double[][] reduce(INDArray x, INDArray other, SumOne f) {
            return reduce(x, other, (plane, o, k, s) -> f.add(plane, o, s));
        }

        double[][] reduce(INDArray x, INDArray other, Sum f) {
            int parts = parts();
            double[][][] partial = new double[parts][channels][2];
            forEachPlane(x, other, parts, (p, at, k, plane, o) -> f.add(plane, o, k, partial[p][k]));
            double[][] out = new double[channels][2];
            for (double[][] p : partial) {
                for (int k = 0; k < channels; k++) {
                    out[k][0] += p[k][0];
                    out[k][1] += p[k][1];
                }
            }
            return out;
        }

        /** Writes {@code f(plane of x, plane of other)} into {@code out}, plane by plane. */
        void map(INDArray x, INDArray other, INDArray out, Map1 f) {
            int parts = parts();
            FloatBuffer[] yb = new FloatBuffer[parts];
            for (int p = 0; p < parts; p++) {
                yb[p] = floats(out);
            }
            forEachPlane(x, other, parts, (p, at, k, plane, o) -> {
                f.apply(plane, o, k);
                yb[p].put(at, plane);
            });
        }

        /**
         * Hands every (example, channel) plane of {@code x}, with the same plane of {@code other} when given, to
         * {@code v}, the examples split into {@code parts} ranges run in parallel; each part has its own buffers
         * (the float arrays are reused from plane to plane, so {@code v} must not keep them).
         */
        private void forEachPlane(INDArray x, INDArray other, int parts, PlaneVisitor v) {
            IntStream.range(0, parts).parallel().forEach(p -> {
                FloatBuffer xb = floats(x);
                FloatBuffer ob = other == null ? null : floats(other);
                float[] plane = new float[this.plane];
                float[] o = other == null ? null : new float[this.plane];
                for (int n = p * batch / parts; n < (p + 1) * batch / parts; n++) {
                    for (int k = 0; k < channels; k++) {
                        int at = (n * channels + k) * this.plane;
                        xb.get(at, plane);
                        if (ob != null) {
                            ob.get(at, o);
                        }
                        v.visit(p, at, k, plane, o);
                    }
                }
            });
        }
    }

    /** One plane: the part it belongs to, its offset, its channel, its values (and the other array's). */
    private interface PlaneVisitor {
        void visit(int part, int at, int channel, float[] plane, float[] other);
    }
}

package org.leukolab.backend;

import java.nio.FloatBuffer;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer;
import org.deeplearning4j.nn.params.DefaultParamInitializer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * A trainable dense layer with few weights (squeeze-and-excitation's reduce and expand layers, a classifier head's)
 * whose products are computed in plain Java, forward and backward; the activation stays DL4J's. On arrays this small
 * (32 x 672 by 672 x 28, say) DL4J's layer spends most of its time around the arithmetic: a broadcast for the bias, a
 * copy of the matrix product, the forward pass computed again for the backward pass, each an ND4J call (about 13% of
 * EfficientNetB0's fine-tuning step at 96x96 went to its 40 such layers). The same sums in another order, so the
 * results differ from DL4J's in the last bits; the network is checked against float64 with it (gradients included)
 * like every kernel. Layers with dropout, weight noise, layer normalisation or a mask, and arrays other than float,
 * stay with DL4J's code.
 */
final class SmallDenseLayer extends DenseLayer {
    private final int in;
    private final int out;
    private final float fault;

    private SmallDenseLayer(DenseLayer original, double fault) {
        super(original.conf(), original.getDataType());
        RuntimeLayers.copyState(original, this);
        this.fault = (float) fault;
        var c = (org.deeplearning4j.nn.conf.layers.DenseLayer) original.conf().getLayer();
        this.in = (int) c.getNIn();
        this.out = (int) c.getNOut();
    }

    /** The Java version of {@code layer}, or null if it is not a plain float dense layer of at most {@code maxWeights}. */
    static SmallDenseLayer of(DenseLayer layer, long maxWeights) {
        return of(layer, maxWeights, 1.0);
    }

    /** As {@link #of(DenseLayer, long)}; {@code fault} multiplies the products (1: none; tests plant a wrong kernel with it). */
    static SmallDenseLayer of(DenseLayer layer, long maxWeights, double fault) {
        var c = (org.deeplearning4j.nn.conf.layers.DenseLayer) layer.conf().getLayer();
        boolean plain = layer.getClass() == DenseLayer.class && !layer.hasLayerNorm() && c.getIDropout() == null
                && c.getWeightNoise() == null && layer.getDataType() == DataType.FLOAT && c.getNIn() * c.getNOut() <= maxWeights;
        return plain ? new SmallDenseLayer(layer, fault) : null;
    }

    private boolean handles(INDArray x) {
        return maskArray == null && x.rank() == 2 && x.size(1) == in && x.dataType() == DataType.FLOAT
                && contiguous(getParam(DefaultParamInitializer.WEIGHT_KEY), 'f');
    }

    private static boolean contiguous(INDArray a, char order) {
        return a != null && a.dataType() == DataType.FLOAT && a.elementWiseStride() == 1 && (a.ordering() == order || a.isVector());
    }

    /** The elements of a contiguous float array, in one bulk copy out of native memory. */
    static float[] floats(INDArray a) {
        float[] f = new float[(int) a.length()];
        FloatBuffer b = a.data().asNioFloat();
        b.get((int) a.offset(), f, 0, f.length);
        return f;
    }

    /** Writes {@code f} into a contiguous float array, in one bulk copy. */
    static void write(INDArray a, float[] f) {
        a.data().asNioFloat().put((int) a.offset(), f, 0, f.length);
    }

    /** z = x W + b for x [n, in] (row-major), W [in, out] column-major (DL4J's layout); z row-major [n, out]. */
    private float[] product(float[] x, int n, float[] wColumns, float[] bias) {
        float[] wRows = new float[in * out]; // W row-major, so the inner loop runs along contiguous memory (vectorised)
        for (int j = 0; j < out; j++) {
            for (int i = 0; i < in; i++) {
                wRows[i * out + j] = wColumns[i + j * in];
            }
        }
        float[] z = rowMajorProduct(x, n, in, out, wRows, bias);
        if (fault != 1f) {
            for (int k = 0; k < z.length; k++) {
                z[k] *= fault;
            }
        }
        return z;
    }

    /**
     * z = x W + b for x [n, in] and W [in, out], both row-major (b may be null); z row-major [n, out]. Row by row, the
     * inner loop along contiguous weights (vectorised). Shared with the frozen {@link FusedLayers.SmallDense}.
     */
    static float[] rowMajorProduct(float[] x, int n, int in, int out, float[] wRows, float[] bias) {
        float[] z = new float[n * out];
        for (int r = 0; r < n; r++) {
            int zr = r * out;
            if (bias != null) {
                System.arraycopy(bias, 0, z, zr, out);
            }
            for (int i = 0; i < in; i++) {
                float xv = x[r * in + i];
                int wi = i * out;
                for (int j = 0; j < out; j++) {
                    z[zr + j] += xv * wRows[wi + j];
                }
            }
        }
        return z;
    }

    /** Whether a call on {@code n} rows goes to BLAS ({@link FusedLayers.SmallDense#BLAS_MULTIPLY_ADDS}) rather than Java. */
    private boolean blas(long n) {
        return n * in * out >= FusedLayers.SmallDense.BLAS_MULTIPLY_ADDS;
    }

    private INDArray preActivation(INDArray x, LayerWorkspaceMgr mgr, ArrayType type) {
        int n = (int) x.size(0);
        INDArray xs = Dnnl.plain(x) && x.ordering() == 'c' ? x : x.dup('c');
        if (blas(n)) { // W as DL4J holds it, column-major
            INDArray result = mgr.createUninitialized(type, DataType.FLOAT, new long[] {n, out}, 'c');
            blasProduct(xs, getParam(DefaultParamInitializer.WEIGHT_KEY),
                    hasBias() ? floats(getParam(DefaultParamInitializer.BIAS_KEY)) : null, result);
            return fault == 1f ? result : result.muli(fault);
        }
        float[] z = product(floats(xs), n, floats(getParam(DefaultParamInitializer.WEIGHT_KEY)),
                hasBias() ? floats(getParam(DefaultParamInitializer.BIAS_KEY)) : null);
        INDArray result = mgr.createUninitialized(type, DataType.FLOAT, new long[] {n, out}, 'c');
        write(result, z);
        return result;
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr mgr) {
        assertInputSet(false);
        if (!handles(input)) {
            return super.activate(training, mgr);
        }
        return layerConf().getActivationFn().getActivation(preActivation(input, mgr, ArrayType.ACTIVATIONS), training);
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr mgr) {
        assertInputSet(true);
        INDArray wGrad = gradientViews.get(DefaultParamInitializer.WEIGHT_KEY);
        INDArray bGrad = hasBias() ? gradientViews.get(DefaultParamInitializer.BIAS_KEY) : null;
        if (!handles(input) || epsilon.dataType() != DataType.FLOAT || !contiguous(wGrad, 'f') || (bGrad != null && !contiguous(bGrad, 'c'))) {
            return super.backpropGradient(epsilon, mgr);
        }
        int n = (int) input.size(0);
        INDArray z = preActivation(input, mgr, ArrayType.ACTIVATIONS); // computed again, as DL4J does
        INDArray deltaArr = layerConf().getActivationFn().backprop(z, epsilon).getFirst();
        if (blas(n)) { // the products as DL4J's own dense layer makes them (BLAS), the bias gradient in Java
            INDArray delta = Dnnl.plain(deltaArr) && deltaArr.ordering() == 'c' ? deltaArr : deltaArr.dup('c');
            INDArray xs = Dnnl.plain(input) && input.ordering() == 'c' ? input : input.dup('c');
            // dW = x^T delta, written as its transpose delta^T x into the 'c'-ordered [out, in] view of the gradient
            // (the same memory): ND4J's product into the 'f'-ordered [in, out] array itself took 2-4x as long
            Nd4j.gemm(delta, xs, wGrad.transpose(), true, false, 1.0, 0.0);
            Gradient g = new DefaultGradient();
            g.gradientForVariable().put(DefaultParamInitializer.WEIGHT_KEY, wGrad);
            if (bGrad != null) {
                write(bGrad, columnSums(floats(delta), n));
                g.gradientForVariable().put(DefaultParamInitializer.BIAS_KEY, bGrad);
            }
            INDArray epsilonNext = mgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT, new long[] {n, in}, 'c');
            Nd4j.gemm(delta, getParam(DefaultParamInitializer.WEIGHT_KEY), epsilonNext, false, true, 1.0, 0.0);
            return new Pair<>(g, epsilonNext);
        }
        float[] delta = floats(Dnnl.plain(deltaArr) && deltaArr.ordering() == 'c' ? deltaArr : deltaArr.dup('c'));
        INDArray xs = Dnnl.plain(input) && input.ordering() == 'c' ? input : input.dup('c');
        float[] x = floats(xs);
        float[] w = floats(getParam(DefaultParamInitializer.WEIGHT_KEY)); // column-major [in, out]

        float[] dw = new float[in * out]; // column-major, as DL4J's gradient view
        float[] eps = new float[n * in];
        for (int r = 0; r < n; r++) {
            int xr = r * in;
            for (int j = 0; j < out; j++) {
                float d = delta[r * out + j];
                int col = j * in;
                for (int i = 0; i < in; i++) { // dL/dW[i, j] += x[r, i] * delta[r, j]; dL/dx[r, i] += delta[r, j] * W[i, j]
                    dw[col + i] += x[xr + i] * d;
                    eps[xr + i] += d * w[col + i];
                }
            }
        }
        write(wGrad, dw);
        Gradient g = new DefaultGradient();
        g.gradientForVariable().put(DefaultParamInitializer.WEIGHT_KEY, wGrad);
        if (bGrad != null) {
            write(bGrad, columnSums(delta, n));
            g.gradientForVariable().put(DefaultParamInitializer.BIAS_KEY, bGrad);
        }
        INDArray epsilonNext = mgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT, new long[] {n, in}, 'c');
        write(epsilonNext, eps);
        return new Pair<>(g, epsilonNext);
    }

    /**
     * result = x W + b in one BLAS product: the bias (null: none) written into every row of {@code result} ({@code [n,
     * out]}, contiguous), then x W added. Shared with the frozen {@link FusedLayers.SmallDense}.
     */
    static void blasProduct(INDArray x, INDArray w, float[] bias, INDArray result) {
        int n = (int) result.size(0);
        int out = (int) result.size(1);
        float[] rows = new float[n * out];
        if (bias != null) {
            for (int r = 0; r < n; r++) {
                System.arraycopy(bias, 0, rows, r * out, out);
            }
        }
        write(result, rows);
        Nd4j.gemm(x, w, result, false, false, 1.0, 1.0);
    }

    /** The sums over the {@code n} rows of a row-major {@code [n, out]} array. */
    private float[] columnSums(float[] delta, int n) {
        float[] db = new float[out];
        for (int r = 0; r < n; r++) {
            for (int j = 0; j < out; j++) {
                db[j] += delta[r * out + j];
            }
        }
        return db;
    }
}

package org.leukolab.backend;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.leukolab.system.SeededArrays;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

class DepthwiseWeightGradientTest {
    /** The weight gradient [kh, kw, c, m] and bias gradient in float64, straight from the definition. */
    private static double[][] reference(INDArray x, INDArray dz, int kh, int kw, int sh, int sw, int top, int left) {
        int n = (int) x.size(0);
        int c = (int) x.size(1);
        int h = (int) x.size(2);
        int w = (int) x.size(3);
        int oc = (int) dz.size(1);
        int oh = (int) dz.size(2);
        int ow = (int) dz.size(3);
        int m = oc / c;
        double[] dw = new double[kh * kw * oc];
        double[] db = new double[oc];
        for (int e = 0; e < n; e++) {
            for (int o = 0; o < oc; o++) {
                for (int i = 0; i < oh; i++) {
                    for (int j = 0; j < ow; j++) {
                        double g = dz.getDouble(e, o, i, j);
                        db[o] += g;
                        for (int a = 0; a < kh; a++) {
                            for (int b = 0; b < kw; b++) {
                                int r = i * sh + a - top;
                                int col = j * sw + b - left;
                                if (r >= 0 && r < h && col >= 0 && col < w) {
                                    dw[(a * kw + b) * oc + o] += x.getDouble(e, o / m, r, col) * g;
                                }
                            }
                        }
                    }
                }
            }
        }
        return new double[][] {dw, db};
    }

    private static void check(int n, int c, int m, int h, int w, int kh, int kw, int sh, int sw, int top, int left,
                              int oh, int ow, long seed) {
        INDArray x = SeededArrays.uniform(DataType.FLOAT, seed, n, c, h, w).subi(0.5);
        INDArray dz = SeededArrays.uniform(DataType.FLOAT, seed + 1, n, c * m, oh, ow).subi(0.5);
        INDArray dw = Nd4j.create(DataType.FLOAT, kh, kw, c, m);
        INDArray db = Nd4j.create(DataType.FLOAT, c * m);
        DepthwiseWeightGradient.compute(x, dz, new int[] {kh, kw}, new long[] {sh, sw}, new long[] {top, left}, dw, db);
        double[][] ref = reference(x, dz, kh, kw, sh, sw, top, left);
        String what = String.format("n=%d c=%d m=%d %dx%d kernel %dx%d stride %dx%d pad %d,%d -> %dx%d", n, c, m, h, w, kh, kw,
                sh, sw, top, left, oh, ow);
        assertClose(ref[0], dw.reshape(-1), what + ", weights");
        assertClose(ref[1], db, what + ", bias");
    }

    private static void assertClose(double[] expected, INDArray actual, String what) {
        double scale = 0;
        for (double v : expected) {
            scale = Math.max(scale, Math.abs(v));
        }
        double worst = 0;
        for (int i = 0; i < expected.length; i++) {
            worst = Math.max(worst, Math.abs(actual.getDouble(i) - expected[i]));
        }
        assertTrue(scale > 0 && worst <= 1e-5 * scale, what + ": largest error " + worst + " of a largest value " + scale);
    }

    @Test
    void fiveByFiveStrideOneWithSamePaddingMatchesFloat64() {
        check(3, 4, 1, 11, 9, 5, 5, 1, 1, 2, 2, 11, 9, 1);
    }

    @Test
    void strideTwoAndUnevenPaddingMatchFloat64() {
        // 12x12 with a 5x5 kernel and stride 2, Keras "same": 6x6 out, one row/column before and two after
        check(2, 3, 1, 12, 12, 5, 5, 2, 2, 1, 1, 6, 6, 3);
        // 13x13, same: 7x7 out, two before and two after
        check(2, 3, 1, 13, 13, 5, 5, 2, 2, 2, 2, 7, 7, 5);
    }

    @Test
    void rectangularKernelsMultipliersAndValidPaddingMatchFloat64() {
        check(2, 3, 2, 10, 8, 3, 5, 1, 2, 0, 0, 8, 2, 7);
        check(2, 2, 3, 9, 9, 7, 7, 1, 1, 3, 3, 9, 9, 9);
    }

    @Test
    void planesLargerThanOneBlockOfPartialSumsMatchFloat64() {
        // 30x30 output rows laid 34 wide: 1,020 positions, four blocks of 256
        check(2, 2, 1, 30, 30, 5, 5, 1, 1, 2, 2, 30, 30, 11);
    }

    @Test
    void tinyPlanesAsDeepInEfficientNetMatchFloat64() {
        // EfficientNetB0 at 96x96: 5x5 kernels on 6x6 and 3x3 planes, stride 2 from 6x6 to 3x3
        check(4, 5, 1, 3, 3, 5, 5, 1, 1, 2, 2, 3, 3, 13);
        check(4, 5, 1, 6, 6, 5, 5, 2, 2, 1, 1, 3, 3, 15);
    }

    @Test
    void noBiasGradientIsFine() {
        INDArray x = SeededArrays.uniform(DataType.FLOAT, 17, 2, 3, 7, 7);
        INDArray dz = SeededArrays.uniform(DataType.FLOAT, 18, 2, 3, 7, 7);
        INDArray dw = Nd4j.create(DataType.FLOAT, 5, 5, 3, 1);
        DepthwiseWeightGradient.compute(x, dz, new int[] {5, 5}, new long[] {1, 1}, new long[] {2, 2}, dw, null);
        assertClose(reference(x, dz, 5, 5, 1, 1, 2, 2)[0], dw.reshape(-1), "no bias");
    }

    @Test
    void arraysThatDoNotFitAreRefused() {
        INDArray x = Nd4j.create(DataType.FLOAT, 2, 3, 7, 7);
        INDArray dz = Nd4j.create(DataType.FLOAT, 2, 4, 7, 7); // 4 output channels from 3 inputs
        INDArray dw = Nd4j.create(DataType.FLOAT, 5, 5, 3, 1);
        assertThrows(IllegalArgumentException.class, () -> DepthwiseWeightGradient.compute(x, dz, new int[] {5, 5},
                new long[] {1, 1}, new long[] {2, 2}, dw, null));
    }
}

package org.leukolab.augmentation;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.leukolab.balancing.Augmenter;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

class AugmentationsTest {
    /** n images 3 x h x w with varied, known pixel values in 0..255. */
    static INDArray images(int n, int h, int w, long seed) {
        Random r = new Random(seed);
        INDArray x = Nd4j.create(DataType.FLOAT, n, 3, h, w);
        for (int i = 0; i < n; i++) {
            for (int c = 0; c < 3; c++) {
                for (int y = 0; y < h; y++) {
                    for (int q = 0; q < w; q++) {
                        x.putScalar(new long[] {i, c, y, q}, (40 * c + 7 * y + 3 * q + 50 * r.nextDouble()) % 256);
                    }
                }
            }
        }
        return x;
    }

    @Test
    void cutMixLabelWeightIsThePastedArea() {
        int n = 8;
        INDArray x = Nd4j.create(DataType.FLOAT, n, 3, 20, 24);
        for (int i = 0; i < n; i++) {
            x.slice(i).assign(i); // image i is the constant i: every pixel says where it came from
        }
        INDArray y = Nd4j.eye(n).castTo(DataType.FLOAT);
        DataSet d = CutMix.withAlpha(1.0).apply(x, y, new Random(4));
        for (int i = 0; i < n; i++) {
            INDArray img = d.getFeatures().slice(i);
            double[] share = new double[n];
            for (double v : img.slice(0).dup().data().asDouble()) {
                share[(int) v] += 1.0 / (20 * 24);
            }
            for (int j = 0; j < n; j++) {
                assertEquals(share[j], d.getLabels().getDouble(i, j), 1e-6, "image " + i + ": label weight of " + j + " is its pixel share");
            }
            assertEquals(1.0, d.getLabels().getRow(i).sumNumber().doubleValue(), 1e-6);
        }
        DataSet again = CutMix.withAlpha(1.0).apply(x, y, new Random(4));
        assertEquals(d.getFeatures(), again.getFeatures());
        assertEquals(x.slice(3).getDouble(0, 0, 0), 3.0, "input untouched");
    }

    @Test
    void everyRandAugmentOperationAtMagnitudeZeroIsTheIdentity() {
        INDArray x = images(1, 12, 10, 1);
        float[] img = Images.hwc(x, 0);
        for (RandAugment.Op op : RandAugment.Op.values()) {
            for (int sign : new int[] {1, -1}) {
                assertArrayEquals(img, RandAugment.apply(op, img, 12, 10, 0, sign), 1e-3f, op + " at magnitude 0");
            }
            if (op != RandAugment.Op.IDENTITY) {
                float[] strong = RandAugment.apply(op, img, 12, 10, 10, 1);
                double diff = 0;
                for (int i = 0; i < img.length; i++) {
                    diff = Math.max(diff, Math.abs(strong[i] - img[i]));
                }
                assertTrue(diff > 1, op + " at magnitude 10 changes the image (max change " + diff + ")");
            }
        }
        INDArray y = Nd4j.eye(4).castTo(DataType.FLOAT);
        INDArray four = images(4, 12, 10, 2);
        DataSet a = RandAugment.of(2, 9).apply(four, y, new Random(8));
        DataSet b = RandAugment.of(2, 9).apply(four, y, new Random(8));
        assertEquals(a.getFeatures(), b.getFeatures(), "same generator, same images");
        assertEquals(y, a.getLabels(), "labels unchanged");
        assertNotEquals(four, a.getFeatures());
        assertEquals(0, Images.nchw(new float[][] {Images.hwc(four, 2)}, 3, 12, 10).sub(four.slice(2).reshape(1, 3, 12, 10))
                .amaxNumber().doubleValue(), 1e-6, "NCHW <-> HWC round trip");
    }

    @Test
    void traditionalIsSeededKeepsLabelsAndDoesNothingWithNothingToDo() {
        INDArray x = images(3, 16, 16, 3);
        INDArray y = Nd4j.eye(3).castTo(DataType.FLOAT);
        BatchTransform t = Augmentations.traditional();
        DataSet a = t.apply(x, y, new Random(1));
        assertEquals(a.getFeatures(), t.apply(x, y, new Random(1)).getFeatures());
        assertEquals(y, a.getLabels());
        assertNotEquals(x, a.getFeatures());
        DataSet none = new Traditional(new Augmenter(0, 0, false)).apply(x, y, new Random(1));
        assertEquals(0, none.getFeatures().sub(x).amaxNumber().doubleValue(), 1e-3, "no rotation, zoom, flip: the same images");
        double mixed = 0;
        DataSet m = Augmentations.mixUpOrCutMix(0.2, 1.0).apply(x, y, new Random(2));
        for (int i = 0; i < 3; i++) {
            assertEquals(1.0, m.getLabels().getRow(i).sumNumber().doubleValue(), 1e-6);
            mixed += m.getLabels().getRow(i).maxNumber().doubleValue() < 1 ? 1 : 0;
        }
        assertTrue(Augmentations.mixUpOrCutMix(0.2, 1.0).id().contains("MixUp") && mixed >= 0);
    }
}

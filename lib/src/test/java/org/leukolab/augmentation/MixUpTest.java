package org.leukolab.augmentation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

class MixUpTest {
    static INDArray images(int n) {
        INDArray x = Nd4j.create(DataType.FLOAT, n, 3, 4, 4);
        for (int i = 0; i < n; i++) {
            x.slice(i).assign(10 * i);
        }
        return x;
    }

    static INDArray oneHot(int n, int k) {
        INDArray y = Nd4j.zeros(DataType.FLOAT, n, k);
        for (int i = 0; i < n; i++) {
            y.putScalar(i, i % k, 1);
        }
        return y;
    }

    @Test
    void sameGeneratorSameBatchAndLabelsStillSumToOne() {
        INDArray x = images(8);
        INDArray y = oneHot(8, 3);
        INDArray x0 = x.dup();
        DataSet a = MixUp.withAlpha(0.4).apply(x, y, new Random(5));
        DataSet b = MixUp.withAlpha(0.4).apply(x, y, new Random(5));
        assertEquals(a.getFeatures(), b.getFeatures());
        assertEquals(a.getLabels(), b.getLabels());
        assertEquals(x0, x, "the input batch is not modified");
        INDArray sums = a.getLabels().sum(1);
        for (int i = 0; i < 8; i++) {
            assertEquals(1.0, sums.getDouble(i), 1e-6);
        }
        assertNotEquals(y, a.getLabels(), "labels are mixed");
        DataSet c = MixUp.withAlpha(0.4).apply(x, y, new Random(6));
        assertNotEquals(a.getFeatures(), c.getFeatures(), "another generator, another mix");
    }

    @Test
    void imageAndLabelAreMixedWithTheSameWeight() {
        // image i is a constant 10 i; its label one-hot: the mixed image's value recovers lambda and the partner
        INDArray x = images(6);
        INDArray y = Nd4j.eye(6).castTo(DataType.FLOAT);
        DataSet d = MixUp.withAlpha(1.0).apply(x, y, new Random(11));
        for (int i = 0; i < 6; i++) {
            double v = d.getFeatures().slice(i).getDouble(0, 0, 0);
            double expected = 0;
            for (int j = 0; j < 6; j++) {
                expected += d.getLabels().getDouble(i, j) * 10 * j;
            }
            assertEquals(expected, v, 1e-3, "pixel = sum of label weights x source values, image " + i);
        }
    }

    @Test
    void identityAndComposition() {
        INDArray x = images(4);
        INDArray y = oneHot(4, 2);
        DataSet same = BatchTransform.identity().apply(x, y, new Random(1));
        assertEquals(x, same.getFeatures());
        assertEquals(y, same.getLabels());
        BatchTransform t = BatchTransform.identity().then(MixUp.withAlpha(0.2));
        assertTrue(t.id().contains("MixUp(alpha=0.2)"), t.id());
        assertEquals(MixUp.withAlpha(0.2).apply(x, y, new Random(3)).getLabels(), t.apply(x, y, new Random(3)).getLabels());
    }
}

package org.leukolab.training;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Random;
import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.leukolab.data.LoadedImages;
import org.leukolab.data.TestLoaded;
import org.leukolab.models.CustomCnns;
import org.leukolab.models.Optimizer;
import org.leukolab.preprocessing.KerasPreprocessing;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;

class ImageBatchesTest {
    /** Images whose class shows in their brightness: 3 classes, 0..255 pixel values. */
    static LoadedImages images(int n, int size, long seed) {
        Random r = new Random(seed);
        INDArray x = Nd4j.create(DataType.FLOAT, n, 3, size, size);
        INDArray y = Nd4j.zeros(DataType.FLOAT, n, 3);
        for (int i = 0; i < n; i++) {
            int c = i % 3;
            for (int ch = 0; ch < 3; ch++) {
                for (int p = 0; p < size * size; p++) {
                    double v = 60 + 60 * c + (ch == c ? 40 : 0) + 30 * r.nextGaussian();
                    x.putScalar(new long[] {i, ch, p / size, p % size}, Math.max(0, Math.min(255, v)));
                }
            }
            y.putScalar(i, c, 1);
        }
        return TestLoaded.of(new DataSet(x, y), size);
    }

    @Test
    void aBatchIsTheSameAsTheRowsOfTheWholeTensor() {
        LoadedImages imgs = images(20, 8, 1);
        INDArray all = KerasPreprocessing.TF.apply(imgs.features());
        Batches b = ImageBatches.of(imgs).preprocessed(KerasPreprocessing.TF);
        int[] rows = {7, 2, 19};
        DataSet got = b.batch(rows);
        DataSet want = Batches.rows(new DataSet(all, imgs.labelsOneHot()), rows);
        assertEquals(want.getFeatures(), got.getFeatures());
        assertEquals(want.getLabels(), got.getLabels());
        DataSet nhwc = ImageBatches.of(imgs).preprocessed(KerasPreprocessing.TF).format(CNN2DFormat.NHWC).batch(rows);
        assertEquals(want.getFeatures().permute(0, 2, 3, 1), nhwc.getFeatures());
        assertArrayEquals(new long[] {8, 8, 3}, ImageBatches.of(imgs).format(CNN2DFormat.NHWC).exampleShape());
        assertArrayEquals(imgs.labels(), b.labels());
        assertEquals(3, b.classes());
    }

    @Test
    void stepsRunInOrderAndChangeTheFingerprint() {
        LoadedImages imgs = images(6, 4, 2);
        ImageBatches twice = ImageBatches.of(imgs).scaled(1 / 255.0).scaled(1 / 255.0);
        DataSet d = twice.batch(new int[] {0, 1});
        INDArray want = Batches.rows(imgs.dataSet(), new int[] {0, 1}).getFeatures().div(255.0 * 255.0);
        assertTrue(want.sub(d.getFeatures()).amaxNumber().doubleValue() < 1e-9);
        assertNotEquals(twice.fingerprint(), ImageBatches.of(imgs).scaled(1 / 255.0).fingerprint());
        assertEquals(twice.fingerprint(), ImageBatches.of(imgs).scaled(1 / 255.0).scaled(1 / 255.0).fingerprint());
        assertNotEquals(twice.fingerprint(), ImageBatches.of(images(6, 4, 3)).scaled(1 / 255.0).scaled(1 / 255.0).fingerprint());
    }

    @Test
    void trainingOnBatchesMadeOnDemandEqualsTrainingOnTheWholeTensor() {
        LoadedImages train = images(48, 16, 3);
        LoadedImages val = images(12, 16, 4);
        Trainer t = Trainer.builder("same").epochs(2).batchSize(8).seed(5).progress(false).build();
        MultiLayerNetwork a = CustomCnns.report000(16, 3, Optimizer.adamW(1e-3), 9, CNN2DFormat.NCHW);
        MultiLayerNetwork b = CustomCnns.report000(16, 3, Optimizer.adamW(1e-3), 9, CNN2DFormat.NCHW);
        TrainingResult ra = t.fit(Network.of(a), new DataSet(train.features().muli(1 / 255.0), train.labelsOneHot()),
                new DataSet(val.features().muli(1 / 255.0), val.labelsOneHot()));
        TrainingResult rb = t.fit(Network.of(b), ImageBatches.of(train).scaled(1 / 255.0), ImageBatches.of(val).scaled(1 / 255.0));
        assertEquals(ra.history().doubleColumn("loss").asList(), rb.history().doubleColumn("loss").asList());
        assertEquals(ra.history().doubleColumn("val_accuracy").asList(), rb.history().doubleColumn("val_accuracy").asList());
        assertEquals(a.params(), b.params());
        INDArray p = Trainer.predict(Network.of(b), ImageBatches.of(val).scaled(1 / 255.0), 5);
        assertArrayEquals(new long[] {12, 3}, p.shape());
        assertTrue(b.output(val.features().muli(1 / 255.0), false).sub(p).amaxNumber().doubleValue() < 1e-6);
    }
}

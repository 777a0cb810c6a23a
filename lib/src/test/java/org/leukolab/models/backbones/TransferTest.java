package org.leukolab.models.backbones;

import org.leukolab.system.SeededArrays;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.leukolab.training.Network;
import org.leukolab.training.Trainer;
import org.leukolab.training.TrainingResult;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Adam;

class TransferTest {
    @TempDir
    Path dir;

    /** A small real-looking backbone: MobileNetV2 0.35 at 32x32 with the fixture's weights (healthy activations). */
    static Backbone small() {
        return Backbones.load(MobileNetV2.build(0.35, 32, false, 1000, true, 3),
                KerasEquivalenceTest.fixture("mobilenetv2_0.35.weights.h5"), false, "fixture");
    }

    static boolean same(INDArray a, INDArray b) {
        return java.util.Arrays.equals(a.toFloatVector(), b.toFloatVector());
    }

    static DataSet images(int n, long seed) {
        Random r = new Random(seed);
        INDArray x = SeededArrays.uniform(DataType.FLOAT, 11, n, 3, 32, 32).muli(255);
        INDArray y = Nd4j.zeros(DataType.FLOAT, n, 3);
        for (int i = 0; i < n; i++) {
            int c = r.nextInt(3);
            y.putScalar(i, c, 1);
            x.get(org.nd4j.linalg.indexing.NDArrayIndex.point(i), org.nd4j.linalg.indexing.NDArrayIndex.point(c)).addi(60);
        }
        return new DataSet(x, y);
    }

    private static INDArray backboneParams(ComputationGraph g, Backbone b) {
        return Nd4j.concat(0, b.mappedLayers().stream().map(m -> g.getLayer(m.name()).params().dup().reshape(-1)).toArray(INDArray[]::new));
    }

    @Test
    void frozenBackboneStaysFixedWhileTheHeadLearns() {
        Backbone b = small();
        ComputationGraph model = Transfer.classifier(b, Head.globalAveragePooling().dense(16).batchNorm().softmax(3),
                new Adam(1e-2), 1, Freeze.all());
        List<String> frozen = Transfer.frozenLayers(model);
        assertTrue(frozen.contains("Conv1") && frozen.contains("Conv_1_bn"), frozen.toString());
        assertFalse(frozen.stream().anyMatch(n -> n.startsWith("head_")));
        INDArray before = backboneParams(model, b);
        INDArray headBefore = model.getLayer("head_1_dense").params().dup();
        DataSet d = images(24, 1);
        d.setFeatures(b.preprocessing().apply(d.getFeatures()));
        model.fit(d);
        assertTrue(same(before, backboneParams(model, b)), "frozen weights (and BatchNorm statistics) unchanged");
        assertFalse(same(headBefore, model.getLayer("head_1_dense").params()), "the head learned");
    }

    @Test
    void partialFreezeKeepsBatchNormFrozenAndFineTuneUnfreezes() {
        Backbone b = small();
        ComputationGraph model = Transfer.classifier(b, Head.globalAveragePooling().softmax(3), new Adam(1e-3), 1,
                Freeze.firstFraction(0.5).keepBatchNormFrozen());
        List<String> frozen = Transfer.frozenLayers(model);
        assertTrue(frozen.contains("Conv1"), "early layers frozen");
        assertFalse(frozen.contains("block_16_project"), "late convolutions trainable");
        assertTrue(frozen.contains("block_16_project_BN"), "late BatchNorm kept frozen");
        assertTrue(Transfer.trainableBatchNorms(model).isEmpty(), "no BatchNorm learns: " + Transfer.trainableBatchNorms(model));
        INDArray lateBn = model.getLayer("block_16_project_BN").params().dup();
        INDArray lateConv = model.getLayer("block_16_project").params().dup();
        DataSet d = images(16, 2);
        d.setFeatures(b.preprocessing().apply(d.getFeatures()));
        model.fit(d);
        assertTrue(same(lateBn, model.getLayer("block_16_project_BN").params()), "frozen BatchNorm unchanged");
        assertFalse(same(lateConv, model.getLayer("block_16_project").params()), "trainable convolution updated");
        INDArray early = model.getLayer("Conv1").params().dup();
        model.fit(d);
        assertTrue(same(early, model.getLayer("Conv1").params()), "leading layers unchanged");

        ComputationGraph tuned = Transfer.fineTune(model, b, Freeze.none(), new Adam(1e-5));
        assertTrue(same(model.params(), tuned.params()), "fine-tuning starts from the trained weights");
        assertTrue(Transfer.frozenLayers(tuned).isEmpty());
        assertTrue(Transfer.trainableBatchNorms(tuned).contains("block_16_project_BN"), "unfrozen BatchNorm learns again");
        assertFalse(Transfer.trainableBatchNorms(Transfer.fineTune(model, b, Freeze.firstFraction(0.5), new Adam(1e-5)))
                .contains("Conv1_bn"), "a BatchNorm in the frozen part does not learn");
        assertEquals(1e-5, tuned.getLearningRate("block_16_project"), 1e-12);
    }

    @Test
    void headTrainedOnCachedFeaturesEqualsTheClassifierOnImages() {
        Backbone b = small();
        DataSet d = images(40, 3);
        org.leukolab.data.LoadedImages imgs = org.leukolab.data.TestLoaded.of(d, 32);
        DataSet feats = FeatureCache.features(b, imgs, dir.resolve("cache"), false);
        assertArrayEquals(new long[] {40, 1280, 1, 1}, feats.getFeatures().shape());
        assertTrue(Files.isFeatureFile(dir.resolve("cache")), "written to the cache folder");
        DataSet again = FeatureCache.features(b, imgs, dir.resolve("cache"), false);
        assertEquals(feats.getFeatures(), again.getFeatures());

        Head head = Head.globalAveragePooling().dense(8).softmax(3);
        ComputationGraph alone = head.standalone(new long[] {1280, 1, 1}, new Adam(1e-2), 5);
        TrainingResult r = Trainer.builder("head").epochs(3).batchSize(8).progress(false).build()
                .fit(Network.of(alone), feats, null);
        assertEquals(3, r.history().rowCount());
        ComputationGraph full = Transfer.classifier(b, head, new Adam(1e-2), 5, Freeze.all());
        Transfer.copyHead(alone, full);
        INDArray viaImages = full.outputSingle(false, b.preprocessing().apply(imgs.features()));
        INDArray viaFeatures = alone.outputSingle(false, feats.getFeatures());
        assertTrue(viaImages.equalsWithEps(viaFeatures, 1e-5), "same predictions through either path");

        // the Keras-style summary: backbone as one row, head layers with Dense(1280 -> 8) = 10,248 and (8 -> 3) = 27
        String configuration = full.getConfiguration().toJson();
        tech.tablesaw.api.Table summary = Transfer.summary(full, b);
        assertEquals(configuration, full.getConfiguration().toJson(), "the summary leaves the configuration as it was");
        var params = summary.longColumn("parameters");
        assertEquals(full.numParams(), params.get(summary.rowCount() - 1), "total row");
        assertEquals(b.graph().numParams(), params.get(1), "backbone row: " + summary.print());
        assertEquals("(1, 1, 1280)", summary.stringColumn("output shape").get(1), "feature map of a 32x32 input");
        assertTrue(params.asList().contains(1280L * 8 + 8) && params.asList().contains(8L * 3 + 3), summary.print());
        long sum = 0;
        for (int i = 0; i < summary.rowCount() - 1; i++) {
            sum += params.get(i);
        }
        assertEquals(full.numParams(), sum, "rows add up to the total");
    }

    @Test
    void pooledFeaturesServeAGlobalPoolingHeadExactly() {
        Backbone b = Backbones.load(MobileNetV2.build(0.35, 64, false, 1000, true, 3),
                KerasEquivalenceTest.fixture("mobilenetv2_0.35.weights.h5"), false, "fixture");
        Random r = new Random(4);
        INDArray x = SeededArrays.uniform(DataType.FLOAT, 12, 12, 3, 64, 64).muli(255);
        INDArray y = Nd4j.zeros(DataType.FLOAT, 12, 3);
        for (int i = 0; i < 12; i++) {
            y.putScalar(i, r.nextInt(3), 1);
        }
        org.leukolab.data.LoadedImages imgs = org.leukolab.data.TestLoaded.of(new DataSet(x, y), 64);
        DataSet full = FeatureCache.features(b, imgs, dir.resolve("cache"), false, false);
        DataSet pooled = FeatureCache.features(b, imgs, dir.resolve("cache"), false, true);
        assertArrayEquals(new long[] {12, 1280, 2, 2}, full.getFeatures().shape());
        assertArrayEquals(new long[] {12, 1280, 1, 1}, pooled.getFeatures().shape());
        INDArray mean = full.getFeatures().mean(2, 3).reshape(12, 1280, 1, 1);
        assertTrue(mean.equalsWithEps(pooled.getFeatures(), 1e-6));
        // a GAP-first head trained on the pooled features predicts the same on images
        Head head = Head.globalAveragePooling().dense(16).batchNorm().softmax(3);
        ComputationGraph alone = head.standalone(new long[] {1280, 1, 1}, org.leukolab.models.Optimizer.adamW(1e-2), 5);
        Trainer.builder("gap head").epochs(2).batchSize(4).progress(false).build().fit(Network.of(alone), pooled, null);
        ComputationGraph classifier = Transfer.classifier(b, head, org.leukolab.models.Optimizer.adamW(1e-2), 5, Freeze.all());
        Transfer.copyHead(alone, classifier);
        INDArray viaImages = classifier.outputSingle(false, b.preprocessing().apply(imgs.features()));
        INDArray viaPooled = alone.outputSingle(false, pooled.getFeatures());
        assertTrue(viaImages.equalsWithEps(viaPooled, 1e-5), "same predictions through either path");
    }

    @Test
    void efficientNetTrainsEndToEndAndFrozen() {
        Backbone b = Backbones.load(EfficientNetB0.build(32, false, 1000, true, 1),
                KerasEquivalenceTest.fixture("efficientnetb0.weights.h5"), false, "fixture");
        DataSet d = images(8, 4);
        ComputationGraph all = Transfer.classifier(b, Head.globalAveragePooling().softmax(3), new Adam(1e-2), 1, Freeze.none());
        INDArray stem = all.getLayer("stem_conv").params().dup();
        INDArray norm = all.getLayer("normalization").params().dup();
        INDArray se = all.getLayer("block2a_se_reduce").params().dup();
        all.fit(d); // EfficientNet takes raw pixels: its normalisation is inside the model
        assertFalse(same(stem, all.getLayer("stem_conv").params()), "stem trained");
        assertFalse(same(se, all.getLayer("block2a_se_reduce").params()), "squeeze-and-excitation trained");
        assertTrue(same(norm, all.getLayer("normalization").params()), "input normalisation never trains");

        ComputationGraph frozen = Transfer.classifier(b, Head.globalAveragePooling().softmax(3), new Adam(1e-2), 1, Freeze.all());
        INDArray top = frozen.getLayer("top_conv").params().dup();
        frozen.fit(d);
        assertTrue(same(top, frozen.getLayer("top_conv").params()));
    }

    /** Hard swish is leukolab's own activation: configurations with it survive DL4J's JSON (checkpoints, saved models). */
    @Test
    void mobileNetV3WithItsOwnActivationsSurvivesJsonAndFineTuning() {
        Backbone b = MobileNetV3.large(32, false, 10, false, 1);
        String json = b.graph().getConfiguration().toJson();
        assertTrue(json.contains("HardSwish"), "the activation is named in the configuration");
        assertEquals(b.graph().getConfiguration(), org.deeplearning4j.nn.conf.ComputationGraphConfiguration.fromJson(json));
        ComputationGraph model = Transfer.classifier(b, Head.globalAveragePooling().softmax(3), new Adam(1e-3), 1,
                Freeze.firstFraction(0.5).keepBatchNormFrozen());
        DataSet d = images(8, 4);
        INDArray before = model.params().dup();
        model.fit(d);
        assertFalse(same(before, model.params()), "the unfrozen part learns through hard swish");
        org.leukolab.models.HardSwish hs = new org.leukolab.models.HardSwish();
        INDArray x = Nd4j.createFromArray(-4.0f, -3.0f, -1.0f, 0.0f, 1.5f, 3.0f, 5.0f);
        assertArrayEquals(new float[] {0f, 0f, -1f / 3, 0f, 1.125f, 3f, 5f}, hs.getActivation(x.dup(), false).toFloatVector(), 1e-6f);
        INDArray grad = hs.backprop(Nd4j.createFromArray(1.5f), Nd4j.createFromArray(1f)).getFirst();
        assertEquals(0.75 + 1.5 / 6, grad.getDouble(0), 1e-6, "d/dx x relu6(x+3)/6 at 1.5");
    }

    @Test
    void topBackbonesAreRefused() {
        assertThrows(IllegalArgumentException.class, () -> Transfer.classifier(MobileNetV2.build(0.35, 32, true, 10, true, 1),
                Head.globalAveragePooling().softmax(3), new Adam(), 1, Freeze.all()));
    }

    static final class Files {
        static boolean isFeatureFile(Path dir) {
            try (var s = java.nio.file.Files.list(dir)) {
                return s.anyMatch(p -> p.toString().endsWith(".features"));
            } catch (java.io.IOException e) {
                return false;
            }
        }
    }
}

package org.leukolab.compare;

import java.util.LinkedHashMap;
import java.util.Map;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.leukolab.augmentation.Augmentations;
import org.leukolab.augmentation.BatchTransform;
import org.leukolab.balancing.ClassBalancer;
import org.leukolab.data.ImageIndex;
import org.leukolab.data.LoadedImages;
import org.leukolab.evaluation.Experiment;
import org.leukolab.training.EarlyStopping;
import org.leukolab.training.ImageBatches;
import org.leukolab.training.Network;

/**
 * Training through a classifier graph (a backbone and a head, some or all of the backbone frozen), the way augmentation
 * and fine-tuning need it: every training batch is made from the images, passed through an augmentation (on pixel
 * values; null for none) and then the backbone's preprocessing; validation and test are only preprocessed. Balanced
 * class weights when {@code classWeights}, selection by validation macro F1 ({@code patience} epochs, best weights
 * restored), Adam at {@code learningRate}. Report 003's augmentation and fine-tuning runs use it
 * ({@code Report003.trainClassifier}), and so does the fine-tuning step of the comparison on your own images.
 */
public record ImageTraining(int batch, double learningRate, int epochs, int patience, boolean classWeights) {
    /** Trains {@code model} (built on {@code backbone}) seeded with {@code seed}, recorded under {@code name}. */
    public Experiment.Run train(Experiment exp, String name, ComputationGraph model, org.leukolab.models.backbones.Backbone backbone,
                                LoadedImages images, ImageIndex.ThreeWaySplit parts, BatchTransform augmentation, long seed,
                                Map<String, ?> extras) {
        var pre = Augmentations.preprocessing(backbone.preprocessing());
        var transform = augmentation == null ? pre : augmentation.then(pre);
        double[] w = ClassBalancer.classWeights(parts.train().labels(), parts.train().classes().size());
        LoadedImages train = images.subset(images.positionsOf(parts.train()));
        LoadedImages val = images.subset(images.positionsOf(parts.validation()));
        LoadedImages test = images.subset(images.positionsOf(parts.test()));
        Map<String, Object> facts = new LinkedHashMap<>(extras);
        facts.put("augmentation", augmentation == null ? "none" : augmentation.id());
        facts.put("learning_rate", learningRate);
        return exp.run(name, Network.of(model), t -> {
            t.epochs(epochs).batchSize(batch).seed(seed).learningRate(learningRate).transform(transform)
                    .callbacks(EarlyStopping.on("val_f1", patience, true));
            return classWeights ? t.classWeights(w) : t;
        }, ImageBatches.of(train), ImageBatches.of(val).preprocessed(backbone.preprocessing()),
                ImageBatches.of(test).preprocessed(backbone.preprocessing()), facts);
    }
}

package org.leukolab.compare;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.function.UnaryOperator;
import org.leukolab.balancing.ClassBalancer;
import org.leukolab.data.ImageIndex;
import org.leukolab.data.LoadedImages;
import org.leukolab.evaluation.Experiment;
import org.leukolab.evaluation.Repeats;
import org.leukolab.models.Optimizer;
import org.leukolab.models.backbones.Head;
import org.leukolab.training.Batches;
import org.leukolab.training.EarlyStopping;
import org.leukolab.training.Network;
import org.leukolab.training.Trainer;
import org.nd4j.linalg.dataset.DataSet;

/**
 * A head trained on cached features (a frozen backbone's pooled features, or several backbones' concatenated): Adam at
 * {@code learningRate}, {@code batch} images a step, at most {@code epochs} epochs with early stopping on validation
 * macro F1 ({@code patience} epochs, best weights restored), balanced class weights in the loss when
 * {@code classWeights}. Report 003's comparisons use it with its own head and settings
 * ({@code Report003.trainOn}); the comparison on your own images uses it for every backbone.
 *
 * @param head the head, ending in a softmax over the classes
 */
public record FeatureHeads(Head head, int batch, double learningRate, int epochs, int patience, boolean classWeights) {
    /** One run seeded with {@code seed} (the head's initialisation and the trainer), recorded under {@code name}. */
    public Experiment.Run train(Experiment exp, String name, DataSet features, LoadedImages images, ImageIndex.ThreeWaySplit parts,
                                long seed, Map<String, ?> extras) {
        var net = head.standalone(shape(features), Optimizer.adam(learningRate), seed);
        var settings = settings(parts);
        return exp.run(name, Network.of(net), t -> settings.apply(t).seed(seed), Batches.select(features, images, parts.train()),
                Batches.select(features, images, parts.validation()), Batches.select(features, images, parts.test()), facts(extras));
    }

    /**
     * {@link #train} once per seed ({@link Experiment#repeat}): a fresh head initialised with each seed, the trainer seeded
     * with it, the same split; recorded under {@code <name>-seed<s>} and {@code <name>-repeats.json}.
     */
    public Repeats repeat(Experiment exp, String name, DataSet features, LoadedImages images, ImageIndex.ThreeWaySplit parts,
                          List<Long> seeds, Map<String, ?> extras) {
        long[] shape = shape(features);
        return exp.repeat(name, seeds, seed -> Network.of(head.standalone(shape, Optimizer.adam(learningRate), seed)), settings(parts),
                Batches.select(features, images, parts.train()), Batches.select(features, images, parts.validation()),
                Batches.select(features, images, parts.test()), facts(extras));
    }

    /** A fresh network of this head for {@code features} (e.g. to time a few batches before the real run). */
    public Network network(DataSet features, long seed) {
        return Network.of(head.standalone(shape(features), Optimizer.adam(learningRate), seed));
    }

    private static long[] shape(DataSet features) {
        return new long[] {features.getFeatures().size(1), 1, 1};
    }

    private UnaryOperator<Trainer.Builder> settings(ImageIndex.ThreeWaySplit parts) {
        double[] w = ClassBalancer.classWeights(parts.train().labels(), parts.train().classes().size());
        return t -> {
            t.epochs(epochs).batchSize(batch).learningRate(learningRate).callbacks(EarlyStopping.on("val_f1", patience, true));
            return classWeights ? t.classWeights(w) : t;
        };
    }

    private Map<String, Object> facts(Map<String, ?> extras) {
        Map<String, Object> facts = new LinkedHashMap<>(extras);
        facts.put("class_weights", classWeights);
        return facts;
    }
}

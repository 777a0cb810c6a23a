package org.leukolab.training;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.Model;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.optimize.api.BaseTrainingListener;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.deeplearning4j.util.ModelSerializer;
import org.leukolab.system.AtomicFiles;
import org.leukolab.system.Hashing;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;

/**
 * One face for DL4J's two model types (sequential {@link MultiLayerNetwork} and {@link ComputationGraph}
 * with a single input and output), so the trainer, evaluation and checkpoints work with either.
 */
public abstract class Network {
    private volatile INDArray lastOutput;

    public static Network of(MultiLayerNetwork net) {
        return new Sequential(net);
    }

    public static Network of(ComputationGraph graph) {
        if (graph.getNumInputArrays() != 1 || graph.getNumOutputArrays() != 1) {
            throw new IllegalArgumentException("only graphs with one input and one output are supported");
        }
        return new Graph(graph);
    }

    public abstract Model model();

    /** The network as a {@link ComputationGraph}; an error naming the actual type if it is a sequential network. */
    public ComputationGraph graph() {
        if (model() instanceof ComputationGraph g) {
            return g;
        }
        throw new IllegalStateException("this network is a " + model().getClass().getSimpleName() + ", not a ComputationGraph");
    }

    /** One optimisation step on a batch. */
    public abstract void fit(DataSet batch);

    /**
     * Loss of the last {@link #fit} batch as DL4J scores it: the data loss plus every regularisation term, weight decay
     * included ({@link Trainer} subtracts the weight-decay part to log the loss Keras reports).
     */
    public double lastScore() {
        return model().score();
    }

    /**
     * Average loss on a batch without training (inference mode), as DL4J scores it: every regularisation term added,
     * weight decay included (the trainer logs Keras' loss instead; see {@link #regularizationScore()}).
     */
    public abstract double score(DataSet batch);

    /** Predictions in inference mode. */
    public abstract INDArray output(INDArray features);

    public abstract void setLearningRate(double lr);

    public long parameters() {
        return model().numParams();
    }

    public INDArray params() {
        return model().params();
    }

    public void setParams(INDArray params) {
        model().setParams(params);
    }

    /** The network's output on the last training batch (training-mode forward pass, so dropout was active). */
    INDArray lastTrainingOutput() {
        return lastOutput;
    }

    /**
     * Writes the model with its optimiser state, atomically (temporary file, then rename; a failed write
     * removes the temporary file and leaves an existing file as it was).
     */
    public void save(Path file) {
        AtomicFiles.writeWith(file, tmp -> ModelSerializer.writeModel(model(), tmp.toFile(), true));
    }

    /**
     * DL4J's JSON of the whole network configuration (layers, activations, dropout, updater, regularisation,
     * loss and its class weights), without the iteration and epoch counters, which change as it trains.
     */
    public String configurationJson() {
        String json = model() instanceof MultiLayerNetwork m ? m.getLayerWiseConfigurations().toJson()
                : ((ComputationGraph) model()).getConfiguration().toJson();
        com.google.gson.JsonObject o = com.google.gson.JsonParser.parseString(json).getAsJsonObject();
        for (String counter : List.of("iterationCount", "epochCount")) {
            o.remove(counter);
        }
        return o.toString();
    }

    /** SHA-256 of the current parameters (float bytes): tells two networks with the same configuration apart. */
    public String parameterHash() {
        INDArray p = params();
        if (p == null || p.isEmpty()) {
            return "no parameters";
        }
        INDArray c = p.isView() || p.ordering() != 'c' ? p.dup('c') : p;
        return Hashing.sha256().add(p.dataType().toString()).add(c.data().asNio()).hex();
    }

    /**
     * The regularisation terms Keras adds to its loss: L1 and L2 kernel regularisers ({@code 0} without them). A
     * decoupled weight decay ({@code WeightDecay}, our AdamW) is not among them: Keras' AdamW decays the weights in the
     * optimiser and adds nothing to the loss it reports, while DL4J's {@code score()} adds {@code 0.5 x coeff x sum(w^2)}
     * of it ({@link #weightDecayScore()}).
     */
    public double regularizationScore() {
        return regularization(false);
    }

    /** What DL4J adds to its score for decoupled weight decay ({@code WeightDecay}); 0 without it. */
    public double weightDecayScore() {
        return regularization(true);
    }

    /** True when some trainable parameter has a decoupled weight decay ({@code WeightDecay}). */
    public boolean hasWeightDecay() {
        for (org.deeplearning4j.nn.api.Layer layer : layers()) {
            var conf = trainableConf(layer);
            if (conf != null && layer.paramTable(true).keySet().stream().map(conf::getRegularizationByParam)
                    .anyMatch(regs -> regs != null && regs.stream().anyMatch(r -> r instanceof org.nd4j.linalg.learning.regularization.WeightDecay))) {
                return true;
            }
        }
        return false;
    }

    private org.deeplearning4j.nn.api.Layer[] layers() {
        return model() instanceof MultiLayerNetwork m ? m.getLayers() : ((ComputationGraph) model()).getLayers();
    }

    /** A layer's configuration, or null for a layer DL4J never regularises (frozen, or without one). */
    private static org.deeplearning4j.nn.conf.layers.Layer trainableConf(org.deeplearning4j.nn.api.Layer layer) {
        if (layer.conf() == null || layer.conf().getLayer() == null || layer instanceof org.deeplearning4j.nn.layers.FrozenLayer
                || layer instanceof org.deeplearning4j.nn.layers.FrozenLayerWithBackprop) {
            return null;
        }
        return layer.conf().getLayer();
    }

    private double regularization(boolean weightDecay) {
        double sum = 0;
        for (org.deeplearning4j.nn.api.Layer layer : layers()) {
            org.deeplearning4j.nn.conf.layers.Layer conf = trainableConf(layer);
            if (conf == null) {
                continue; // frozen layers are not regularised (DL4J skips them too)
            }
            for (Map.Entry<String, INDArray> e : layer.paramTable(true).entrySet()) {
                List<org.nd4j.linalg.learning.regularization.Regularization> regs = conf.getRegularizationByParam(e.getKey());
                if (regs == null) {
                    continue;
                }
                for (org.nd4j.linalg.learning.regularization.Regularization r : regs) {
                    if ((r instanceof org.nd4j.linalg.learning.regularization.WeightDecay) == weightDecay) {
                        sum += r.score(e.getValue(), layer.getIterationCount(), layer.getEpochCount());
                    }
                }
            }
        }
        return sum;
    }

    /**
     * Keras' {@code class_weight}: replaces the output layer's categorical cross-entropy by the same loss with
     * each class's weight (DL4J's {@code LossMCXENT(weights)}: example loss times its class's weight, the
     * gradient likewise). The output layer must be softmax with categorical cross-entropy.
     */
    public void setClassWeights(double[] weights) {
        org.deeplearning4j.nn.conf.layers.Layer conf = outputLayerConf();
        if (!(conf instanceof org.deeplearning4j.nn.conf.layers.BaseOutputLayer out)
                || !(out.getLossFn() instanceof org.nd4j.linalg.lossfunctions.impl.LossMCXENT)
                || !(out.getActivationFn() instanceof org.nd4j.linalg.activations.impl.ActivationSoftmax)) {
            throw new IllegalArgumentException("class weights need a softmax output layer with categorical cross-entropy "
                    + "(MCXENT); this network's output layer is " + conf);
        }
        if (out.getNOut() != weights.length) {
            throw new IllegalArgumentException(weights.length + " class weights for an output layer of " + out.getNOut() + " classes");
        }
        out.setLossFn(new org.nd4j.linalg.lossfunctions.impl.LossMCXENT(
                org.nd4j.linalg.factory.Nd4j.create(weights).castTo(params().dataType())));
    }

    private org.deeplearning4j.nn.conf.layers.Layer outputLayerConf() {
        if (model() instanceof MultiLayerNetwork m) {
            return m.getOutputLayer().conf().getLayer();
        }
        ComputationGraph g = (ComputationGraph) model();
        return g.getLayer(g.getConfiguration().getNetworkOutputs().get(0)).conf().getLayer();
    }

    /** Copies parameters and optimiser state from a checkpoint written by {@link #save}. */
    public abstract void restore(Path file);

    /**
     * A listener that computes the output of each training forward pass (dropout active, weights before
     * the update: what Keras' training accuracy is computed from). DL4J hands listeners the activations
     * up to the input of the output layer; the output layer (dense + activation) is applied to it here,
     * which costs a small matrix product instead of a second forward pass.
     */
    TrainingListener outputCatcher() {
        return new BaseTrainingListener() {
            @Override
            public void onForwardPass(Model model, List<INDArray> activations) {
                MultiLayerNetwork net = (MultiLayerNetwork) model;
                lastOutput = applyOutputLayer(net.getOutputLayer(), activations.get(activations.size() - 1));
            }

            @Override
            public void onForwardPass(Model model, Map<String, INDArray> activations) {
                ComputationGraph g = (ComputationGraph) model;
                String out = g.getConfiguration().getNetworkOutputs().get(0);
                if (activations.containsKey(out)) {
                    lastOutput = activations.get(out).detach();
                    return;
                }
                String in = g.getConfiguration().getVertexInputs().get(out).get(0);
                lastOutput = activations.containsKey(in) ? applyOutputLayer(g.getLayer(out), activations.get(in)) : null;
            }
        };
    }

    private static INDArray applyOutputLayer(org.deeplearning4j.nn.api.Layer layer, INDArray input) {
        if (!(layer.conf().getLayer() instanceof org.deeplearning4j.nn.conf.layers.BaseOutputLayer conf)
                || !layer.paramTable().containsKey("W")) {
            return null; // not a dense output layer: the trainer falls back to an inference pass
        }
        INDArray x = input.rank() > 2 ? input.reshape('c', input.size(0), -1) : input;
        INDArray z = x.castTo(layer.getParam("W").dataType()).mmul(layer.getParam("W"));
        if (layer.paramTable().containsKey("b")) {
            z.addiRowVector(layer.getParam("b"));
        }
        return conf.getActivationFn().getActivation(z, false).detach();
    }

    private static final class Sequential extends Network {
        private final MultiLayerNetwork net;

        Sequential(MultiLayerNetwork net) {
            this.net = net;
        }

        @Override
        public Model model() {
            return net;
        }

        @Override
        public void fit(DataSet batch) {
            org.leukolab.backend.SameDiffOutput.quiet(() -> net.fit(batch));
        }

        @Override
        public double score(DataSet batch) {
            return net.score(batch, false);
        }

        @Override
        public INDArray output(INDArray features) {
            return net.output(features, false);
        }

        @Override
        public void setLearningRate(double lr) {
            net.setLearningRate(lr);
        }

        @Override
        public void restore(Path file) {
            try {
                MultiLayerNetwork saved = ModelSerializer.restoreMultiLayerNetwork(file.toFile(), true);
                net.setParams(saved.params());
                // the updaters' bias corrections and schedules depend on these counters
                net.setIterationCount(saved.getIterationCount());
                net.setEpochCount(saved.getEpochCount());
                if (saved.getUpdater() != null && saved.getUpdater().getStateViewArray() != null) {
                    net.getUpdater().getStateViewArray().assign(saved.getUpdater().getStateViewArray());
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read checkpoint " + file + ": " + e.getMessage(), e);
            }
        }
    }

    private static final class Graph extends Network {
        private final ComputationGraph graph;

        Graph(ComputationGraph graph) {
            this.graph = graph;
        }

        @Override
        public Model model() {
            return graph;
        }

        @Override
        public void fit(DataSet batch) {
            org.leukolab.backend.SameDiffOutput.quiet(() -> graph.fit(batch));
        }

        @Override
        public double score(DataSet batch) {
            return graph.score(batch, false);
        }

        @Override
        public INDArray output(INDArray features) {
            return graph.outputSingle(false, features);
        }

        @Override
        public void setLearningRate(double lr) {
            boolean direct = graph.getUpdater(false) instanceof DirectGraphUpdater;
            graph.setLearningRate(lr); // DL4J rebuilds the updater (its own class) with the state carried over
            if (direct) {
                DirectGraphUpdater.install(graph);
            }
        }

        @Override
        public void restore(Path file) {
            try {
                ComputationGraph saved = ModelSerializer.restoreComputationGraph(file.toFile(), true);
                graph.setParams(saved.params());
                org.leukolab.backend.InferenceFusion.refold(graph); // frozen layers fused with the old parameters
                graph.getConfiguration().setIterationCount(saved.getIterationCount());
                graph.getConfiguration().setEpochCount(saved.getEpochCount());
                if (saved.getUpdater() != null && saved.getUpdater().getStateViewArray() != null
                        && graph.getUpdater().getStateViewArray() != null) {
                    graph.getUpdater().getStateViewArray().assign(saved.getUpdater().getStateViewArray());
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot read checkpoint " + file + ": " + e.getMessage(), e);
            }
        }
    }
}

package org.leukolab.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.layers.DenseLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.deeplearning4j.nn.weights.WeightInit;
import org.junit.jupiter.api.Test;
import org.leukolab.models.Optimizer;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.lossfunctions.LossFunctions;
import tech.tablesaw.api.Table;

/**
 * The logged loss is the data loss as Keras computes it: under AdamW (decoupled weight decay), Keras adds nothing to
 * the loss for the decay, while DL4J's score adds {@code 0.5 x coeff x sum(w^2)}. Checked by hand on a tiny network:
 * one batch, one step, in double precision.
 */
class KerasLossTest {
    static MultiLayerNetwork net(Optimizer o) {
        MultiLayerNetwork n = new MultiLayerNetwork(o.applyTo(o.configure(new NeuralNetConfiguration.Builder().seed(5)
                .weightInit(WeightInit.XAVIER_UNIFORM).biasInit(0.1).dataType(DataType.DOUBLE)).list()
                .layer(new DenseLayer.Builder().nIn(4).nOut(6).activation(Activation.TANH).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nIn(6).nOut(3).activation(Activation.SOFTMAX).build())
                .build()));
        n.init();
        return n;
    }

    /** Mean categorical cross-entropy of the network's inference-mode outputs on {@code d}, by hand. */
    static double crossEntropy(MultiLayerNetwork m, DataSet d) {
        INDArray p = m.output(d.getFeatures(), false);
        double ce = 0;
        for (int i = 0; i < d.numExamples(); i++) {
            ce -= Math.log(p.getDouble(i, d.getLabels().getRow(i).argMax().getInt(0)));
        }
        return ce / d.numExamples();
    }

    static DataSet data() {
        DataSet d = TrainerTest.blobs(12, 3);
        return new DataSet(d.getFeatures().castTo(DataType.DOUBLE), d.getLabels().castTo(DataType.DOUBLE));
    }

    @Test
    void underAdamWTheLossIsTheCrossEntropyAndTheDecayIsLoggedApart() {
        double wd = 0.05; // larger than Keras' 0.004, so the old error would be far above the tolerance
        MultiLayerNetwork m = net(Optimizer.adamW(1e-3, wd));
        DataSet d = data();
        // by hand, with the weights before the step: mean categorical cross-entropy, and 0.5 wd sum(w^2) over every
        // weight and bias (Optimizer.adamW decays both)
        double ce = crossEntropy(m, d);
        double penalty = 0.5 * wd * m.params().mul(m.params()).sumNumber().doubleValue();
        assertTrue(penalty > 1e-2, "the penalty is large enough to tell the two losses apart: " + penalty);

        TrainingResult r = Trainer.builder("adamw").epochs(1).batchSize(12).seed(1).learningRate(1e-3).progress(false).oneDnn(false)
                .build().fit(Network.of(m), d, d);
        Table h = r.history();
        assertEquals(ce, h.doubleColumn("loss").get(0), 1e-9, "loss = cross-entropy, without the weight-decay penalty");
        assertEquals(penalty, h.doubleColumn("weight_decay_penalty").get(0), 1e-9, "the penalty, in its own column");
        // val_loss: cross-entropy of the stepped weights, nothing added for the decay
        assertEquals(crossEntropy(m, d), h.doubleColumn("val_loss").get(0), 1e-6);
        assertEquals(0.0, Network.of(m).regularizationScore(), "no L1/L2 terms here: nothing for Keras to add");
    }

    @Test
    void withoutWeightDecayNothingChangesAndNoColumnIsAdded() {
        MultiLayerNetwork m = net(Optimizer.adam(1e-3));
        DataSet d = data();
        double ce = crossEntropy(m, d);
        TrainingResult r = Trainer.builder("adam").epochs(1).batchSize(12).seed(1).learningRate(1e-3).progress(false).oneDnn(false)
                .build().fit(Network.of(m), d, null);
        assertEquals(ce, r.history().doubleColumn("loss").get(0), 1e-9);
        assertTrue(!r.history().columnNames().contains("weight_decay_penalty"));
    }
}

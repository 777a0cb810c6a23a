package org.leukolab.training;

import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.updater.UpdaterBlock;
import org.deeplearning4j.nn.updater.graph.ComputationGraphUpdater;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.AdamUpdater;

/**
 * DL4J's updater for a {@link ComputationGraph}, without a detour it takes on every training step.
 *
 * <p>DL4J 1.0.0-M2.1's updater decides whether a gradient is the network's own by object identity
 * ({@code gradient.gradient() != getFlattenedGradientsView()}), but the graph's gradient hands out a new reshaped view of
 * its array each time it is asked, so the test always fails and every step takes the path for a gradient computed by
 * another network: per parameter of every layer, frozen ones included, it builds views of the whole parameter and
 * gradient arrays twice (before and after the updater). For report 003's MobileNetV2 0.5 under a head (148 layers, 144
 * frozen) that was 55 ms of a 130 ms step at 96x96 (docs/speed-depthwise.md). This updater hands DL4J's code the array
 * it expects when the gradient is the network's own (the same memory), so the ordinary path runs: the same arithmetic on
 * the same arrays, so the same parameters after every step (tested).
 *
 * <p>Adam blocks use {@link DenormalSafeAdam} (ND4J's arithmetic in Java, sharing the block's state arrays), which does
 * not slow down when a network with vanishing gradients drives its second moments below float's normal range: in
 * EfficientNetB0's fine-tuning step at 96x96 (30 Adam blocks, 4.0 million parameters, random weights) ND4J's Adam took
 * 200-320 ms of a 780 ms step on such moments.
 */
public final class DirectGraphUpdater extends ComputationGraphUpdater {
    private DirectGraphUpdater(ComputationGraph graph, INDArray state) {
        super(graph, state);
        for (UpdaterBlock block : getUpdaterBlocks()) {
            if (block.getGradientUpdater() != null && block.getGradientUpdater().getClass() == AdamUpdater.class) {
                block.setGradientUpdater(DenormalSafeAdam.sharing((AdamUpdater) block.getGradientUpdater()));
            }
        }
    }

    /**
     * Puts a {@code DirectGraphUpdater} in the place of {@code graph}'s updater, keeping its state (Adam's moments of a
     * resumed run, say); nothing if it already has one.
     */
    public static void install(ComputationGraph graph) {
        ComputationGraphUpdater old = graph.getUpdater(false);
        if (old instanceof DirectGraphUpdater) {
            return;
        }
        if (graph.getFlattenedGradients() == null) {
            graph.initGradientsView();
        }
        graph.setUpdater(new DirectGraphUpdater(graph, old == null ? null : old.getStateViewArray()));
    }

    @Override
    public synchronized void update(Gradient gradient, int iteration, int epoch, int batchSize, LayerWorkspaceMgr mgr) {
        super.update(asOwn(gradient, getFlattenedGradientsView()), iteration, epoch, batchSize, mgr);
    }

    /**
     * {@code gradient}, answering {@code view} for its flattened array when that array is {@code view}'s memory (the
     * network's own gradient); otherwise {@code gradient} itself.
     */
    static Gradient asOwn(Gradient gradient, INDArray view) {
        INDArray flat = gradient.gradient();
        if (flat == view || !sameMemory(flat, view)) {
            return gradient;
        }
        return new Gradient() {
            public Map<String, INDArray> gradientForVariable() {
                return gradient.gradientForVariable();
            }

            public INDArray gradient(List<String> order) {
                return gradient.gradient(order);
            }

            public INDArray gradient() {
                return view;
            }

            public void clear() {
                gradient.clear();
            }

            public INDArray getGradientFor(String variable) {
                return gradient.getGradientFor(variable);
            }

            public INDArray setGradientFor(String variable, INDArray g) {
                return gradient.setGradientFor(variable, g);
            }

            public INDArray setGradientFor(String variable, INDArray g, Character order) {
                return gradient.setGradientFor(variable, g, order);
            }

            public Character flatteningOrderForVariable(String variable) {
                return gradient.flatteningOrderForVariable(variable);
            }
        };
    }

    private static boolean sameMemory(INDArray a, INDArray b) {
        return a.length() == b.length() && a.dataType() == b.dataType() && a.elementWiseStride() == 1 && b.elementWiseStride() == 1
                && a.data().address() + a.offset() * a.dataType().width() == b.data().address() + b.offset() * b.dataType().width();
    }
}

package org.leukolab.models;

import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.BaseActivationFunction;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Keras' (and MobileNetV3's) hard swish, {@code x * relu6(x + 3) / 6}, and with {@link #gateOnly()} its hard sigmoid
 * {@code relu6(x + 3) / 6} (the squeeze-and-excitation gate). DL4J's own {@code HARDSIGMOID} is a different function
 * ({@code 0.2 x + 0.5}, clipped), so neither can be taken from there.
 */
public class HardSwish extends BaseActivationFunction implements org.leukolab.backend.OneDnnActivation {
    private boolean gate;

    /** Hard swish. */
    public HardSwish() {
        this(false);
    }

    private HardSwish(boolean gate) {
        this.gate = gate;
    }

    /** The hard sigmoid alone: relu6(x + 3) / 6. */
    public static HardSwish gateOnly() {
        return new HardSwish(true);
    }

    public boolean isGate() {
        return gate;
    }

    public void setGate(boolean gate) { // for DL4J's JSON configuration
        this.gate = gate;
    }

    /** oneDNN's {@code hardswish} is x * relu6(x + 3) / 6 (the gate alone has no oneDNN algorithm here). */
    @Override
    public String oneDnnEltwise() {
        return gate ? null : "hardswish";
    }

    private static INDArray hardSigmoid(INDArray x) {
        return Transforms.min(Transforms.max(x.div(6.0).addi(0.5), 0.0, false), 1.0, false);
    }

    @Override
    public INDArray getActivation(INDArray in, boolean training) {
        INDArray h = hardSigmoid(in);
        return gate ? in.assign(h) : in.muli(h);
    }

    @Override
    public Pair<INDArray, INDArray> backprop(INDArray in, INDArray epsilon) {
        assertShape(in, epsilon);
        // d/dx relu6(x + 3) / 6 = 1/6 on (-3, 3), else 0
        INDArray slope = in.gt(-3.0).castTo(in.dataType()).muli(in.lt(3.0).castTo(in.dataType())).divi(6.0);
        INDArray d = gate ? slope : hardSigmoid(in).addi(in.mul(slope));
        return new Pair<>(d.muli(epsilon), null);
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HardSwish h && h.gate == gate;
    }

    @Override
    public int hashCode() {
        return gate ? 17 : 16;
    }

    @Override
    public String toString() {
        return gate ? "hard_sigmoid" : "hard_swish";
    }
}

package org.leukolab.backend;

import static org.bytedeco.dnnl.global.dnnl.*;

import java.util.Map;
import org.bytedeco.dnnl.dnnl_eltwise_desc_t;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.ActivationLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.activations.impl.ActivationReLU6;
import org.nd4j.linalg.activations.impl.ActivationSigmoid;
import org.nd4j.linalg.activations.impl.ActivationSwish;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A swish, sigmoid or ReLU6 activation layer computed by oneDNN's element-wise primitives, forward and backward: one
 * pass over the array each way. DL4J's own layer copies its input, then runs ND4J's swish (forward), and for the gradient copies
 * the input again and runs several ND4J operations; in EfficientNetB0's fine-tuning step at 96x96 its swish layers took
 * about 13% of the step, MobileNetV2's ReLU6 layers 17% of its step. ReLU6's kinks (0 and 6) use ND4J's convention
 * for the gradient there (tested at exactly those points); other activations, dropout and arrays other than float stay
 * with DL4J's code. Installed with the fusion ({@link InferenceFusion#apply}) and checked with it against float64,
 * gradients included.
 */
final class EltwiseActivationLayer extends ActivationLayer {
    private static final int MAX_PLANS = 8;
    /**
     * ReLU6 as oneDNN's {@code clip_v2} on [0, 6], whose gradient passes where {@code 0 < x < 6}, ND4J's convention
     * ({@code clip}, the fusion's post-op, lets {@code x == 6} through: fine forward, not backward). Tested at 0 and 6.
     */
    static final Dnnl.Eltwise RELU6 = new Dnnl.Eltwise(dnnl_eltwise_clip_v2, 0f, 6f, "relu6");
    private final Dnnl.Eltwise kind;
    private final float fault;
    private final Map<Long, Plan> plans = Dnnl.recentlyUsed(MAX_PLANS);

    private EltwiseActivationLayer(ActivationLayer original, Dnnl.Eltwise kind, double fault) {
        super(original.conf(), original.getDataType());
        RuntimeLayers.copyState(original, this);
        this.kind = kind;
        this.fault = (float) fault;
    }

    /** The oneDNN version of {@code layer}, or null if its activation, dropout or data type is not handled. */
    static EltwiseActivationLayer of(ActivationLayer layer) {
        return of(layer, 1.0);
    }

    /** As {@link #of(ActivationLayer)}; {@code fault} multiplies the output (1: none; tests plant a wrong kernel with it). */
    static EltwiseActivationLayer of(ActivationLayer layer, double fault) {
        var c = (org.deeplearning4j.nn.conf.layers.ActivationLayer) layer.conf().getLayer();
        if (layer.getClass() != ActivationLayer.class || c.getIDropout() != null || layer.getDataType() != DataType.FLOAT) {
            return null;
        }
        var f = c.getActivationFn();
        Dnnl.Eltwise kind = f instanceof ActivationSwish ? Dnnl.Eltwise.SWISH
                : f instanceof ActivationSigmoid ? Dnnl.Eltwise.SIGMOID
                : f instanceof ActivationReLU6 ? RELU6 : null;
        return kind == null ? null : new EltwiseActivationLayer(layer, kind, fault);
    }

    @Override
    public INDArray activate(boolean training, LayerWorkspaceMgr mgr) {
        assertInputSet(false);
        if (input.dataType() != DataType.FLOAT) {
            return super.activate(training, mgr);
        }
        INDArray x = Dnnl.plain(input) ? input : input.dup('c');
        INDArray out = mgr.createUninitialized(ArrayType.ACTIVATIONS, DataType.FLOAT, input.shape(), 'c');
        plan(x.length()).forward(x, out);
        return fault == 1f ? out : out.muli(fault);
    }

    @Override
    public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr mgr) {
        assertInputSet(true);
        if (input.dataType() != DataType.FLOAT || epsilon.dataType() != DataType.FLOAT) {
            return super.backpropGradient(epsilon, mgr);
        }
        INDArray x = Dnnl.plain(input) ? input : input.dup('c');
        INDArray e = Dnnl.plain(epsilon) ? epsilon : epsilon.dup('c');
        INDArray delta = mgr.createUninitialized(ArrayType.ACTIVATION_GRAD, DataType.FLOAT, input.shape(), 'c');
        plan(x.length()).backward(x, e, delta);
        return new Pair<>(new DefaultGradient(), delta);
    }

    private Plan plan(long n) {
        synchronized (plans) {
            return plans.computeIfAbsent(n, k -> new Plan(kind, k));
        }
    }

    /** oneDNN's forward and backward element-wise primitives over a flat array of one length. */
    private static final class Plan {
        final Dnnl.Primitive fwd;
        final Dnnl.Primitive bwd;
        final Dnnl.Memory src;
        final Dnnl.Memory dst;
        final Dnnl.Memory diffDst;
        final Dnnl.Memory diffSrc;

        Plan(Dnnl.Eltwise kind, long n) {
            long[] dims = {n};
            dnnl_eltwise_desc_t fd = new dnnl_eltwise_desc_t();
            Dnnl.check(dnnl_eltwise_forward_desc_init(fd, dnnl_forward_training, kind.kind(), Dnnl.desc(dims, dnnl_a),
                    kind.alpha(), kind.beta()), "describe a " + kind.name());
            fwd = Dnnl.primitive(fd, null, "a " + kind.name());
            dnnl_eltwise_desc_t bd = new dnnl_eltwise_desc_t();
            Dnnl.check(dnnl_eltwise_backward_desc_init(bd, kind.kind(), Dnnl.desc(dims, dnnl_a), Dnnl.desc(dims, dnnl_a),
                    kind.alpha(), kind.beta()), "describe a " + kind.name() + "'s gradient");
            bwd = Dnnl.primitive(bd, fwd, "a " + kind.name() + "'s gradient");
            src = Dnnl.wrapper(Dnnl.desc(dims, dnnl_a));
            dst = Dnnl.wrapper(Dnnl.desc(dims, dnnl_a));
            diffDst = Dnnl.wrapper(Dnnl.desc(dims, dnnl_a));
            diffSrc = Dnnl.wrapper(Dnnl.desc(dims, dnnl_a));
        }

        synchronized void forward(INDArray x, INDArray out) {
            fwd.execute(DNNL_ARG_SRC, src.point(x), DNNL_ARG_DST, dst.point(out));
        }

        synchronized void backward(INDArray x, INDArray eps, INDArray out) {
            bwd.execute(DNNL_ARG_SRC, src.point(x), DNNL_ARG_DIFF_DST, diffDst.point(eps), DNNL_ARG_DIFF_SRC, diffSrc.point(out));
        }
    }
}

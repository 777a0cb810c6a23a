package org.leukolab.backend;

import static org.bytedeco.dnnl.global.dnnl.*;

import java.util.Arrays;
import java.util.Map;
import org.bytedeco.dnnl.dnnl_binary_desc_t;
import org.leukolab.backend.Dnnl.Memory;
import org.leukolab.backend.Dnnl.Primitive;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.api.ops.impl.broadcast.BroadcastMulOp;
import org.nd4j.linalg.factory.Nd4j;

/**
 * {@code out = x * s[:, :, None, None]} for a feature map {@code x [n, c, h, w]} and a per-example, per-channel
 * {@code s [n, c]} (squeeze-and-excitation's scaling): oneDNN's binary multiplication with broadcasting where leukolab's
 * kernels may run (float32, contiguous arrays), else ND4J's broadcast. The same products either way (one float32
 * multiplication per element); oneDNN's JIT kernel took about a third of ND4J's time for EfficientNetB0's 16 scalings.
 */
public final class ChannelScale {
    private static final int MAX_PLANS = 8;
    private static final Map<String, Plan> PLANS = Dnnl.recentlyUsed(MAX_PLANS);

    private ChannelScale() {}

    /** Writes {@code x * s[:, :, None, None]} into {@code out} (same shape as {@code x}; may be {@code x}); returns it. */
    public static INDArray multiply(INDArray x, INDArray s, INDArray out) {
        if (OneDnnLayers.available() && x.dataType() == DataType.FLOAT && s.dataType() == DataType.FLOAT
                && out.dataType() == DataType.FLOAT && Dnnl.plain(x) && Dnnl.plain(s) && Dnnl.plain(out) && x.rank() == 4) {
            Plan p;
            synchronized (PLANS) {
                p = PLANS.computeIfAbsent(Arrays.toString(x.shape()), k -> new Plan(x.shape()));
            }
            p.run(x, s, out);
            return out;
        }
        Nd4j.getExecutioner().exec(new BroadcastMulOp(x, s.castTo(x.dataType()), out, 0, 1));
        return out;
    }

    /**
     * {@code out = x * scale[c]} then {@code + shift[c]} (if {@code shift} is not null) for a float32 NCHW {@code x}, on
     * oneDNN's binary kernel (one pass: the multiplication with the addition as a post-op, each rounded as a float32
     * product and sum are: the same values as ND4J's two broadcasts and {@link NchwBatchNorm}'s plain-Java pass, bit for bit). False, writing nothing, where they cannot run.
     */
    static boolean affine(INDArray x, float[] scale, float[] shift, INDArray out) {
        if (!OneDnnLayers.available() || x.rank() != 4 || x.dataType() != DataType.FLOAT || out.dataType() != DataType.FLOAT
                || !Dnnl.plain(x) || !Dnnl.plain(out) || !out.equalShapes(x) || scale.length != x.size(1)
                || (shift != null && shift.length != x.size(1))) {
            return false;
        }
        Affine a;
        synchronized (AFFINE) {
            a = AFFINE.computeIfAbsent(Arrays.toString(x.shape()), k -> new Affine(x.shape()));
        }
        a.run(x, scale, shift, out);
        return true;
    }

    /** oneDNN's description of {@code x * s} for an NCHW {@code x} of {@code shape} and an {@code s} broadcast from {@code sShape}. */
    private static dnnl_binary_desc_t multiplication(long[] shape, long[] perChannel) {
        dnnl_binary_desc_t d = new dnnl_binary_desc_t();
        Dnnl.check(dnnl_binary_desc_init(d, dnnl_binary_mul, Dnnl.desc(shape, dnnl_nchw), Dnnl.desc(perChannel, dnnl_nchw),
                Dnnl.desc(shape, dnnl_nchw)), "describe a per-channel multiplication on " + Arrays.toString(shape));
        return d;
    }

    private static final Map<String, Affine> AFFINE = Dnnl.recentlyUsed(MAX_PLANS);

    /** Per-channel multiplication and addition of [1, c, 1, 1] vectors held in buffers of the plan's own. */
    private static final class Affine {
        final Primitive mul;
        final Primitive mulAdd;
        final Memory x;
        final Memory out;
        final Memory scale;
        final Memory shift;
        final org.bytedeco.javacpp.FloatPointer scaleValues;
        final org.bytedeco.javacpp.FloatPointer shiftValues;

        Affine(long[] shape) {
            long[] perChannel = {1, shape[1], 1, 1};
            mul = Dnnl.primitive(multiplication(shape, perChannel), null, "a per-channel multiplication");
            mulAdd = Dnnl.primitive(multiplication(shape, perChannel), dnnl_binary_add, Dnnl.desc(perChannel, dnnl_nchw),
                    "a per-channel multiply-add");
            x = Dnnl.wrapper(Dnnl.desc(shape, dnnl_nchw));
            out = Dnnl.wrapper(Dnnl.desc(shape, dnnl_nchw));
            scaleValues = new org.bytedeco.javacpp.FloatPointer(shape[1]);
            shiftValues = new org.bytedeco.javacpp.FloatPointer(shape[1]);
            scale = Dnnl.wrapper(Dnnl.desc(perChannel, dnnl_nchw));
            shift = Dnnl.wrapper(Dnnl.desc(perChannel, dnnl_nchw));
            Dnnl.check(dnnl_memory_set_data_handle(scale.memory, scaleValues), "point a memory object at a buffer");
            Dnnl.check(dnnl_memory_set_data_handle(shift.memory, shiftValues), "point a memory object at a buffer");
        }

        synchronized void run(INDArray in, float[] s, float[] t, INDArray result) {
            scaleValues.put(s);
            if (t == null) {
                mul.execute(DNNL_ARG_SRC_0, x.point(in), DNNL_ARG_SRC_1, scale, DNNL_ARG_DST, out.point(result));
            } else { // one pass: the product rounded to float, then the sum (the values of two passes, tested bit for bit)
                shiftValues.put(t);
                mulAdd.execute(DNNL_ARG_SRC_0, x.point(in), DNNL_ARG_SRC_1, scale, Dnnl.binaryPostOpInput(0), shift,
                        DNNL_ARG_DST, out.point(result));
            }
        }
    }

    private static final class Plan {
        final Primitive mul;
        final Memory src0;
        final Memory src1;
        final Memory dst;

        Plan(long[] shape) {
            long[] scale = {shape[0], shape[1], 1, 1};
            mul = Dnnl.primitive(multiplication(shape, scale), null, "a per-channel multiplication");
            src0 = Dnnl.wrapper(Dnnl.desc(shape, dnnl_nchw));
            src1 = Dnnl.wrapper(Dnnl.desc(scale, dnnl_nchw));
            dst = Dnnl.wrapper(Dnnl.desc(shape, dnnl_nchw));
        }

        synchronized void run(INDArray x, INDArray s, INDArray out) {
            mul.execute(DNNL_ARG_SRC_0, src0.point(x), DNNL_ARG_SRC_1, src1.point(s), DNNL_ARG_DST, dst.point(out));
        }
    }
}

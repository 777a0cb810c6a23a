package org.leukolab.backend;

import static org.bytedeco.dnnl.global.dnnl.*;

import java.util.HashMap;
import java.util.Map;
import org.bytedeco.dnnl.const_dnnl_op_desc_t;
import org.bytedeco.dnnl.dnnl_engine;
import org.bytedeco.dnnl.dnnl_exec_arg_t;
import org.bytedeco.dnnl.dnnl_memory;
import org.bytedeco.dnnl.dnnl_memory_desc_t;
import org.bytedeco.dnnl.dnnl_post_ops;
import org.bytedeco.dnnl.dnnl_primitive_attr;
import org.bytedeco.dnnl.dnnl_primitive;
import org.bytedeco.dnnl.dnnl_primitive_desc;
import org.bytedeco.dnnl.dnnl_stream;
import org.bytedeco.javacpp.BytePointer;
import org.bytedeco.javacpp.Pointer;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * A small Java layer over oneDNN's C API (JavaCPP's {@code org.bytedeco:dnnl} preset, oneDNN 2.5.2): one CPU engine
 * and stream, float32 memory descriptors, primitives built from an operation descriptor, memory objects that either
 * point into an ND4J array or own a buffer, and reorders between layouts.
 *
 * <p>This is a second copy of oneDNN in the process (ND4J's native library carries its own, linked in and not
 * callable from Java). leukolab calls this one where DL4J's layer helpers do work that is not needed or convert
 * layouts more often than needed (see {@link OneDnnConvolution}). Every object made here lives as long as the
 * plan that made it; nothing is freed per call.
 */
final class Dnnl {
    private static final dnnl_engine ENGINE = new dnnl_engine();
    private static final dnnl_stream STREAM = new dnnl_stream();
    /** Room for one call's arguments, per thread (allocating it per call cost JavaCPP's memory accounting each time). */
    private static final int MAX_ARGS = 8;
    private static final ThreadLocal<dnnl_exec_arg_t> ARGS = ThreadLocal.withInitial(() -> new dnnl_exec_arg_t(MAX_ARGS));

    static {
        check(dnnl_engine_create(ENGINE, dnnl_cpu, 0), "create a CPU engine");
        check(dnnl_stream_create(STREAM, ENGINE, dnnl_stream_default_flags), "create a stream");
    }

    private Dnnl() {}

    static void check(int status, String what) {
        if (status != dnnl_success) {
            throw new IllegalStateException("oneDNN could not " + what + " (status " + status + ")");
        }
    }

    /** A float32 descriptor of {@code dims} in layout {@code tag} ({@code dnnl_nchw}, {@code dnnl_format_tag_any}, ...). */
    static dnnl_memory_desc_t desc(long[] dims, int tag) {
        dnnl_memory_desc_t md = new dnnl_memory_desc_t();
        check(dnnl_memory_desc_init_by_tag(md, dims.length, dims, dnnl_f32, tag), "describe an array of " + java.util.Arrays.toString(dims));
        return md;
    }

    /** A float32 descriptor of {@code dims} laid out with the given element {@code strides} (a permuted array, say). */
    static dnnl_memory_desc_t desc(long[] dims, long[] strides) {
        dnnl_memory_desc_t md = new dnnl_memory_desc_t();
        check(dnnl_memory_desc_init_by_strides(md, dims.length, dims, dnnl_f32, strides),
                "describe an array of " + java.util.Arrays.toString(dims) + " with strides " + java.util.Arrays.toString(strides));
        return md;
    }

    /**
     * A map keeping the {@code max} most recently used entries (plans per array shape: a run sees one or two shapes per
     * layer, and a plan holds primitives worth keeping, but not for every shape ever seen).
     */
    static <K, V> Map<K, V> recentlyUsed(int max) {
        return new java.util.LinkedHashMap<>(2 * max, 0.75f, true) {
            @Override
            protected boolean removeEldestEntry(Map.Entry<K, V> e) {
                return size() > max;
            }
        };
    }

    static boolean same(dnnl_memory_desc_t a, dnnl_memory_desc_t b) {
        return dnnl_memory_desc_equal(a, b) != 0;
    }

    /** A primitive and its descriptor. */
    static final class Primitive {
        final dnnl_primitive_desc pd;
        final dnnl_primitive primitive;

        private Primitive(dnnl_primitive_desc pd, String what) {
            this.pd = pd;
            this.primitive = new dnnl_primitive();
            check(dnnl_primitive_create(primitive, pd), "create the primitive for " + what);
        }

        /** The memory descriptor the primitive chose for {@code query} ({@code dnnl_query_src_md}, ...). */
        dnnl_memory_desc_t md(int query) {
            dnnl_memory_desc_t md = dnnl_primitive_desc_query_md(pd, query, 0);
            // copy: the returned descriptor belongs to the primitive descriptor
            dnnl_memory_desc_t copy = new dnnl_memory_desc_t();
            Pointer.memcpy(copy, md, copy.sizeof());
            return copy;
        }

        /** oneDNN's name of the implementation chosen ({@code jit:avx2}, {@code gemm:jit}, ...). */
        String implementation() {
            org.bytedeco.javacpp.PointerPointer<BytePointer> out = new org.bytedeco.javacpp.PointerPointer<>(1);
            check(dnnl_primitive_desc_query(pd, dnnl_query_impl_info_str, 0, out), "name an implementation");
            return out.get(BytePointer.class, 0).getString();
        }

        void execute(Object... argsAndMemories) {
            int n = argsAndMemories.length / 2;
            if (n > MAX_ARGS) {
                throw new IllegalArgumentException("a primitive call with " + n + " arguments; at most " + MAX_ARGS);
            }
            dnnl_exec_arg_t args = ARGS.get();
            for (int i = 0; i < n; i++) {
                args.position(i).arg((Integer) argsAndMemories[2 * i]).memory(((Memory) argsAndMemories[2 * i + 1]).memory);
            }
            args.position(0);
            check(dnnl_primitive_execute(primitive, STREAM, n, args), "run a primitive");
            check(dnnl_stream_wait(STREAM), "finish a primitive");
        }
    }

    /** The primitive for an operation descriptor (a convolution's, say), optionally hinted by a forward primitive. */
    static Primitive primitive(Pointer opDesc, Primitive hint, String what) {
        return primitive(opDesc, hint, false, what);
    }

    /**
     * As {@link #primitive(Pointer, Primitive, String)}; with {@code relu}, a ReLU applied to the result inside the
     * kernel (oneDNN's eltwise post-op: one pass over the output instead of two).
     */
    static Primitive primitive(Pointer opDesc, Primitive hint, boolean relu, String what) {
        return primitive(opDesc, hint, relu ? Eltwise.RELU : null, what);
    }

    /**
     * An element-wise function oneDNN applies to a primitive's result inside the kernel (a post-op): {@code kind} is one
     * of oneDNN's {@code dnnl_eltwise_*} algorithms with its {@code alpha} and {@code beta}.
     */
    record Eltwise(int kind, float alpha, float beta, String name) {
        static final Eltwise RELU = new Eltwise(dnnl_eltwise_relu, 0f, 0f, "relu");
        /** min(max(x, 0), 6). */
        static final Eltwise RELU6 = new Eltwise(dnnl_eltwise_clip, 0f, 6f, "relu6");
        /** x * sigmoid(x). */
        static final Eltwise SWISH = new Eltwise(dnnl_eltwise_swish, 1f, 0f, "swish");
        /** x * relu6(x + 3) / 6. */
        static final Eltwise HARD_SWISH = new Eltwise(dnnl_eltwise_hardswish, 0f, 0f, "hard swish");
        /** 1 / (1 + exp(-x)). */
        static final Eltwise SIGMOID = new Eltwise(dnnl_eltwise_logistic, 0f, 0f, "sigmoid");
    }

    /** As {@link #primitive(Pointer, Primitive, String)}, with {@code post} (null: none) applied inside the kernel. */
    static Primitive primitive(Pointer opDesc, Primitive hint, Eltwise post, String what) {
        return withPostOps(opDesc, hint, post == null ? null : ops -> check(dnnl_post_ops_append_eltwise(ops, 1f, post.kind(),
                post.alpha(), post.beta()), "append a " + post.name() + " post-op"), what);
    }

    /** The execution argument of the second input of binary post-op number {@code index} (oneDNN's macro, in Java). */
    static int binaryPostOpInput(int index) {
        return DNNL_ARG_ATTR_MULTIPLE_POST_OP_BASE * (index + 1) | DNNL_ARG_SRC_1;
    }

    /** As {@link #primitive(Pointer, Primitive, String)} with one binary post-op ({@code dnnl_binary_add}, ...) on {@code src1}. */
    static Primitive primitive(Pointer opDesc, int binaryPost, dnnl_memory_desc_t src1, String what) {
        return withPostOps(opDesc, null, ops -> check(dnnl_post_ops_append_binary(ops, binaryPost, src1), "append a binary post-op"), what);
    }

    /** The primitive for {@code opDesc} with the post-ops {@code append} adds (null: no attributes at all). */
    private static Primitive withPostOps(Pointer opDesc, Primitive hint, java.util.function.Consumer<dnnl_post_ops> append, String what) {
        dnnl_primitive_attr attr = null;
        dnnl_post_ops ops = null;
        if (append != null) {
            attr = new dnnl_primitive_attr();
            ops = new dnnl_post_ops();
            check(dnnl_primitive_attr_create(attr), "create primitive attributes");
            check(dnnl_post_ops_create(ops), "create post-ops");
        }
        try {
            if (append != null) {
                append.accept(ops);
                check(dnnl_primitive_attr_set_post_ops(attr, ops), "set the post-ops");
            }
            dnnl_primitive_desc pd = new dnnl_primitive_desc();
            check(dnnl_primitive_desc_create(pd, new const_dnnl_op_desc_t(opDesc), attr, ENGINE, hint == null ? null : hint.pd),
                    "find an implementation of " + what);
            return new Primitive(pd, what);
        } finally {
            if (append != null) {
                dnnl_post_ops_destroy(ops);
                dnnl_primitive_attr_destroy(attr);
            }
        }
    }

    /** A reorder from layout {@code from} to layout {@code to}, or null if they are the same. */
    static Primitive reorder(dnnl_memory_desc_t from, dnnl_memory_desc_t to) {
        if (same(from, to)) {
            return null;
        }
        dnnl_primitive_desc pd = new dnnl_primitive_desc();
        check(dnnl_reorder_primitive_desc_create(pd, from, ENGINE, to, ENGINE, null), "create a reorder");
        return new Primitive(pd, "a reorder");
    }

    /** A memory object, pointed at an ND4J array ({@link #point}) or at a working buffer ({@link #scratch}) before each use. */
    static final class Memory {
        final dnnl_memory_desc_t md;
        final dnnl_memory memory = new dnnl_memory();
        /** The buffer of an {@link #owned} memory (held here so it lives as long as the memory object). */
        Pointer owned;

        private Memory(dnnl_memory_desc_t md, Pointer handle) {
            this.md = md;
            check(dnnl_memory_create(memory, md, ENGINE, handle), "create a memory object");
        }

        /** Points this memory at {@code array}'s first element (a float32, row-major, contiguous array). */
        Memory point(INDArray array) {
            if (!plain(array)) {
                throw new IllegalArgumentException("oneDNN kernels need a contiguous float32 array in 'c' order, got "
                        + array.dataType() + " " + array.shapeInfoToString());
            }
            check(dnnl_memory_set_data_handle(memory, new Address(array.data().address() + array.offset() * 4L)),
                    "point a memory object at an array");
            return this;
        }

        /** Points this memory at this thread's working buffer for {@code role} (see {@link Scratch}). */
        Memory scratch(String role) {
            check(dnnl_memory_set_data_handle(memory, Scratch.get(role, Math.max(1, dnnl_memory_desc_get_size(md)))),
                    "point a memory object at a working buffer");
            return this;
        }
    }

    /**
     * Working buffers shared by every kernel call of one thread, one per role (a convolution's source, weights, output
     * and their gradients in the kernel's layout): a call converts an array into its role's buffer, runs, and converts the
     * result back, so a buffer's content matters only within one call (or, for the output gradient, from the weight
     * gradient to the input gradient of the same layer's backward pass). One buffer per role and thread, grown to the
     * largest size asked, instead of one per layer and shape: a network holds the largest layer's buffers once.
     */
    static final class Scratch {
        private static final ThreadLocal<Map<String, BytePointer>> BUFFERS = ThreadLocal.withInitial(HashMap::new);

        private Scratch() {}

        /** This thread's buffer for {@code role}, at least {@code bytes} long. */
        static Pointer get(String role, long bytes) {
            Map<String, BytePointer> m = BUFFERS.get();
            BytePointer b = m.get(role);
            if (b == null || b.capacity() < bytes) {
                if (b != null) {
                    b.deallocate();
                }
                b = new BytePointer(Math.max(1, bytes));
                m.put(role, b);
            }
            return b;
        }

        /** Bytes held by this thread's buffers. */
        static long bytes() {
            return BUFFERS.get().values().stream().mapToLong(BytePointer::capacity).sum();
        }
    }

    /** Whether {@code array} can be handed to oneDNN as it is: float32, row-major, contiguous. */
    static boolean plain(INDArray array) {
        return array.dataType() == DataType.FLOAT && (array.length() == 1 || array.elementWiseStride() == 1)
                && (array.ordering() == 'c' || array.rank() <= 2 && array.isVector());
    }

    /**
     * Memory of layout {@code md} with a buffer of its own, kept as long as the memory object (for arrays that are
     * converted once and used many times: the weights of a convolution that no longer changes).
     */
    static Memory owned(dnnl_memory_desc_t md) {
        BytePointer buffer = new BytePointer(Math.max(1, dnnl_memory_desc_get_size(md)));
        Memory m = new Memory(md, buffer);
        m.owned = buffer;
        return m;
    }

    /** Memory of layout {@code md} to be pointed at arrays later. */
    static Memory wrapper(dnnl_memory_desc_t md) {
        return new Memory(md, null);
    }

    /** Runs {@code reorder} (if not null) from {@code from} to {@code to}. */
    static void reorder(Primitive reorder, Memory from, Memory to) {
        if (reorder != null) {
            reorder.execute(DNNL_ARG_FROM, from, DNNL_ARG_TO, to);
        }
    }

    /** A raw address as a JavaCPP pointer (ND4J arrays hand out addresses, not pointers of this preset's types). */
    private static final class Address extends Pointer {
        Address(long address) {
            this.address = address;
        }
    }
}

package org.leukolab.backend;

import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.ActivationLayer;
import org.deeplearning4j.nn.layers.convolution.ConvolutionLayer;
import org.deeplearning4j.nn.layers.convolution.ZeroPaddingLayer;
import org.deeplearning4j.nn.layers.normalization.BatchNormalization;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.ndarray.INDArray;

/**
 * The runtime layers {@link InferenceFusion} puts in a graph's place: a convolution that computes its whole chain
 * (padding, convolution, batch normalisation, activation) in one oneDNN call, and the layers of the chain after and before
 * it, which then only hand that result on. Each keeps its original's configuration and parameters (a saved or copied
 * graph is the original graph); none can be trained.
 */
final class FusedLayers {
    private FusedLayers() {}

    static IllegalStateException notTrainable(String name) {
        return new IllegalStateException("layer " + name + " runs fused for inference (OneDnnLayers.installForInference or "
                + "installOnFrozenLayers folded it into the convolution before it) and cannot be trained; build the network "
                + "again to train it");
    }

    /**
     * A chain's end (or a padding folded into the convolution after it) hands on what it gets: the chain's result, which
     * {@link InferenceFusion} keeps in its own buffers. It copies it into the network's own memory where the network keeps
     * it (an output of the network, or the input of a layer that is trained).
     */
    static INDArray handOn(INDArray input, boolean copy, LayerWorkspaceMgr mgr, InferenceFusion.Chain chain) {
        if (copy || mgr.isScopedOut(ArrayType.ACTIVATIONS)) {
            // a result the chain left in oneDNN's layout is converted on its way out (only fused convolutions read it as it is)
            return chain == null ? mgr.dup(ArrayType.ACTIVATIONS, input) : chain.nchw(input, mgr);
        }
        return input;
    }

    /** A (non-depthwise) convolution computing its chain. */
    static final class Convolution extends ConvolutionLayer {
        private final InferenceFusion.Chain chain;

        Convolution(ConvolutionLayer original, InferenceFusion.Chain chain) {
            super(original.conf(), original.getDataType());
            RuntimeLayers.copyState(original, this);
            this.chain = chain;
        }

        InferenceFusion.Chain chain() {
            return chain;
        }

        @Override
        public INDArray activate(boolean training, LayerWorkspaceMgr mgr) {
            assertInputSet(false);
            return chain.forward(input);
        }

        @Override
        public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr mgr) {
            throw notTrainable(layerId());
        }
    }

    /** A batch normalisation folded into the convolution before it. */
    static final class FoldedBatchNorm extends BatchNormalization {
        private final boolean copy;
        private final InferenceFusion.Chain chain;

        FoldedBatchNorm(BatchNormalization original, boolean copy, InferenceFusion.Chain chain) {
            super(original.conf(), original.getDataType());
            RuntimeLayers.copyState(original, this);
            this.copy = copy;
            this.chain = chain;
        }

        @Override
        public INDArray activate(boolean training, LayerWorkspaceMgr mgr) {
            assertInputSet(false);
            return handOn(input, copy, mgr, chain);
        }

        @Override
        public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr mgr) {
            throw notTrainable(layerId());
        }
    }

    /** An activation computed inside the convolution's kernel. */
    static final class FoldedActivation extends ActivationLayer {
        private final boolean copy;
        private final InferenceFusion.Chain chain;

        FoldedActivation(ActivationLayer original, boolean copy, InferenceFusion.Chain chain) {
            super(original.conf(), original.getDataType());
            RuntimeLayers.copyState(original, this);
            this.copy = copy;
            this.chain = chain;
        }

        @Override
        public INDArray activate(boolean training, LayerWorkspaceMgr mgr) {
            assertInputSet(false);
            return handOn(input, copy, mgr, chain);
        }

        @Override
        public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr mgr) {
            throw notTrainable(layerId());
        }
    }

    /**
     * A small frozen dense layer (squeeze-and-excitation's two on a pooled map: at most {@value InferenceFusion#SMALL_DENSE}
     * weights) computed in plain Java from weights copied when the fusion was made: DL4J's dense layer spent about 0.9 ms
     * a call on such a layer (EfficientNetB0 at 96x96 has 32 of them), most of it not arithmetic. The activation is the
     * layer's own, applied by ND4J as DL4J applies it.
     */
    static final class SmallDense extends org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer {
        /**
         * From this many multiply-adds a call ({@code n x in x out}) the product is one BLAS call ({@code Nd4j.gemm}) rather
         * than the Java loop, which ran at about 4 GFLOP/s: 32 x 1,536 x 64 took 1.67 ms in Java and 0.16 ms in BLAS,
         * 32 x 256 x 16 77 and 22 us, while 32 x 96 x 4 took 12 us in Java and 24 us in BLAS (Intel Xeon, 2026-12-07).
         */
        static final long BLAS_MULTIPLY_ADDS = 1L << 16;
        private float[] weights; // [in, out], row-major
        private INDArray weightArray; // the same, for BLAS (outside the workspaces)
        private float[] bias;
        private final int in;
        private final int out;

        SmallDense(org.deeplearning4j.nn.layers.feedforward.dense.DenseLayer original) {
            super(original.conf(), original.getDataType());
            RuntimeLayers.copyState(original, this);
            var c = (org.deeplearning4j.nn.conf.layers.DenseLayer) original.conf().getLayer();
            this.in = (int) c.getNIn();
            this.out = (int) c.getNOut();
            refold();
        }

        /** Copies the weights again (after the network's parameters were replaced). */
        void refold() {
            weights = getParam("W").castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).dup('c').data().asFloat();
            try (var ws = org.nd4j.linalg.factory.Nd4j.getWorkspaceManager().scopeOutOfWorkspaces()) {
                weightArray = org.nd4j.linalg.factory.Nd4j.create(weights, new long[] {in, out}, 'c');
            }
            INDArray b = getParam("b");
            bias = b == null ? new float[out] : b.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).dup('c').data().asFloat();
        }

        @Override
        public INDArray activate(boolean training, LayerWorkspaceMgr mgr) {
            assertInputSet(false);
            if (input.rank() != 2 || input.size(1) != in) {
                throw new IllegalStateException("layer " + layerId() + " takes [n, " + in + "], got " + input.shapeInfoToString());
            }
            int n = (int) input.size(0);
            INDArray xs = Dnnl.plain(input) && input.ordering() == 'c' ? input
                    : input.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).dup('c');
            INDArray result = mgr.createUninitialized(ArrayType.ACTIVATIONS, org.nd4j.linalg.api.buffer.DataType.FLOAT,
                    new long[] {n, out}, 'c');
            if ((long) n * in * out >= BLAS_MULTIPLY_ADDS) {
                SmallDenseLayer.blasProduct(xs, weightArray, bias, result);
            } else {
                SmallDenseLayer.write(result, SmallDenseLayer.rowMajorProduct(SmallDenseLayer.floats(xs), n, in, out, weights, bias));
            }
            return layerConf().getActivationFn().getActivation(result, false);
        }

        @Override
        public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr mgr) {
            throw notTrainable(layerId());
        }
    }

    /** A zero padding done by the convolution after it: hands its (unpadded) input on. */
    static final class FoldedPadding extends ZeroPaddingLayer {
        FoldedPadding(ZeroPaddingLayer original) {
            super(original.conf(), original.getDataType());
            RuntimeLayers.copyState(original, this);
        }

        @Override
        public INDArray activate(boolean training, LayerWorkspaceMgr mgr) {
            assertInputSet(false);
            return input;
        }

        @Override
        public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr mgr) {
            throw notTrainable(layerId());
        }
    }
}

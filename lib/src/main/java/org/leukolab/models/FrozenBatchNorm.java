package org.leukolab.models;

import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.deeplearning4j.nn.api.ParamInitializer;
import org.deeplearning4j.nn.conf.GradientNormalization;
import org.deeplearning4j.nn.conf.InputPreProcessor;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.memory.LayerMemoryReport;
import org.deeplearning4j.nn.conf.memory.MemoryReport;
import org.deeplearning4j.nn.gradient.DefaultGradient;
import org.deeplearning4j.nn.gradient.Gradient;
import org.deeplearning4j.nn.layers.AbstractLayer;
import org.deeplearning4j.nn.workspace.ArrayType;
import org.deeplearning4j.nn.workspace.LayerWorkspaceMgr;
import org.deeplearning4j.optimize.api.TrainingListener;
import org.leukolab.backend.NchwBatchNorm;
import org.nd4j.common.primitives.Pair;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Broadcast;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.learning.config.IUpdater;
import org.nd4j.linalg.learning.config.NoOp;
import org.nd4j.linalg.learning.regularization.Regularization;
import org.nd4j.linalg.ops.transforms.Transforms;

/**
 * Batch normalisation in inference mode — {@code gamma * (x - mean) / sqrt(var + eps) + beta} with the
 * stored statistics — with correct gradients with respect to its input. This is what a Keras
 * BatchNormalization layer with {@code trainable = False} does inside a network that is otherwise being
 * trained. DL4J's own BatchNormalization cannot do it: its backward pass always assumes batch statistics,
 * and wrapped in {@code FrozenLayerWithBackprop} it fails. Wrap this one in {@code FrozenLayerWithBackprop}
 * (which zeroes its parameter gradients); gradients still flow to the layers before it.
 *
 * <p>Its parameters have the same names, shapes and order as DL4J's BatchNormalization (with
 * {@code useLogStd(false)}): gamma, beta, mean, var, each {@code [1, channels]}. A network can therefore
 * swap one for the other and keep its parameter vector.
 *
 * <p>It is a plain DL4J layer, not a SameDiff one: forward {@code x * s + t} and backward {@code dy * s} with the
 * per-channel {@code s = gamma / sqrt(var + eps)} and {@code t = beta - mean * s}, two broadcast operations each
 * way, and no parameter gradients at all. (An earlier SameDiff version computed all four parameter gradients, only
 * for the frozen wrapper to throw them away, and took about 60% of a MobileNetV2 fine-tuning step.)
 */
public class FrozenBatchNorm extends org.deeplearning4j.nn.conf.layers.Layer {
    /** Parameter names, in the order of DL4J's batch normalisation. */
    public static final List<String> PARAMS = List.of("gamma", "beta", "mean", "var");

    private long channels;
    private double eps;
    private double decay = 0.99;
    private boolean convolutional;

    /** For JSON deserialisation. */
    public FrozenBatchNorm() {
    }

    /** @param decay the momentum the layer had while trainable, kept so unfreezing restores it */
    public FrozenBatchNorm(long channels, double eps, double decay, boolean convolutional) {
        this.channels = channels;
        this.eps = eps;
        this.decay = decay;
        this.convolutional = convolutional;
    }

    /** The inference-mode equivalent of a DL4J batch-norm layer (same parameters). */
    public static FrozenBatchNorm of(org.deeplearning4j.nn.conf.layers.BatchNormalization bn, boolean convolutional) {
        return new FrozenBatchNorm(bn.getNOut(), bn.getEps(), bn.getDecay(), convolutional);
    }

    /** Back to a trainable DL4J batch-norm layer with the same parameter layout. */
    public org.deeplearning4j.nn.conf.layers.BatchNormalization toBatchNormalization() {
        org.deeplearning4j.nn.conf.layers.BatchNormalization bn = new org.deeplearning4j.nn.conf.layers.BatchNormalization.Builder()
                .eps(eps).decay(decay).useLogStd(false).build();
        bn.setNIn(channels);
        bn.setNOut(channels);
        bn.setLayerName(getLayerName());
        return bn;
    }

    public double getDecay() {
        return decay;
    }

    public void setDecay(double decay) {
        this.decay = decay;
    }

    public long getChannels() {
        return channels;
    }

    public void setChannels(long channels) {
        this.channels = channels;
    }

    public double getEps() {
        return eps;
    }

    public void setEps(double eps) {
        this.eps = eps;
    }

    public boolean isConvolutional() {
        return convolutional;
    }

    public void setConvolutional(boolean convolutional) {
        this.convolutional = convolutional;
    }

    @Override
    public FrozenBatchNorm clone() {
        return (FrozenBatchNorm) super.clone();
    }

    @Override
    public org.deeplearning4j.nn.api.Layer instantiate(NeuralNetConfiguration conf, Collection<TrainingListener> listeners,
                                                      int layerIndex, INDArray paramsView, boolean initializeParams,
                                                      DataType dataType) {
        Impl layer = new Impl(conf, dataType);
        layer.setListeners(listeners);
        layer.setIndex(layerIndex);
        layer.setParamsViewArray(paramsView);
        layer.setParamTable(initializer().init(conf, paramsView, initializeParams));
        layer.setConf(conf);
        return layer;
    }

    @Override
    public ParamInitializer initializer() {
        return Params.INSTANCE;
    }

    @Override
    public InputType getOutputType(int layerIndex, InputType inputType) {
        return inputType;
    }

    @Override
    public void setNIn(InputType inputType, boolean override) {
        if (inputType instanceof InputType.InputTypeConvolutional c) {
            convolutional = true;
            if (override || channels == 0) {
                channels = c.getChannels();
            }
        } else if (inputType instanceof InputType.InputTypeFeedForward f) {
            convolutional = false;
            if (override || channels == 0) {
                channels = f.getSize();
            }
        }
    }

    @Override
    public InputPreProcessor getPreProcessorForInputType(InputType inputType) {
        return null;
    }

    /** Nothing here is ever regularised or updated: the statistics and scale are fixed. */
    @Override
    public List<Regularization> getRegularizationByParam(String paramName) {
        return List.of();
    }

    @Override
    public IUpdater getUpdaterByParam(String paramName) {
        return new NoOp();
    }

    @Override
    public boolean isPretrainParam(String paramName) {
        return false;
    }

    @Override
    public GradientNormalization getGradientNormalization() {
        return GradientNormalization.None;
    }

    @Override
    public double getGradientNormalizationThreshold() {
        return 0;
    }

    @Override
    public LayerMemoryReport getMemoryReport(InputType inputType) {
        return new LayerMemoryReport.Builder(getLayerName(), FrozenBatchNorm.class, inputType, inputType)
                .standardMemory(4 * channels, 0)
                .workingMemory(0, 0, 0, 0)
                .cacheMemory(MemoryReport.CACHE_MODE_ALL_ZEROS, MemoryReport.CACHE_MODE_ALL_ZEROS)
                .build();
    }

    /** gamma, beta, mean, var, each {@code [1, channels]}, one after the other in the layer's parameter view. */
    static final class Params implements ParamInitializer {
        static final Params INSTANCE = new Params();

        private static long channels(org.deeplearning4j.nn.conf.layers.Layer l) {
            return ((FrozenBatchNorm) l).getChannels();
        }

        @Override
        public long numParams(NeuralNetConfiguration conf) {
            return numParams(conf.getLayer());
        }

        @Override
        public long numParams(org.deeplearning4j.nn.conf.layers.Layer layer) {
            return 4 * channels(layer);
        }

        @Override
        public List<String> paramKeys(org.deeplearning4j.nn.conf.layers.Layer layer) {
            return PARAMS;
        }

        @Override
        public List<String> weightKeys(org.deeplearning4j.nn.conf.layers.Layer layer) {
            return PARAMS;
        }

        @Override
        public List<String> biasKeys(org.deeplearning4j.nn.conf.layers.Layer layer) {
            return List.of();
        }

        @Override
        public boolean isWeightParam(org.deeplearning4j.nn.conf.layers.Layer layer, String key) {
            return PARAMS.contains(key);
        }

        @Override
        public boolean isBiasParam(org.deeplearning4j.nn.conf.layers.Layer layer, String key) {
            return false;
        }

        @Override
        public Map<String, INDArray> init(NeuralNetConfiguration conf, INDArray view, boolean initialize) {
            Map<String, INDArray> out = views(conf, view);
            if (initialize) {
                out.get("gamma").assign(1);
                out.get("beta").assign(0);
                out.get("mean").assign(0);
                out.get("var").assign(1);
            }
            return out;
        }

        @Override
        public Map<String, INDArray> getGradientsFromFlattened(NeuralNetConfiguration conf, INDArray view) {
            return views(conf, view);
        }

        private static Map<String, INDArray> views(NeuralNetConfiguration conf, INDArray view) {
            long c = channels(conf.getLayer());
            INDArray flat = view.reshape(view.length());
            Map<String, INDArray> out = new LinkedHashMap<>();
            for (int i = 0; i < PARAMS.size(); i++) {
                out.put(PARAMS.get(i), flat.get(NDArrayIndex.interval(i * c, (i + 1) * c)).reshape(1, c));
            }
            return out;
        }
    }

    /** The layer itself: {@code y = x * s + t}, {@code dx = dy * s}, parameter gradients zero. */
    public static final class Impl extends AbstractLayer<FrozenBatchNorm> {
        private INDArray paramsView;
        private INDArray gradientView;
        private Map<String, INDArray> params = new LinkedHashMap<>();
        private Map<String, INDArray> gradients = new LinkedHashMap<>();

        Impl(NeuralNetConfiguration conf, DataType dataType) {
            super(conf, dataType);
        }

        /** The per-channel scale {@code gamma / sqrt(var + eps)}, as a vector of the given type. */
        private INDArray scale(DataType type) {
            INDArray std = Transforms.sqrt(params.get("var").castTo(type).add(layerConf().getEps()), false);
            return params.get("gamma").castTo(type).div(std).reshape(layerConf().getChannels());
        }

        /** {@code t = beta - mean * s}, as a vector of the given type. */
        private INDArray shift(INDArray s, DataType type) {
            return params.get("beta").castTo(type).reshape(s.length()).sub(params.get("mean").castTo(type).reshape(s.length()).mul(s));
        }

        /**
         * {@link #scale} and {@link #shift} for float32, computed in Java from the four parameter vectors with the same
         * float32 operations ND4J runs for them (sqrt, division, product and difference, each rounded to float32: the
         * same values bit for bit), without the eight small ND4J operations a call cost (about 0.3 ms each way, for
         * every frozen batch norm of a fine-tuned backbone, every step).
         */
        private float[][] floatScaleShift() {
            float[] gamma = floats("gamma");
            float[] beta = floats("beta");
            float[] mean = floats("mean");
            float[] var = floats("var");
            float eps = (float) layerConf().getEps();
            float[] s = new float[gamma.length];
            float[] t = new float[gamma.length];
            for (int c = 0; c < s.length; c++) {
                s[c] = gamma[c] / (float) Math.sqrt(var[c] + eps);
                t[c] = beta[c] - mean[c] * s[c];
            }
            return new float[][] {s, t};
        }

        private float[] floats(String key) {
            INDArray p = params.get(key);
            float[] out = new float[(int) p.length()];
            if (p.dataType() == DataType.FLOAT && (p.length() == 1 || p.elementWiseStride() == 1)) {
                p.data().asNioFloat().position((int) p.offset()).get(out);
                return out;
            }
            return p.castTo(DataType.FLOAT).dup('c').data().asFloat();
        }

        @Override
        public INDArray activate(boolean training, LayerWorkspaceMgr mgr) {
            assertInputSet(false);
            DataType type = input.dataType();
            INDArray out = mgr.createUninitialized(ArrayType.ACTIVATIONS, type, input.shape(), 'c');
            if (type == DataType.FLOAT && org.leukolab.backend.Kernels.allowed()) {
                float[][] st = floatScaleShift();
                if (NchwBatchNorm.scaleShift(input, st[0], st[1], out)) { // the same float32 products and sums as below
                    return out;
                }
            }
            INDArray s = scale(type);
            Broadcast.mul(input, s, out, 1);
            Broadcast.add(out, shift(s, type), out, 1);
            return out;
        }

        @Override
        public Pair<Gradient, INDArray> backpropGradient(INDArray epsilon, LayerWorkspaceMgr mgr) {
            assertInputSet(true);
            INDArray dx = mgr.createUninitialized(ArrayType.ACTIVATION_GRAD, epsilon.dataType(), epsilon.shape(), 'c');
            if (epsilon.dataType() != DataType.FLOAT || !org.leukolab.backend.Kernels.allowed()
                    || !NchwBatchNorm.scaleShift(epsilon, floatScaleShift()[0], null, dx)) {
                Broadcast.mul(epsilon, scale(epsilon.dataType()), dx, 1);
            }
            Gradient g = new DefaultGradient(gradientView);
            if (gradientView != null) {
                gradientView.assign(0);
                gradients.forEach(g::setGradientFor);
            }
            return new Pair<>(g, dx);
        }

        @Override
        public boolean isPretrainLayer() {
            return false;
        }

        @Override
        public void clearNoiseWeightParams() {
        }

        @Override
        public Type type() {
            return layerConf().isConvolutional() ? Type.CONVOLUTIONAL : Type.FEED_FORWARD;
        }

        @Override
        public double calcRegularizationScore(boolean backpropOnlyParams) {
            return 0;
        }

        @Override
        public INDArray params() {
            return paramsView;
        }

        @Override
        public long numParams() {
            return paramsView == null ? 0 : paramsView.length();
        }

        @Override
        public long numParams(boolean backwards) {
            return numParams();
        }

        @Override
        public void setParamsViewArray(INDArray view) {
            this.paramsView = view;
        }

        @Override
        public INDArray getGradientsViewArray() {
            return gradientView;
        }

        @Override
        public void setBackpropGradientsViewArray(INDArray view) {
            this.gradientView = view;
            this.gradients = view == null ? new LinkedHashMap<>() : Params.INSTANCE.getGradientsFromFlattened(conf, view);
        }

        @Override
        public void setParamTable(Map<String, INDArray> table) {
            this.params = new LinkedHashMap<>(table);
        }

        @Override
        public Map<String, INDArray> paramTable() {
            return params;
        }

        @Override
        public Map<String, INDArray> paramTable(boolean backpropOnly) {
            return params;
        }

        @Override
        public INDArray getParam(String key) {
            return params.get(key);
        }

        @Override
        public void setParam(String key, INDArray value) {
            params.get(key).assign(value);
        }

        @Override
        public void setParams(INDArray values) {
            if (values != paramsView) {
                paramsView.assign(values.reshape(paramsView.shape()));
            }
        }
    }
}

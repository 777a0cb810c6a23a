package org.leukolab.preprocessing;

import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;

/**
 * Keras Applications' {@code preprocess_input} for the backbones leukolab uses, on NCHW RGB images with
 * values 0..255 (what {@code LoadedImages.features()} gives). Each returns a new array.
 */
public enum KerasPreprocessing {
    /** VGG16, ResNet50 ('caffe' mode): RGB to BGR, then subtract the ImageNet channel means (BGR). */
    CAFFE,
    /** MobileNet, MobileNetV2 ('tf' mode): scale to [-1, 1] (x / 127.5 - 1). */
    TF,
    /** EfficientNet, EfficientNetV2, MobileNetV3: nothing; the model starts with its own rescaling (and normalisation). */
    NONE,
    /** DenseNet ('torch' mode): x / 255, then (x - mean) / std per channel with ImageNet's RGB mean and std. */
    TORCH,
    /**
     * Not a Keras Applications mode: x / 255, values in [0, 1]. What report 000's code fed its MobileNetV2
     * (whose own preprocessing is {@link #TF}); kept to reproduce that run.
     */
    SCALE_0_1;

    /** ImageNet's RGB means and standard deviations of 0..1 pixels, as Keras' torch mode uses them. */
    public static final double[] TORCH_MEAN = {0.485, 0.456, 0.406};
    public static final double[] TORCH_STD = {0.229, 0.224, 0.225};

    /** ImageNet means in BGR order, as Keras' caffe mode subtracts them. */
    public static final double[] CAFFE_MEAN_BGR = {103.939, 116.779, 123.68};

    public INDArray apply(INDArray rgbNchw) {
        if (rgbNchw.rank() != 4 || rgbNchw.size(1) != 3) {
            throw new IllegalArgumentException("expected [n, 3, h, w] RGB images, got shape "
                    + java.util.Arrays.toString(rgbNchw.shape()));
        }
        return switch (this) {
            case CAFFE -> {
                INDArray bgr = Nd4j.concat(1, rgbNchw.get(channel(2)), rgbNchw.get(channel(1)), rgbNchw.get(channel(0)))
                        .castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT);
                for (int c = 0; c < 3; c++) {
                    bgr.get(channel(c)).subi(CAFFE_MEAN_BGR[c]);
                }
                yield bgr;
            }
            case TF -> rgbNchw.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).div(127.5).subi(1.0);
            case NONE -> rgbNchw.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).dup();
            case TORCH -> {
                INDArray x = rgbNchw.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).div(255.0);
                for (int c = 0; c < 3; c++) {
                    x.get(channel(c)).subi(TORCH_MEAN[c]).divi(TORCH_STD[c]);
                }
                yield x;
            }
            case SCALE_0_1 -> rgbNchw.castTo(org.nd4j.linalg.api.buffer.DataType.FLOAT).div(255.0);
        };
    }

    private static org.nd4j.linalg.indexing.INDArrayIndex[] channel(int c) {
        return new org.nd4j.linalg.indexing.INDArrayIndex[] {
            org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.interval(c, c + 1),
            org.nd4j.linalg.indexing.NDArrayIndex.all(), org.nd4j.linalg.indexing.NDArrayIndex.all()};
    }
}

package org.leukolab.evaluation;

import org.leukolab.system.SeededArrays;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.BatchNormalization;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.DropoutLayer;
import org.deeplearning4j.nn.conf.layers.GlobalPoolingLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.conf.layers.PoolingType;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;
import org.nd4j.linalg.lossfunctions.LossFunctions;

/**
 * A network whose answer is known: channel 0 of "conv" sees red, channel 1 sees green; class 0's score is the mean of
 * channel 0, class 1's of channel 1. On an image with a red square top-left and a green square bottom-right, the map
 * of class 0 must lie on the red square and that of class 1 on the green one. Batch normalisation and dropout sit in
 * between, so the maps also show they are taken with inference behaviour (and are the same every time).
 */
class GradCamTest {
    static ComputationGraph network() {
        ComputationGraph g = new ComputationGraph(new NeuralNetConfiguration.Builder().seed(1).updater(new Sgd(0.1)).graphBuilder()
                .addInputs("in").setInputTypes(InputType.convolutional(16, 16, 3))
                .addLayer("conv", new ConvolutionLayer.Builder(1, 1).nOut(2).activation(Activation.RELU).build(), "in")
                .addLayer("bn", new BatchNormalization.Builder().eps(1e-5).build(), "conv")
                .addLayer("gap", new GlobalPoolingLayer.Builder(PoolingType.AVG).build(), "bn")
                .addLayer("drop", new DropoutLayer.Builder(0.5).build(), "gap")
                .addLayer("out", new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(2).activation(Activation.SOFTMAX).build(), "drop")
                .setOutputs("out").build());
        g.init();
        INDArray w = Nd4j.zeros(DataType.FLOAT, 2, 3, 1, 1); // [out, in, kh, kw]
        w.putScalar(new long[] {0, 0, 0, 0}, 1.0); // channel 0 <- red
        w.putScalar(new long[] {1, 1, 0, 0}, 1.0); // channel 1 <- green
        g.getLayer("conv").setParam("W", w);
        g.getLayer("conv").setParam("b", Nd4j.zeros(DataType.FLOAT, 1, 2));
        g.getLayer("out").setParam("W", Nd4j.eye(2).castTo(DataType.FLOAT));
        g.getLayer("out").setParam("b", Nd4j.zeros(DataType.FLOAT, 1, 2));
        return g;
    }

    static INDArray image() {
        INDArray x = Nd4j.zeros(DataType.FLOAT, 1, 3, 16, 16);
        for (int y = 0; y < 6; y++) {
            for (int q = 0; q < 6; q++) {
                x.putScalar(new long[] {0, 0, y, q}, 1.0);            // red, top-left
                x.putScalar(new long[] {0, 1, 10 + y, 10 + q}, 1.0);  // green, bottom-right
            }
        }
        return x;
    }

    static double massIn(double[][] map, int top, int left, int size) {
        double in = 0;
        double all = 0;
        for (int y = 0; y < map.length; y++) {
            for (int x = 0; x < map[0].length; x++) {
                all += map[y][x];
                if (y >= top && y < top + size && x >= left && x < left + size) {
                    in += map[y][x];
                }
            }
        }
        return in / all;
    }

    @Test
    void eachClassLightsUpItsOwnRegion() {
        ComputationGraph g = network();
        GradCam cam = GradCam.of(g, "conv");
        INDArray x = image();
        double[][] red = cam.maps(x, new int[] {0})[0];
        double[][] green = cam.maps(x, new int[] {1})[0];
        assertTrue(massIn(red, 0, 0, 6) > 0.99, "class 0's map on the red square: " + massIn(red, 0, 0, 6));
        assertTrue(massIn(green, 10, 10, 6) > 0.99, "class 1's map on the green square: " + massIn(green, 10, 10, 6));
        assertArrayEquals(red[2], cam.maps(x, new int[] {0})[0][2], 0.0, "no dropout: the same map every time");
        // a batch gives each image its own map
        INDArray two = Nd4j.concat(0, x, x);
        double[][][] both = cam.maps(two, new int[] {0, 1});
        assertArrayEquals(red[2], both[0][2], 1e-9);
        assertArrayEquals(green[12], both[1][12], 1e-9);
    }

    /**
     * On a real architecture with squeeze-and-excitation vertices (EfficientNetV2S, fine-tuned with BatchNorm frozen):
     * the rebuilt downstream graph runs, maps have the image's size and values in [0, 1], and repeat exactly.
     */
    @Test
    void worksOnAFineTunedEfficientNetV2() {
        var b = org.leukolab.models.backbones.EfficientNetV2.build("S", 32, false, 10, false, 1);
        ComputationGraph model = org.leukolab.models.backbones.Transfer.classifier(b,
                org.leukolab.models.backbones.Head.globalAveragePooling().dense(16).dropout(0.3).softmax(3),
                new org.nd4j.linalg.learning.config.Adam(1e-3), 1,
                org.leukolab.models.backbones.Freeze.firstFraction(0.6).keepBatchNormFrozen());
        INDArray x = SeededArrays.uniform(DataType.FLOAT, 6, 2, 3, 32, 32).muli(255);
        GradCam cam = GradCam.of(model, b.featureLayer());
        double[][][] maps = cam.maps(x, new int[] {0, 2});
        assertArrayEquals(new int[] {32, 32}, new int[] {maps[0].length, maps[0][0].length});
        for (double[] row : maps[1]) {
            for (double v : row) {
                assertTrue(v >= 0 && v <= 1, "map values in [0, 1]: " + v);
            }
        }
        assertArrayEquals(maps[1][5], cam.maps(x, new int[] {0, 2})[1][5], 0.0, "the same maps again");
    }

    /**
     * After the trainer's kernels fused the frozen layers (whose layer-by-layer activations are then not their own), the
     * maps are those of the unfused network, at an intermediate layer of the frozen part too.
     */
    @Test
    void aGraphWithFusedFrozenLayersGivesTheUnfusedMaps() {
        org.junit.jupiter.api.Assumptions.assumeTrue(org.leukolab.backend.OneDnnLayers.available(), "no oneDNN");
        var b = org.leukolab.models.backbones.Backbones.mobileNetV2(0.35, 32, false);
        ComputationGraph model = org.leukolab.models.backbones.Transfer.classifier(b,
                org.leukolab.models.backbones.Head.globalAveragePooling().dense(16).softmax(3),
                new org.nd4j.linalg.learning.config.Adam(1e-3), 1, org.leukolab.models.backbones.Freeze.all());
        ComputationGraph plain = model.clone();
        INDArray x = SeededArrays.uniform(DataType.FLOAT, 7, 2, 3, 32, 32).muli(2).subi(1);
        INDArray y = org.nd4j.linalg.factory.Nd4j.zeros(DataType.FLOAT, 2, 3);
        y.putScalar(0, 0, 1f);
        y.putScalar(1, 2, 1f);
        var r = org.leukolab.backend.OneDnnLayers.install(model, new org.nd4j.linalg.dataset.DataSet(x, y));
        assertTrue(org.leukolab.backend.InferenceFusion.fused(model), r.toString());
        for (String layer : new String[] {"block_3_expand", "block_3_expand_relu", b.featureLayer()}) {
            double[][][] got = GradCam.of(model, layer).maps(x, new int[] {1, 2});
            double[][][] want = GradCam.of(plain, layer).maps(x, new int[] {1, 2});
            for (int i = 0; i < 2; i++) {
                for (int h = 0; h < 32; h++) {
                    assertArrayEquals(want[i][h], got[i][h], 1e-3, layer + ", image " + i + ", row " + h);
                }
            }
        }
    }
}

package org.leukolab.models;

import org.leukolab.system.SeededArrays;
import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import org.deeplearning4j.nn.conf.CNN2DFormat;
import org.deeplearning4j.nn.conf.dropout.Dropout;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.nd4j.linalg.api.buffer.DataType;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.learning.config.Sgd;

class CustomCnnsTest {
    @Test
    void report002NetworkHasTheReportsParameterCount() {
        // Worked out by hand (Keras counts BatchNorm moving mean/variance too, as DL4J does):
        // conv 3x3: (9*in+1)*out -> 1792, 73856, 295168, 590080, 1180160; BN: 4*filters -> 256, 512, 1024, 1024, 2048
        // 128 -> 64 -> 32 -> 32 -> 16 -> 8 after the four poolings: flatten 8*8*512 = 32768
        // dense: 32768*1024+1024 = 33555456; 1024*1024+1024 = 1049600; output 1024*4+4 = 4100
        MultiLayerNetwork net = CustomCnns.report002(128, 4, new Sgd(1e-3), 1, CNN2DFormat.NCHW);
        assertEquals(36_755_076L, net.numParams()); // the report's "36.8 M"
    }

    @Test
    void report000NetworkHasTheHandComputedParameterCount() {
        // conv 3x3 stride 2: 112, 296, 1168, 4640, 18496; BN 16, 32, 64, 128, 256
        // 350 -> 175 -> 88 -> 44 -> 22 -> 11 ('same' padding): flatten 11*11*64 = 7744
        // dense 8: 7744*8+8 = 61960; BN 32; output 8*5+5 = 45
        MultiLayerNetwork net = CustomCnns.report000(350, 5, new Sgd(1e-3), 1, CNN2DFormat.NCHW);
        assertEquals(87_245L, net.numParams());
    }

    @Test
    void bothDataFormatsGiveProbabilities() {
        for (CNN2DFormat f : CNN2DFormat.values()) {
            MultiLayerNetwork net = CustomCnns.report000(32, 5, new Sgd(1e-3), 1, f);
            long[] shape = f == CNN2DFormat.NCHW ? new long[] {2, 3, 32, 32} : new long[] {2, 32, 32, 3};
            var out = net.output(SeededArrays.uniform(DataType.FLOAT, 13, shape));
            assertArrayEquals(new long[] {2, 5}, out.shape());
            assertEquals(2.0, out.sumNumber().doubleValue(), 1e-4);
        }
    }

    @Test
    void dropoutTakesTheKerasMeaning() {
        Dropout d = (Dropout) Layers.dropout(0.7).getIDropout();
        assertEquals(0.3, d.getP(), 1e-12, "DL4J stores the keep probability");
        assertThrows(IllegalArgumentException.class, () -> Layers.dropout(1.0));
        assertEquals(0.99, Layers.kerasBatchNorm().getDecay(), 1e-12);
        assertEquals(1e-3, Layers.kerasBatchNorm().getEps(), 1e-12);
    }

    @Test
    void keepingPreActivationsForBackpropGivesBitForBitTheSameTraining() {
        // the CNNs keep each convolution's forward result for the backward pass (CacheMode.DEVICE) instead of
        // computing it again; with DL4J's own layers and with oneDNN, three steps must leave identical weights
        for (boolean oneDnn : new boolean[] {false, true}) {
            for (String model : new String[] {"report002", "report000"}) {
                MultiLayerNetwork cached = model.equals("report002")
                        ? CustomCnns.report002(32, 4, Optimizer.sgd(1e-2), 3, CNN2DFormat.NCHW)
                        : CustomCnns.report000(32, 4, Optimizer.adamW(1e-3), 3, CNN2DFormat.NCHW);
                assertEquals(org.deeplearning4j.nn.conf.CacheMode.DEVICE, cached.getLayerWiseConfigurations().getCacheMode());
                MultiLayerNetwork recomputed = cached.clone();
                recomputed.setCacheMode(org.deeplearning4j.nn.conf.CacheMode.NONE); // sets every layer's mode
                if (oneDnn) {
                    org.leukolab.backend.OneDnnLayers.installUnchecked(cached);
                    org.leukolab.backend.OneDnnLayers.installUnchecked(recomputed);
                }
                for (int step = 0; step < 3; step++) {
                    var x = SeededArrays.uniform(DataType.FLOAT, 10 + step, 4, 3, 32, 32);
                    var y = Nd4j.eye(4).castTo(DataType.FLOAT);
                    Nd4j.getRandom().setSeed(99); // dropout masks (these do follow the seed)
                    cached.fit(x, y);
                    Nd4j.getRandom().setSeed(99);
                    recomputed.fit(x, y);
                }
                assertEquals(recomputed.params(), cached.params(), model + (oneDnn ? " on oneDNN" : " built-in"));
            }
        }
    }
}

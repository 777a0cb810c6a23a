package org.leukolab.training;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.awt.Color;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import javax.imageio.ImageIO;
import org.deeplearning4j.nn.conf.NeuralNetConfiguration;
import org.deeplearning4j.nn.conf.inputs.InputType;
import org.deeplearning4j.nn.conf.layers.ConvolutionLayer;
import org.deeplearning4j.nn.conf.layers.OutputLayer;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.leukolab.data.ImageIndex;
import org.leukolab.data.ImageLoader;
import org.leukolab.data.LoadedImages;
import org.nd4j.linalg.activations.Activation;
import org.nd4j.linalg.learning.config.Adam;
import org.nd4j.linalg.lossfunctions.LossFunctions;

class SavedModelTest {
    @TempDir
    Path dir;

    /** Two classes of coloured squares with a little noise: a CNN learns them in a few steps. */
    static Path colours(Path root) throws Exception {
        java.util.Random r = new java.util.Random(1);
        for (String c : List.of("blue", "red")) {
            Files.createDirectories(root.resolve(c));
            for (int i = 0; i < 6; i++) {
                BufferedImage img = new BufferedImage(10, 10, BufferedImage.TYPE_INT_RGB);
                for (int y = 0; y < 10; y++) {
                    for (int x = 0; x < 10; x++) {
                        int n = r.nextInt(40);
                        img.setRGB(x, y, c.equals("red") ? new Color(200 + n / 2, n, n).getRGB() : new Color(n, n, 200 + n / 2).getRGB());
                    }
                }
                ImageIO.write(img, "png", root.resolve(c).resolve(c + i + ".png").toFile());
            }
        }
        return root;
    }

    static MultiLayerNetwork cnn() {
        MultiLayerNetwork n = new MultiLayerNetwork(new NeuralNetConfiguration.Builder().seed(3).updater(new Adam(0.05)).list()
                .layer(new ConvolutionLayer.Builder(3, 3).nOut(2).activation(Activation.RELU).build())
                .layer(new OutputLayer.Builder(LossFunctions.LossFunction.MCXENT).nOut(2).activation(Activation.SOFTMAX).build())
                .setInputType(InputType.convolutional(8, 8, 3)).build());
        n.init();
        return n;
    }

    @Test
    void roundTripClassifiesANewFileAsTheTrainedModelDoes() throws Exception {
        Path root = colours(dir.resolve("colours"));
        LoadedImages images = ImageLoader.builder().size(8).noCache().progress(false).build().load(ImageIndex.scan(root, "colours"));
        ImageBatches batches = ImageBatches.of(images).scaled(1 / 255.0);
        MultiLayerNetwork net = cnn();
        Trainer.builder("colours").epochs(15).batchSize(4).progress(false).build().fit(Network.of(net), batches, null);
        Path file = dir.resolve("model.zip");
        SavedModel.of(Network.of(net), batches).provenance("protocol", "test").save(file);

        SavedModel loaded = SavedModel.load(file);
        assertEquals(List.of("blue", "red"), loaded.classes());
        assertEquals(List.of("x*" + (1 / 255.0)), loaded.input().steps());
        assertEquals("test", loaded.provenance().get("protocol"));
        assertTrue(loaded.provenance().containsKey("saved commit"), loaded.provenance().toString());
        Path newRed = root.resolve("red/red5.png");
        SavedModel.Classification c = loaded.classify(newRed);
        assertEquals("red", c.predicted());
        double[] before = net.output(batches.batch(new int[] {images.index().records().stream()
                .map(r -> r.path()).toList().indexOf(newRed.toAbsolutePath().normalize())}).getFeatures(), false).toDoubleVector();
        assertEquals(before[1], c.probabilities().get("red"), 1e-6, "the loaded model gives the trained model's probabilities");
    }

    @Test
    void customStepsAndForeignFilesAreRefusedClearly() throws Exception {
        Path root = colours(dir.resolve("c2"));
        LoadedImages images = ImageLoader.builder().size(8).noCache().progress(false).build().load(ImageIndex.scan(root, "c"));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> SavedModel.of(Network.of(cnn()), ImageBatches.of(images).then("my-step", x -> x)));
        assertTrue(e.getMessage().contains("my-step"), e.getMessage());
        Path notAModel = Files.writeString(dir.resolve("x.zip"), "hello");
        IllegalArgumentException e2 = assertThrows(IllegalArgumentException.class, () -> SavedModel.load(notAModel));
        assertTrue(e2.getMessage().contains(notAModel.toString()), e2.getMessage());
    }

    @Test
    void aDamagedPictureIsClassifiedWithItsWarning() throws Exception {
        Path root = colours(dir.resolve("c3"));
        SavedModel model = SavedModel.of(Network.of(cnn()), ImageBatches.of(ImageLoader.builder().size(8).noCache().progress(false)
                .build().load(ImageIndex.scan(root, "c"))).scaled(1 / 255.0));
        Path cut = org.leukolab.data.TestImages.prematureEndJpeg(dir.resolve("new/cut.jpg"));
        Path clean = root.resolve("red/red1.png");
        List<SavedModel.Classification> cs = model.classify(List.of(clean, cut));
        assertTrue(cs.get(0).issues().isEmpty() && !cs.get(0).damaged(), cs.get(0).toString());
        SavedModel.Classification c = cs.get(1);
        assertTrue(c.damaged(), c.toString());
        assertEquals(org.leukolab.data.DataIssue.Kind.DECODE_WARNING, c.issues().get(0).kind());
        assertTrue(c.toString().contains("WARNING: the picture is damaged") && c.toString().contains("premature end"), c.toString());
        assertTrue(String.valueOf(c.mimeBundle().get("text/html")).contains("damaged"));
    }
}

package org.leukolab.evaluation;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import tech.tablesaw.api.DoubleColumn;
import tech.tablesaw.api.StringColumn;
import tech.tablesaw.api.Table;

/**
 * Numbers the source reports published, to put beside the reproduced ones. Taken from the reports'
 * printed classification reports (see ../shared/seeds/README.md for the index); two decimals, as printed.
 */
public final class Published {
    /** One published evaluation; per-class values are {precision, recall, f1}; NaN where not published. */
    public record Result(String report, String model, String evaluatedOn, double accuracy, double macroPrecision,
                         double macroRecall, double macroF1, Map<String, double[]> perClass, String note) {}

    private Published() {}

    private static Map<String, double[]> classes(double[]... rows) {
        String[] names = {"EOSINOPHIL", "LYMPHOCYTE", "MONOCYTE", "NEUTROPHIL"};
        Map<String, double[]> m = new LinkedHashMap<>();
        for (int i = 0; i < names.length; i++) {
            m.put(names[i], rows[i]);
        }
        return m;
    }

    /** Report 002: all on its random 20% validation split of TRAIN (1,992 images). */
    public static List<Result> report002() {
        List<Result> out = new ArrayList<>();
        out.add(new Result("002", "Random Forest", "random validation split (1,992)", 0.79, 0.97, 0.79, 0.87,
                classes(new double[] {0.96, 0.66, 0.79}, new double[] {0.99, 0.96, 0.97}, new double[] {0.98, 0.90, 0.94},
                        new double[] {0.96, 0.63, 0.76}),
                "fitted on one-hot labels (multi-output forest); images where no output fires count as wrong"));
        out.add(new Result("002", "VGG16 (frozen) + dense head", "random validation split (1,992)", 0.91, 0.91, 0.91, 0.91,
                classes(new double[] {0.87, 0.80, 0.84}, new double[] {0.99, 0.98, 0.99}, new double[] {0.94, 0.98, 0.96},
                        new double[] {0.83, 0.87, 0.85}),
                "ImageNet weights; inputs were raw 0..255 pixels (no VGG preprocessing); best epoch 10 of 15 restored"));
        out.add(new Result("002", "Custom CNN", "random validation split (1,992)", 0.965, 0.96, 0.96, 0.96,
                classes(new double[] {0.94, 0.94, 0.94}, new double[] {0.99, 0.99, 0.99}, new double[] {0.98, 0.99, 0.99},
                        new double[] {0.94, 0.94, 0.94}),
                "10 epochs of SGD (lr 0.001), about 1,220 s per epoch on the authors' CPU"));
        return out;
    }

    /**
     * Report 000: both models on the dataset's held-out Test folder (4,339 images). The report gives test
     * accuracy and macro F1 only (from the authors' notebook); precision and recall are not published.
     */
    public static List<Result> report000() {
        return List.of(
                new Result("000", "Custom CNN", "held-out Test folder (4,339)", 0.9318, Double.NaN, Double.NaN, 0.86, Map.of(),
                        "350x350, pixels divided by 255 twice (input map and Rescaling layer), AdamW, early stopping on "
                                + "val_accuracy; validation split taken from the balanced (augmented) folder"),
                new Result("000", "MobileNetV2 (frozen) + head", "held-out Test folder (4,339)", 0.89, Double.NaN, Double.NaN,
                        0.85, Map.of(), "alpha 1.0, ImageNet weights, 224x224, inputs x/255 (not MobileNetV2's [-1, 1]), AdamW"));
    }

    /**
     * Report 001: EfficientNetB0 (ImageNet, added layers) on its 70/15/15 split of BloodMNIST merged with the White
     * Blood Cells set; test accuracy and loss as printed (no per-class numbers are published). The MLP's figure is a
     * training accuracy (epoch 20), given here as its accuracy, with the validation figure in the note.
     */
    public static List<Result> report001() {
        return List.of(
                new Result("001", "EfficientNetB0 (ImageNet) + added layers", "test split of the merged set (5,059)", 0.9652,
                        Double.NaN, Double.NaN, Double.NaN, Map.of(),
                        "224x224, 10 epochs, batch 32; test loss 0.1940; validation accuracy 0.9634 and training 0.9957 at epoch 10"),
                new Result("001", "MLP", "training data, epoch 20", 0.8395, Double.NaN, Double.NaN, Double.NaN, Map.of(),
                        "a training accuracy; validation accuracy 0.8012 at epoch 20 (748 steps per epoch)"));
    }

    /** A published report-001 result by model name ("EfficientNetB0" or "MLP"). */
    public static Result report001(String model) {
        return report001().stream().filter(r -> r.model().startsWith(model)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no published report-001 result for " + model));
    }

    /** Report 001's per-epoch training log of EfficientNetB0 (its Figure 2): epoch, loss, accuracy, val_loss, val_accuracy. */
    public static Table report001History() {
        double[][] rows = {
            {1, 0.5122, 0.8342, 0.1360, 0.9569}, {2, 0.1053, 0.9643, 0.1329, 0.9597}, {3, 0.0558, 0.9798, 0.1416, 0.9634},
            {4, 0.0363, 0.9868, 0.1341, 0.9644}, {5, 0.0309, 0.9908, 0.1401, 0.9652}, {6, 0.0269, 0.9907, 0.1744, 0.9615},
            {7, 0.0295, 0.9903, 0.1780, 0.9628}, {8, 0.0303, 0.9911, 0.1593, 0.9640}, {9, 0.0207, 0.9933, 0.1819, 0.9664},
            {10, 0.0135, 0.9957, 0.2031, 0.9634}};
        return history("report 001, published (EfficientNetB0)", rows);
    }

    /** Report 001's MLP log, the epochs it printed (its Figure 7): epoch, loss, accuracy, val_loss, val_accuracy. */
    public static Table report001MlpHistory() {
        double[][] rows = {
            {16, 0.4652, 0.8330, 0.5170, 0.8059}, {17, 0.4518, 0.8346, 0.4907, 0.8214}, {18, 0.4445, 0.8379, 0.5846, 0.7866},
            {19, 0.4412, 0.8352, 0.5444, 0.8062}, {20, 0.4359, 0.8395, 0.5316, 0.8012}};
        return history("report 001, published (MLP)", rows);
    }

    private static Table history(String name, double[][] rows) {
        Table t = Table.create(name);
        String[] cols = {"epoch", "loss", "accuracy", "val_loss", "val_accuracy"};
        for (int c = 0; c < cols.length; c++) {
            final int k = c;
            t.addColumns(DoubleColumn.create(cols[c], java.util.Arrays.stream(rows).mapToDouble(r -> r[k]).toArray()));
        }
        return t;
    }

    /**
     * Literature, not a reproduction: rows of MedMNIST v2's benchmark table for BloodMNIST (Yang et al., Scientific
     * Data 10, 41, 2023), test ACC and AUC on the official split.
     */
    public static Table medMnistBloodMnist() {
        String[] model = {"ResNet-18 (28)", "ResNet-18 (224)", "AutoKeras", "Google AutoML Vision"};
        double[] acc = {0.958, 0.963, 0.961, 0.966};
        double[] auc = {0.998, 0.998, 0.998, 0.998};
        return Table.create("BloodMNIST, official test split: MedMNIST v2's benchmark (literature)",
                StringColumn.create("model", model), DoubleColumn.create("ACC", acc), DoubleColumn.create("AUC", auc));
    }

    /**
     * Report 003's macro F1 (%) on its local balanced test set, by experiment, as its tables print them; the online
     * "Score" where it gives one is in the note.
     */
    public static Table report003() {
        Object[][] rows = {
            {"imbalance", "synthetic data (augmentation up to the majority)", 92.31, ""},
            {"imbalance", "class weights", 96.78, ""},
            {"extractor", "VGG16", 95.89, ""}, {"extractor", "ResNet50", 96.45, ""}, {"extractor", "DenseNet121", 95.23, ""},
            {"extractor", "InceptionV3", 92.85, ""}, {"extractor", "MobileNetV3Large", 96.26, ""},
            {"extractor", "EfficientNetB0", 79.33, ""}, {"extractor", "EfficientNetV2S", 96.64, ""},
            {"extractor", "EfficientNetV2M", 96.80, ""}, {"extractor", "EfficientNetV2L", 83.54, ""},
            {"ensemble", "V2S + V2M + V2L features concatenated", 87.88, "online score 65.00"},
            {"augmentation", "traditional", 97.01, ""}, {"augmentation", "MixUp + CutMix", 81.27, ""},
            {"augmentation", "MixUp + CutMix + traditional", 87.67, ""}, {"augmentation", "RandAugment", 95.58, ""},
            {"fine-tuning", "60% unfrozen, lr 1e-4", 97.69, "online score 84.00"},
            {"fine-tuning", "80% unfrozen, lr 5e-4", 97.53, "online score 85.00"},
            {"head", "Dense 128", 97.53, "online score 85.00"}, {"head", "Dense 256 + 128", 98.75, "online score 82.00"}};
        return Table.create("report 003, published: macro F1 (%) on its balanced local test set",
                StringColumn.create("experiment", java.util.Arrays.stream(rows).map(r -> (String) r[0]).toList()),
                StringColumn.create("configuration", java.util.Arrays.stream(rows).map(r -> (String) r[1]).toList()),
                DoubleColumn.create("F1 (%)", java.util.Arrays.stream(rows).mapToDouble(r -> (Double) r[2]).toArray()),
                StringColumn.create("note", java.util.Arrays.stream(rows).map(r -> (String) r[3]).toList()));
    }

    /** One published report-003 F1 (%) by configuration (as in {@link #report003()}). */
    public static double report003(String configuration) {
        Table t = report003();
        for (int i = 0; i < t.rowCount(); i++) {
            if (t.stringColumn("configuration").get(i).equals(configuration)) {
                return t.doubleColumn("F1 (%)").get(i);
            }
        }
        throw new IllegalArgumentException("no published report-003 number for '" + configuration + "'");
    }

    /** A published report-000 result by model name ("Custom CNN" or "MobileNetV2"). */
    public static Result report000(String model) {
        return report000().stream().filter(r -> r.model().startsWith(model)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no published report-000 result for " + model));
    }

    /** A published result by model name. */
    public static Result report002(String model) {
        return report002().stream().filter(r -> r.model().startsWith(model)).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("no published report-002 result for " + model));
    }

    /**
     * Published against reproduced: one row per number (accuracy, macro P/R/F1, then per-class F1), with
     * the difference. {@code reproduced} is labelled by its title.
     */
    public static Table compare(Result published, ClassificationReport reproduced) {
        StringColumn metric = StringColumn.create("metric");
        DoubleColumn pub = DoubleColumn.create("published");
        DoubleColumn rep = DoubleColumn.create("reproduced");
        DoubleColumn diff = DoubleColumn.create("difference");
        add(metric, pub, rep, diff, "accuracy", published.accuracy(), reproduced.accuracy());
        add(metric, pub, rep, diff, "precision (macro)", published.macroPrecision(), reproduced.macroPrecision());
        add(metric, pub, rep, diff, "recall (macro)", published.macroRecall(), reproduced.macroRecall());
        add(metric, pub, rep, diff, "F1 (macro)", published.macroF1(), reproduced.macroF1());
        List<String> cls = reproduced.classes();
        for (int c = 0; c < cls.size(); c++) {
            double[] p = published.perClass().get(cls.get(c));
            if (p != null) {
                add(metric, pub, rep, diff, "F1 " + cls.get(c), p[2], reproduced.f1(c));
            }
        }
        return org.leukolab.notebook.Tables.rounded(Table.create(String.format(Locale.ROOT, "%s: published (%s) vs %s",
                published.model(), published.evaluatedOn(), reproduced.title()), metric, pub, rep, diff), 3);
    }

    /** Several {@link #compare} tables stacked, with a first column naming the model. */
    public static Table compareAll(String title, Map<Result, ClassificationReport> pairs) {
        Table out = null;
        for (Map.Entry<Result, ClassificationReport> e : pairs.entrySet()) {
            Table t = compare(e.getKey(), e.getValue());
            t.insertColumn(0, StringColumn.create("model", java.util.Collections.nCopies(t.rowCount(), e.getKey().model())));
            if (out == null) {
                out = t;
            } else {
                out.append(t);
            }
        }
        if (out == null) {
            throw new IllegalArgumentException("nothing to compare");
        }
        return org.leukolab.notebook.Tables.rounded(out.setName(title), 3);
    }

    private static void add(StringColumn m, DoubleColumn p, DoubleColumn r, DoubleColumn d, String name, double pub, double rep) {
        m.append(name);
        p.append(pub);
        r.append(rep);
        d.append(Double.isNaN(pub) ? Double.NaN : Math.round((rep - pub) * 1000) / 1000.0);
    }
}

package org.leukolab.training;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;
import org.deeplearning4j.nn.graph.ComputationGraph;
import org.deeplearning4j.nn.multilayer.MultiLayerNetwork;
import org.leukolab.augmentation.BatchTransform;
import org.leukolab.backend.OneDnnLayers;
import org.leukolab.metrics.Metric;
import org.leukolab.metrics.Scores;
import org.leukolab.notebook.Progress;
import org.leukolab.system.AtomicFiles;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.NDArrayIndex;

/**
 * Trains a {@link Network} the way Keras' {@code model.fit} does: epochs of shuffled mini-batches, then the
 * epoch's metrics, then the callbacks (early stopping, learning-rate reduction, best checkpoint). A progress
 * bar per epoch shows loss, accuracy and time left; a history table records every epoch.
 *
 * <pre>{@code
 * TrainingResult run = Trainer.builder("cnn").epochs(10).batchSize(32).seed(42).learningRate(1e-3)
 *         .classWeights(ClassBalancer.classWeights(train.labels(), 8))     // Keras' class_weight
 *         .transform(MixUp.withAlpha(0.2))                                  // on every training batch
 *         .callbacks(EarlyStopping.on("val_f1", 5, true))
 *         .checkpointDir(dir)
 *         .build().fit(Network.of(net), trainBatches, validationBatches);
 * }</pre>
 *
 * <p><b>Metrics.</b> Every epoch records, on the training batches as they were trained on (training mode,
 * weights before each step, as Keras reports them) and on the validation data (inference mode, after the
 * epoch): {@code loss}, {@code accuracy}, {@code f1} (macro), {@code weighted_f1} and {@code auc} (macro,
 * one-vs-rest), the validation ones prefixed {@code val_} ({@link Metric}). The training loss is the loss the
 * optimiser minimised (class-weighted when class weights are set); {@code val_loss} is the plain
 * cross-entropy plus the network's L1/L2 regularisation terms, as Keras' {@code val_loss} (class weights apply
 * to training only). Neither includes a decoupled weight decay (AdamW): Keras adds nothing for it to its loss, so
 * the trainer takes out the {@code 0.5 x coeff x sum(w^2)} DL4J's score adds and logs it apart as
 * {@code weight_decay_penalty}.
 *
 * <p><b>Checkpoints and resume.</b> With a checkpoint folder, after every epoch the model (with optimiser
 * state) and every callback's state go to {@code epoch-NNNN/}, and {@code state.json}, which names that folder,
 * is replaced last, atomically: it is the commit point, and a failed write leaves the previous epoch's
 * checkpoint in force. Started again with the same settings, the trainer continues after the last finished
 * epoch instead of starting over (a finished run is restored without training; a larger epoch count
 * continues it). "The same settings" is a signature over the whole network configuration (DL4J's
 * configuration JSON, which holds layers, activations, dropout, updater and regularisation), the initial
 * weights, the trainer's settings (batch size, seed, class weights, batch transform, callbacks) and the
 * content of the training and validation data; if any of it differs, the log says which and training
 * starts over.
 *
 * <p><b>Determinism.</b> Each epoch's batch order comes from {@code Random(seed + epoch)}, each step's batch
 * transform gets its own generator seeded from (seed, epoch, step), and ND4J's generator (dropout) is
 * re-seeded at each epoch start, so the same seed on the same CPU backend gives the same numbers, also across
 * a resume.
 */
public final class Trainer {
    private final String name;
    private final int epochs;
    private final int batchSize;
    private final long seed;
    private final double initialLr;
    private final List<Callback> callbacks;
    private final Path checkpointDir;
    private final boolean resume;
    private final boolean progress;
    private final boolean oneDnn;
    private final double[] classWeights;
    private final BatchTransform transform;

    /** The seed of the network's data order, dropout and augmentation draws (recorded with every result). */
    public long seed() {
        return seed;
    }

    /** Epochs at most. */
    public int epochs() {
        return epochs;
    }

    private Trainer(Builder b) {
        this.name = b.name;
        this.epochs = b.epochs;
        this.batchSize = b.batchSize;
        this.seed = b.seed;
        this.initialLr = b.learningRate;
        this.callbacks = List.copyOf(b.callbacks);
        this.checkpointDir = b.checkpointDir;
        this.resume = b.resume;
        this.progress = b.progress;
        this.oneDnn = b.oneDnn;
        this.classWeights = b.classWeights;
        this.transform = b.transform;
    }

    public static Builder builder(String name) {
        return new Builder(name);
    }

    /** Settings; defaults: 10 epochs, batch 32, seed 42, no callbacks, no class weights, no transform, no checkpoints. */
    public static final class Builder {
        private final String name;
        private int epochs = 10;
        private int batchSize = 32;
        private long seed = 42;
        private double learningRate = Double.NaN;
        private final List<Callback> callbacks = new ArrayList<>();
        private Path checkpointDir;
        private boolean resume = true;
        private boolean progress = true;
        private boolean oneDnn = true;
        private double[] classWeights;
        private BatchTransform transform;

        private Builder(String name) {
            this.name = name;
        }

        public Builder epochs(int n) {
            this.epochs = n;
            return this;
        }

        public Builder batchSize(int n) {
            this.batchSize = n;
            return this;
        }

        public Builder seed(long s) {
            this.seed = s;
            return this;
        }

        /** The learning rate the model's updater was configured with (needed by learning-rate callbacks). */
        public Builder learningRate(double lr) {
            this.learningRate = lr;
            return this;
        }

        public Builder callbacks(Callback... cs) {
            callbacks.addAll(Arrays.asList(cs));
            return this;
        }

        /**
         * Keras' {@code class_weight}: each training example's loss is multiplied by its class's weight (the
         * output layer's cross-entropy is replaced by a weighted one; it must be a softmax layer with
         * categorical cross-entropy). {@code ClassBalancer.classWeights(...)} gives the balanced weights
         * n / (k n_c). Validation loss and metrics stay unweighted.
         */
        public Builder classWeights(double... weights) {
            for (double w : weights) {
                if (!(w >= 0) || Double.isInfinite(w)) {
                    throw new IllegalArgumentException("class weights must be finite and >= 0, got " + Arrays.toString(weights));
                }
            }
            this.classWeights = weights.clone();
            return this;
        }

        /** A change made to every training batch as it is prepared (augmentation, MixUp, ...); validation is untouched. */
        public Builder transform(BatchTransform t) {
            this.transform = t;
            return this;
        }

        /** Folder for checkpoints ({@code state.json}, {@code epoch-NNNN/}, {@code best.zip}); null for none. */
        public Builder checkpointDir(Path dir) {
            this.checkpointDir = dir;
            return this;
        }

        /** Continue an interrupted run found in the checkpoint folder (default true). */
        public Builder resume(boolean r) {
            this.resume = r;
            return this;
        }

        public Builder progress(boolean show) {
            this.progress = show;
            return this;
        }

        /**
         * Run convolution, batch-norm and pooling layers on oneDNN kernels where the ND4J build has them and
         * they pass {@link OneDnnLayers}' check on the first batch (default true; see that class).
         */
        public Builder oneDnn(boolean use) {
            this.oneDnn = use;
            return this;
        }

        public Trainer build() {
            if (epochs <= 0 || batchSize <= 0) {
                throw new IllegalArgumentException("epochs and batch size must be positive");
            }
            return new Trainer(this);
        }
    }

    /** What callbacks may read and change during training. */
    public final class Context {
        private final Network network;
        private double lr;
        private String stopReason;
        private final List<String> notes = new ArrayList<>();

        Context(Network network, double lr) {
            this.network = network;
            this.lr = lr;
        }

        public Network network() {
            return network;
        }

        public double learningRate() {
            if (Double.isNaN(lr)) {
                throw new IllegalStateException("this callback changes the learning rate: tell the trainer the starting "
                        + "rate with Trainer.builder(...).learningRate(lr)");
            }
            return lr;
        }

        public void setLearningRate(double newLr) {
            lr = newLr;
            network.setLearningRate(newLr);
        }

        public void stop(String reason) {
            stopReason = reason;
        }

        /** Why training is to stop, or null while it goes on. */
        public String stopReason() {
            return stopReason;
        }

        public void note(String message) {
            notes.add(message);
            log(message);
        }

        public Optional<Path> checkpointDir() {
            return Optional.ofNullable(checkpointDir);
        }
    }

    /** Trains on in-memory data; {@code validation} may be null (then no val_ metrics). */
    public TrainingResult fit(Network net, DataSet train, DataSet validation) {
        return fit(net, Batches.of(train), validation == null ? null : Batches.of(validation));
    }

    /**
     * Trains on batches made when needed (for example {@link ImageBatches}); {@code validation} may be null.
     * The next batch is prepared (and transformed) on another thread while the current one trains.
     */
    public TrainingResult fit(Network net, Batches train, Batches validation) {
        long t0 = System.nanoTime();
        int n = train.size();
        if (n == 0) {
            throw new IllegalArgumentException(name + ": no training examples");
        }
        if (classWeights != null) {
            net.setClassWeights(classWeights);
        }
        Map<String, String> signature = signature(net, train, validation);
        Context ctx = new Context(net, initialLr);
        List<Map<String, Double>> rows = new ArrayList<>();
        int start = 1;
        boolean resumed = false;
        Checkpoints checkpoints = checkpointDir == null ? null : new Checkpoints(checkpointDir);
        Optional<JsonObject> state = resume && checkpoints != null ? checkpoints.read(signature, epochs, this::log) : Optional.empty();
        if (state.isPresent()) {
            start = restore(state.get(), net, ctx, rows) + 1;
            resumed = true;
            ctx.note(String.format(Locale.ROOT, "%s: resumed from %s after epoch %d of %d", name, checkpointDir, start - 1, epochs));
        } else if (checkpoints != null) {
            checkpoints.clear();
        }
        if (net.model() instanceof ComputationGraph graph) {
            DirectGraphUpdater.install(graph);
        }
        if (oneDnn) {
            installOneDnn(net, train, ctx);
        }
        callbacks.forEach(c -> c.onTrainStart(ctx));
        net.model().addListeners(net.outputCatcher());
        int batches = (n + batchSize - 1) / batchSize;
        boolean decays = net.hasWeightDecay(); // once: the per-step term is a pass over every weight
        List<String> classNames = train.classNames();
        ExecutorService prefetch = Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "leukolab-prefetch");
            t.setDaemon(true);
            return t;
        });
        try {
            for (int epoch = start; epoch <= epochs && ctx.stopReason == null; epoch++) {
                long e0 = System.nanoTime();
                Nd4j.getRandom().setSeed(seed * 1_000_003L + epoch);
                List<Integer> order = new ArrayList<>(n);
                for (int i = 0; i < n; i++) {
                    order.add(i);
                }
                java.util.Collections.shuffle(order, new Random(seed + epoch));
                double lossSum = 0;
                double decaySum = 0;
                long correct = 0;
                double[][] trainProbabilities = new double[n][];
                int[] trainLabels = new int[n];
                int seen = 0;
                String title = String.format(Locale.ROOT, "%s epoch %d/%d", name, epoch, epochs);
                try (Progress bar = progress ? Progress.start(title, batches, "batch")
                        : Progress.toStream(title, batches, "batch", new java.io.PrintStream(java.io.OutputStream.nullOutputStream()))) {
                    Future<DataSet> next = prefetch.submit(batchTask(train, order, epoch, 0));
                    for (int b = 0; b < batches; b++) {
                        DataSet batch = next.get();
                        if (b + 1 < batches) {
                            next = prefetch.submit(batchTask(train, order, epoch, b + 1));
                        }
                        int size = batch.numExamples();
                        double decay = decays ? net.weightDecayScore() : 0; // DL4J's score adds it; Keras' AdamW loss does not
                        net.fit(batch);
                        lossSum += (net.lastScore() - decay) * size;
                        decaySum += decay * size;
                        INDArray out = net.lastTrainingOutput();
                        if (out == null) {
                            out = net.output(batch.getFeatures());
                        }
                        double[][] p = out.toDoubleMatrix();
                        int[] y = batch.getLabels().argMax(1).toIntVector();
                        for (int i = 0; i < size; i++) {
                            trainProbabilities[seen + i] = p[i];
                            trainLabels[seen + i] = y[i];
                            correct += Scores.argMax(p[i]) == y[i] ? 1 : 0;
                        }
                        seen += size;
                        bar.status(String.format(Locale.ROOT, "loss %.4f  acc %.4f", lossSum / seen, (double) correct / seen));
                        bar.step();
                    }
                } catch (InterruptedException e) {
                    Thread.currentThread().interrupt();
                    throw new IllegalStateException(name + ": interrupted", e);
                } catch (ExecutionException e) {
                    throw new IllegalStateException(name + ": preparing a batch failed: " + e.getCause(), e.getCause());
                }
                Map<String, Double> m = new LinkedHashMap<>();
                m.put("epoch", (double) epoch);
                Map<String, Double> tr = Scores.of(trainProbabilities, trainLabels, classNames).named("");
                tr.put(Metric.LOSS.key(), lossSum / n);
                m.putAll(tr);
                if (decaySum != 0) {
                    m.put("weight_decay_penalty", decaySum / n); // shown apart: not part of the loss, as in Keras
                }
                if (validation != null) {
                    m.putAll(scores(net, validation, batchSize * 2, false).named(Metric.VALIDATION_PREFIX));
                    m.put(Metric.LOSS.validationKey(), m.get(Metric.LOSS.validationKey()) + net.regularizationScore());
                }
                m.put("lr", Double.isNaN(ctx.lr) ? Double.NaN : ctx.lr);
                m.put("seconds", (System.nanoTime() - e0) / 1e9);
                rows.add(m);
                log(epochLine(epoch, m));
                for (Callback c : callbacks) {
                    c.onEpochEnd(ctx, epoch, m);
                }
                if (checkpoints != null) {
                    checkpoints.save(epoch, net, callbacks, stateOf(signature, epoch, ctx, rows));
                }
            }
        } finally {
            prefetch.shutdownNow();
            net.model().setListeners(new org.deeplearning4j.optimize.api.TrainingListener[0]);
        }
        callbacks.forEach(c -> c.onTrainEnd(ctx));
        return new TrainingResult(name, TrainingResult.historyTable(name, rows), rows.size(), ctx.stopReason,
                List.copyOf(ctx.notes), (System.nanoTime() - t0) / 1e9, resumed, checkpointDir);
    }

    /**
     * oneDNN kernels on the first batch: every layer that passes {@link OneDnnLayers}' gradient check, in a
     * MultiLayerNetwork or a single-input graph (a backbone under a head, frozen or partly trainable); the training
     * log notes what was done.
     */
    private void installOneDnn(Network net, Batches train, Context ctx) {
        installFastKernels(net, train, batchSize).ifPresent(r -> ctx.note(name + ": " + r));
    }

    /**
     * Puts the fast kernels a training run uses (oneDNN, checked on the first batch of {@code train}; for a graph, the
     * {@link DirectGraphUpdater}) into {@code net}, as
     * {@code fit} does before its first epoch: for timing a few steps of a network the way it will train. Empty for a
     * network they do not apply to (several inputs, say).
     */
    public static java.util.Optional<OneDnnLayers.Report> installFastKernels(Network net, Batches train, int batchSize) {
        boolean graph = net.model() instanceof ComputationGraph cg && cg.getNumInputArrays() == 1;
        if (!(net.model() instanceof MultiLayerNetwork) && !graph) {
            return java.util.Optional.empty();
        }
        if (graph) {
            DirectGraphUpdater.install((ComputationGraph) net.model());
        }
        DataSet probe = train.batch(IntStream.range(0, Math.min(batchSize, train.size())).toArray());
        return java.util.Optional.of(net.model() instanceof MultiLayerNetwork mln ? OneDnnLayers.install(mln, probe)
                : OneDnnLayers.install((ComputationGraph) net.model(), probe));
    }

    private static String epochLine(int epoch, Map<String, Double> m) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "epoch %d: %.0f s, loss %.4f, accuracy %.4f, f1 %.4f",
                epoch, m.get("seconds"), m.get("loss"), m.get("accuracy"), m.get("f1")));
        if (m.containsKey("val_loss")) {
            sb.append(String.format(Locale.ROOT, ", val_loss %.4f, val_accuracy %.4f, val_f1 %.4f, val_auc %.4f",
                    m.get("val_loss"), m.get("val_accuracy"), m.get("val_f1"), m.get("val_auc")));
        }
        if (!m.get("lr").isNaN()) {
            sb.append(String.format(Locale.ROOT, ", lr %.2e", m.get("lr")));
        }
        return sb.toString();
    }

    private void log(String s) {
        System.out.println(s);
        System.out.flush();
    }

    private int[] indices(List<Integer> order, int b) {
        return order.subList(b * batchSize, Math.min(order.size(), (b + 1) * batchSize)).stream().mapToInt(Integer::intValue).toArray();
    }

    /** Batch {@code b} of an epoch, transformed with a generator of its own (so the prefetch thread changes nothing). */
    private Callable<DataSet> batchTask(Batches data, List<Integer> order, int epoch, int b) {
        int[] idx = indices(order, b);
        return () -> {
            DataSet batch = data.batch(idx);
            if (transform == null) {
                return batch;
            }
            return transform.apply(batch.getFeatures(), batch.getLabels(), stepRandom(seed, epoch, b));
        };
    }

    /** The generator of one training step: a function of the run's seed, the epoch and the step only. */
    static Random stepRandom(long seed, int epoch, int step) {
        long h = seed;
        h = h * 0x9E3779B97F4A7C15L + epoch;
        h = h * 0x9E3779B97F4A7C15L + step;
        return new Random(h ^ (h >>> 31));
    }

    /** Rows {@code idx} of a dataset (features of any rank), in that order. */
    public static DataSet rows(DataSet ds, int[] idx) {
        return Batches.rows(ds, idx);
    }

    /** Class probabilities {@code [n, classes]} in inference mode, batch by batch (with a progress bar). */
    public static INDArray predict(Network net, Batches data, int batch) {
        return predict(net, data, batch, true);
    }

    static INDArray predict(Network net, Batches data, int batch, boolean progress) {
        int n = data.size();
        INDArray out = null;
        String title = "predicting " + n + " examples";
        try (Progress bar = progress ? Progress.start(title, n, "img")
                : Progress.toStream(title, n, "img", new java.io.PrintStream(java.io.OutputStream.nullOutputStream()))) {
            for (int s = 0; s < n; s += batch) {
                int[] idx = IntStream.range(s, Math.min(n, s + batch)).toArray();
                INDArray p = net.output(data.batch(idx).getFeatures());
                if (out == null) {
                    out = Nd4j.create(p.dataType(), n, p.size(1));
                }
                out.get(NDArrayIndex.interval(s, s + idx.length), NDArrayIndex.all()).assign(p);
                bar.step(idx.length);
            }
        }
        return out;
    }

    /** Every {@link Metric} of a network on a dataset, in inference mode (loss: plain cross-entropy). */
    public static Scores scores(Network net, Batches data, int batch) {
        return scores(net, data, batch, true);
    }

    static Scores scores(Network net, Batches data, int batch, boolean progress) {
        INDArray p = predict(net, data, batch, progress);
        return Scores.of(p.toDoubleMatrix(), data.labels(), data.classNames());
    }

    /** {loss, accuracy} on a dataset in inference mode, in batches (loss: cross-entropy plus regularisation). */
    public static double[] evaluate(Network net, Batches data, int batch) {
        Scores s = scores(net, data, batch, false);
        return new double[] {s.loss() + net.regularizationScore(), s.accuracy()};
    }

    // --------------------------------------------------------------------------------- checkpoints

    /**
     * The parts a checkpoint must agree on to be resumed, each as a SHA-256 (kept apart so the log can say
     * which one changed).
     */
    private Map<String, String> signature(Network net, Batches train, Batches validation) {
        Map<String, String> s = new LinkedHashMap<>();
        s.put("network configuration", org.leukolab.system.Hashing.sha256(net.configurationJson()));
        s.put("initial weights", net.parameterHash());
        s.put("trainer settings", org.leukolab.system.Hashing.sha256("batch " + batchSize + "|seed " + seed + "|lr " + initialLr
                + "|class weights " + Arrays.toString(classWeights) + "|transform " + (transform == null ? "none" : transform.id())));
        s.put("callbacks", org.leukolab.system.Hashing.sha256(callbacks.stream().map(Callback::describe).toList().toString()));
        s.put("training data", train.fingerprint());
        s.put("validation data", validation == null ? "none" : validation.fingerprint());
        return s;
    }

    private JsonObject stateOf(Map<String, String> signature, int epoch, Context ctx, List<Map<String, Double>> rows) {
        JsonObject o = new JsonObject();
        JsonObject sig = new JsonObject();
        signature.forEach(sig::addProperty);
        o.add("signature", sig);
        o.addProperty("name", name);
        o.addProperty("epochsDone", epoch);
        o.addProperty("lr", Double.isNaN(ctx.lr) ? null : ctx.lr);
        o.addProperty("stopReason", ctx.stopReason);
        JsonArray hist = new JsonArray();
        for (Map<String, Double> r : rows) {
            JsonObject h = new JsonObject();
            r.forEach((k, v) -> h.addProperty(k, v.isNaN() ? null : v));
            hist.add(h);
        }
        o.add("history", hist);
        return o;
    }

    private int restore(JsonObject o, Network net, Context ctx, List<Map<String, Double>> rows) {
        Path folder = checkpointDir.resolve(o.get("folder").getAsString());
        net.restore(folder.resolve(Checkpoints.MODEL));
        for (JsonElement r : o.getAsJsonArray("history")) {
            Map<String, Double> m = new LinkedHashMap<>();
            r.getAsJsonObject().entrySet().forEach(e -> m.put(e.getKey(), e.getValue().isJsonNull() ? Double.NaN : e.getValue().getAsDouble()));
            rows.add(m);
        }
        if (o.has("lr") && !o.get("lr").isJsonNull()) {
            ctx.lr = o.get("lr").getAsDouble();
            if (!Double.isNaN(ctx.lr)) {
                net.setLearningRate(ctx.lr);
            }
        }
        JsonArray cs = o.getAsJsonArray("callbacks");
        for (int i = 0; i < callbacks.size(); i++) {
            callbacks.get(i).restore(cs.get(i).getAsJsonObject(), folder, ctx);
        }
        if (o.has("stopReason") && !o.get("stopReason").isJsonNull()) {
            ctx.stopReason = o.get("stopReason").getAsString();
        }
        return o.get("epochsDone").getAsInt();
    }

    /**
     * A checkpoint folder: {@code state.json} (the commit point) naming {@code epoch-NNNN/}, which holds
     * {@value #MODEL} and the callbacks' files. Writing an epoch: its folder first (under a temporary name,
     * renamed when complete), then {@code state.json} atomically, then older epoch folders are removed. A
     * failure at any point leaves the previous state and its folder intact and removes what it half wrote.
     */
    static final class Checkpoints {
        static final String MODEL = "model.zip";
        static final String STATE = "state.json";
        private final Path dir;

        Checkpoints(Path dir) {
            this.dir = dir;
        }

        Optional<JsonObject> read(Map<String, String> signature, int epochs, java.util.function.Consumer<String> log) {
            Path stateFile = dir.resolve(STATE);
            if (!Files.isRegularFile(stateFile)) {
                return Optional.empty();
            }
            try {
                JsonObject o = new Gson().fromJson(Files.readString(stateFile), JsonObject.class);
                if (!o.has("folder") || !Files.isRegularFile(dir.resolve(o.get("folder").getAsString()).resolve(MODEL))) {
                    log.accept("the checkpoint in " + dir + " is from an older layout or names a missing model; starting over");
                    return Optional.empty();
                }
                JsonObject saved = o.getAsJsonObject("signature");
                List<String> changed = new ArrayList<>();
                signature.forEach((k, v) -> {
                    if (saved == null || !saved.has(k) || !saved.get(k).getAsString().equals(v)) {
                        changed.add(k);
                    }
                });
                if (!changed.isEmpty()) {
                    log.accept("the checkpoint in " + dir + " was made under other settings (changed: " + String.join(", ", changed)
                            + "); starting over");
                    return Optional.empty();
                }
                int done = o.get("epochsDone").getAsInt();
                if (done > epochs) {
                    log.accept("the checkpoint in " + dir + " has " + done + " epochs, more than the " + epochs
                            + " asked for; starting over");
                    return Optional.empty();
                }
                return Optional.of(o);
            } catch (IOException | RuntimeException e) {
                log.accept("unreadable checkpoint state in " + dir + " (" + e.getMessage() + "); starting over");
                return Optional.empty();
            }
        }

        /** Removes every checkpoint of an earlier run (keeps {@code best.zip}, which its callback overwrites). */
        void clear() {
            try {
                Files.createDirectories(dir);
                Files.deleteIfExists(dir.resolve(STATE));
                removeEpochFolders(null);
            } catch (IOException e) {
                throw new UncheckedIOException("cannot prepare the checkpoint folder " + dir + ": " + e.getMessage(), e);
            }
        }

        void save(int epoch, Network net, List<Callback> callbacks, JsonObject state) {
            String name = String.format(Locale.ROOT, "epoch-%04d", epoch);
            Path folder = dir.resolve(name);
            Path partial = dir.resolve("." + name + ".partial");
            try {
                deleteTree(partial);
                deleteTree(folder);
                Files.createDirectories(partial);
                net.save(partial.resolve(MODEL));
                JsonArray cs = new JsonArray();
                for (Callback c : callbacks) {
                    cs.add(c.save(partial));
                }
                state.add("callbacks", cs);
                state.addProperty("folder", name);
                AtomicFiles.move(partial, folder);
                AtomicFiles.writeString(dir.resolve(STATE), state.toString());
                removeEpochFolders(name);
            } catch (IOException | RuntimeException e) {
                try {
                    deleteTree(partial);
                } catch (IOException ignored) {
                    // reported below
                }
                throw new IllegalStateException("cannot write the checkpoint of epoch " + epoch + " in " + dir + ": "
                        + e.getMessage() + " (the previous checkpoint is unchanged)", e);
            }
        }

        private void removeEpochFolders(String keep) throws IOException {
            try (var s = Files.list(dir)) {
                for (Path p : s.toList()) {
                    String f = p.getFileName().toString();
                    if ((f.matches("epoch-\\d{4}") && !f.equals(keep)) || f.matches("\\.epoch-\\d{4}\\.partial")
                            || f.matches("epoch-\\d{4}\\.zip") || f.equals("early-stopping-best.bin")) {
                        deleteTree(p);
                    }
                }
            }
        }

        static void deleteTree(Path p) throws IOException {
            if (!Files.exists(p)) {
                return;
            }
            try (var walk = Files.walk(p)) {
                for (Path q : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(q);
                }
            }
        }
    }
}

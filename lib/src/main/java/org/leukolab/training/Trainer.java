package org.leukolab.training;

import com.google.gson.Gson;
import com.google.gson.JsonArray;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
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
import org.leukolab.notebook.Progress;
import org.nd4j.linalg.api.ndarray.INDArray;
import org.nd4j.linalg.dataset.DataSet;
import org.nd4j.linalg.factory.Nd4j;
import org.nd4j.linalg.indexing.INDArrayIndex;
import org.nd4j.linalg.indexing.NDArrayIndex;
import org.nd4j.linalg.indexing.SpecifiedIndex;

/**
 * Trains a {@link Network} the way Keras' {@code model.fit} does: epochs of shuffled mini-batches, the
 * training loss and accuracy averaged over each epoch, validation loss and accuracy after it, then the
 * callbacks (early stopping, learning-rate reduction, best checkpoint). A progress bar per epoch shows
 * loss, accuracy and time left; a history table records every epoch.
 *
 * <p><b>Checkpoints and resume.</b> With a checkpoint folder, the model (with optimiser state), the
 * history and the callbacks' state are saved after every epoch, atomically. Started again with the same
 * settings (an interrupted notebook, a second run), the trainer continues after the last finished epoch
 * instead of starting over; a finished run is restored without training.
 *
 * <p><b>Determinism.</b> Each epoch's batch order comes from {@code Random(seed + epoch)} and ND4J's
 * random generator (dropout) is re-seeded at each epoch start, so the same seed on the same CPU backend
 * gives the same numbers, also across a resume.
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
    }

    public static Builder builder(String name) {
        return new Builder(name);
    }

    /** Settings; defaults: 10 epochs, batch 32, seed 42, no callbacks, no checkpoints. */
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

        /** Folder for checkpoints ({@code epoch-NNNN.zip}, {@code state.json}, {@code best.zip}); null for none. */
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
     * The next batch is prepared on another thread while the current one trains.
     */
    public TrainingResult fit(Network net, Batches train, Batches validation) {
        long t0 = System.nanoTime();
        int n = train.size();
        String signature = signature(net, train, validation);
        Context ctx = new Context(net, initialLr);
        List<Map<String, Double>> rows = new ArrayList<>();
        int start = 1;
        boolean resumed = false;
        Optional<JsonObject> state = resume ? readState(signature) : Optional.empty();
        if (state.isPresent()) {
            start = restore(state.get(), net, ctx, rows) + 1;
            resumed = true;
            ctx.note(String.format(Locale.ROOT, "%s: resumed from %s after epoch %d of %d", name, checkpointDir, start - 1, epochs));
        } else if (checkpointDir != null) {
            try {
                Files.createDirectories(checkpointDir);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        if (oneDnn && n > 0) {
            installOneDnn(net, train, ctx);
        }
        callbacks.forEach(c -> c.onTrainStart(ctx));
        net.model().addListeners(net.outputCatcher());
        int batches = (n + batchSize - 1) / batchSize;
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
                long correct = 0;
                String title = String.format(Locale.ROOT, "%s epoch %d/%d", name, epoch, epochs);
                try (Progress bar = progress ? Progress.start(title, batches, "batch")
                        : Progress.toStream(title, batches, "batch", new java.io.PrintStream(java.io.OutputStream.nullOutputStream()))) {
                    Future<DataSet> next = prefetch.submit(batchTask(train, order, 0));
                    for (int b = 0; b < batches; b++) {
                        int[] idx = indices(order, b);
                        DataSet batch = next.get();
                        if (b + 1 < batches) {
                            next = prefetch.submit(batchTask(train, order, b + 1));
                        }
                        net.fit(batch);
                        lossSum += net.lastScore() * idx.length;
                        INDArray out = net.lastTrainingOutput();
                        if (out == null) {
                            out = net.output(batch.getFeatures());
                        }
                        correct += correctCount(out, batch.getLabels());
                        int seen = Math.min(n, (b + 1) * batchSize);
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
                m.put("loss", lossSum / n);
                m.put("accuracy", (double) correct / n);
                if (validation != null) {
                    double[] v = evaluate(net, validation, batchSize * 2);
                    m.put("val_loss", v[0]);
                    m.put("val_accuracy", v[1]);
                }
                m.put("lr", Double.isNaN(ctx.lr) ? Double.NaN : ctx.lr);
                m.put("seconds", (System.nanoTime() - e0) / 1e9);
                rows.add(m);
                log(epochLine(epoch, m));
                for (Callback c : callbacks) {
                    c.onEpochEnd(ctx, epoch, m);
                }
                if (checkpointDir != null) {
                    saveState(signature, epoch, net, ctx, rows);
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
     * oneDNN kernels on the first batch: every checked layer of a MultiLayerNetwork, the frozen layers of a
     * single-input graph (a backbone trained through); the training log notes what was done.
     */
    private void installOneDnn(Network net, Batches train, Context ctx) {
        boolean graph = net.model() instanceof org.deeplearning4j.nn.graph.ComputationGraph cg && cg.getNumInputArrays() == 1;
        if (!(net.model() instanceof org.deeplearning4j.nn.multilayer.MultiLayerNetwork) && !graph) {
            return;
        }
        DataSet probe = train.batch(java.util.stream.IntStream.range(0, Math.min(batchSize, train.size())).toArray());
        if (net.model() instanceof org.deeplearning4j.nn.multilayer.MultiLayerNetwork mln) {
            ctx.note(name + ": " + OneDnnLayers.install(mln, probe));
            return;
        }
        OneDnnLayers.Report r = OneDnnLayers.installOnFrozenLayers((org.deeplearning4j.nn.graph.ComputationGraph) net.model(),
                probe.getFeatures());
        if (r.active() || !r.builtIn().isEmpty()) {
            ctx.note(name + ": frozen " + r);
        }
    }

    private static String epochLine(int epoch, Map<String, Double> m) {
        StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "epoch %d: %.0f s, loss %.4f, accuracy %.4f",
                epoch, m.get("seconds"), m.get("loss"), m.get("accuracy")));
        if (m.containsKey("val_loss")) {
            sb.append(String.format(Locale.ROOT, ", val_loss %.4f, val_accuracy %.4f", m.get("val_loss"), m.get("val_accuracy")));
        }
        if (!m.get("lr").isNaN()) {
            sb.append(String.format(Locale.ROOT, ", lr %.2e", m.get("lr")));
        }
        return sb.toString();
    }

    private static void log(String s) {
        System.out.println(s);
        System.out.flush();
    }

    private int[] indices(List<Integer> order, int b) {
        return order.subList(b * batchSize, Math.min(order.size(), (b + 1) * batchSize)).stream().mapToInt(Integer::intValue).toArray();
    }

    private Callable<DataSet> batchTask(Batches data, List<Integer> order, int b) {
        int[] idx = indices(order, b);
        return () -> data.batch(idx);
    }

    /** Rows {@code idx} of a dataset (features of any rank), in that order. */
    public static DataSet rows(DataSet ds, int[] idx) {
        return Batches.rows(ds, idx);
    }

    static long correctCount(INDArray probabilities, INDArray oneHot) {
        int[] p = probabilities.argMax(1).toIntVector();
        int[] y = oneHot.argMax(1).toIntVector();
        long c = 0;
        for (int i = 0; i < p.length; i++) {
            c += p[i] == y[i] ? 1 : 0;
        }
        return c;
    }

    /** {loss, accuracy} on a dataset in inference mode, in batches. */
    public static double[] evaluate(Network net, DataSet data, int batch) {
        return evaluate(net, Batches.of(data), batch);
    }

    /** {loss, accuracy} in inference mode, batch by batch. */
    public static double[] evaluate(Network net, Batches data, int batch) {
        int n = data.size();
        double loss = 0;
        long correct = 0;
        for (int s = 0; s < n; s += batch) {
            int[] idx = java.util.stream.IntStream.range(s, Math.min(n, s + batch)).toArray();
            DataSet b = data.batch(idx);
            loss += net.score(b) * idx.length;
            correct += correctCount(net.output(b.getFeatures()), b.getLabels());
        }
        return new double[] {loss / n, (double) correct / n};
    }

    /** Class probabilities {@code [n, classes]} in inference mode, batch by batch (with a progress bar). */
    public static INDArray predict(Network net, Batches data, int batch) {
        int n = data.size();
        INDArray out = null;
        try (Progress bar = Progress.start("predicting " + n + " examples", n, "img")) {
            for (int s = 0; s < n; s += batch) {
                int[] idx = java.util.stream.IntStream.range(s, Math.min(n, s + batch)).toArray();
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

    // --------------------------------------------------------------------------------- checkpoints

    private String signature(Network net, Batches train, Batches validation) {
        String s = name + "|" + epochs + "|" + batchSize + "|" + seed + "|" + initialLr + "|" + train.size() + "|"
                + (validation == null ? 0 : validation.size()) + "|" + net.parameters() + "|"
                + callbacks.stream().map(Callback::describe).toList() + "|" + train.fingerprint();
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    private Optional<JsonObject> readState(String signature) {
        if (checkpointDir == null || !Files.isRegularFile(checkpointDir.resolve("state.json"))) {
            return Optional.empty();
        }
        try {
            JsonObject o = new Gson().fromJson(Files.readString(checkpointDir.resolve("state.json")), JsonObject.class);
            if (!Files.isRegularFile(checkpointDir.resolve(o.get("model").getAsString()))) {
                log(name + ": the checkpoint state in " + checkpointDir + " names a missing model file; starting over");
                return Optional.empty();
            }
            if (!signature.equals(o.get("signature").getAsString())) {
                log(name + ": the checkpoint in " + checkpointDir + " is from different settings or data; starting over");
                return Optional.empty();
            }
            return Optional.of(o);
        } catch (IOException | RuntimeException e) {
            log(name + ": unreadable checkpoint state in " + checkpointDir + " (" + e.getMessage() + "); starting over");
            return Optional.empty();
        }
    }

    private int restore(JsonObject o, Network net, Context ctx, List<Map<String, Double>> rows) {
        net.restore(checkpointDir.resolve(o.get("model").getAsString()));
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
            callbacks.get(i).restore(cs.get(i).getAsJsonObject());
            if (callbacks.get(i) instanceof EarlyStopping es && es.restoresBest()) {
                Path best = checkpointDir.resolve("early-stopping-best.bin");
                if (Files.isRegularFile(best)) {
                    try {
                        es.setBestParams(Nd4j.readBinary(best.toFile()));
                    } catch (IOException e) {
                        throw new UncheckedIOException(e);
                    }
                }
            }
        }
        if (o.has("stopReason") && !o.get("stopReason").isJsonNull()) {
            ctx.stopReason = o.get("stopReason").getAsString();
        }
        return o.get("epochsDone").getAsInt();
    }

    /**
     * The model goes to {@code epoch-NNNN.zip} first; {@code state.json}, which names it, is replaced
     * last (atomically) and is the commit point; older epoch files are removed after. A crash at any
     * moment leaves a state that names a complete model of the same epoch.
     */
    private void saveState(String signature, int epoch, Network net, Context ctx, List<Map<String, Double>> rows) {
        String modelFile = String.format(Locale.ROOT, "epoch-%04d.zip", epoch);
        net.save(checkpointDir.resolve(modelFile));
        JsonObject o = new JsonObject();
        o.addProperty("model", modelFile);
        o.addProperty("signature", signature);
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
        JsonArray cs = new JsonArray();
        callbacks.forEach(c -> cs.add(c.state()));
        o.add("callbacks", cs);
        try {
            for (Callback c : callbacks) {
                if (c instanceof EarlyStopping es && es.bestParams() != null) {
                    Path tmp = checkpointDir.resolve(".early-stopping-best.bin.tmp");
                    Nd4j.saveBinary(es.bestParams(), tmp.toFile());
                    Files.move(tmp, checkpointDir.resolve("early-stopping-best.bin"), StandardCopyOption.ATOMIC_MOVE,
                            StandardCopyOption.REPLACE_EXISTING);
                }
            }
            Path tmp = checkpointDir.resolve(".state.json.tmp");
            Files.writeString(tmp, o.toString(), StandardCharsets.UTF_8);
            Files.move(tmp, checkpointDir.resolve("state.json"), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            try (var old = Files.list(checkpointDir)) {
                for (Path p : old.filter(p -> p.getFileName().toString().matches("epoch-\\d{4}\\.zip")
                        && !p.getFileName().toString().equals(modelFile)).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot write checkpoint state in " + checkpointDir + ": " + e.getMessage(), e);
        }
    }
}

package org.leukolab.data;

import com.google.gson.Gson;
import com.google.gson.JsonElement;
import com.google.gson.JsonObject;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.leukolab.system.Workspace;

/**
 * The datasets leukolab knows, and which of them are installed in the data folder
 * ({@link Workspace#dataDir()}). A missing dataset is one message naming the command that fetches it.
 *
 * <pre>{@code
 * Dataset cells = DatasetCatalog.standard().open("blood-cells");
 * ImageIndex index = cells.index();
 * }</pre>
 */
public final class DatasetCatalog {
    /** The command users run to fetch datasets (documented in the README). */
    public static final String FETCH_COMMAND = "./leukolab fetch";
    /** Written by the fetch script as the last step of an install. */
    public static final String INSTALL_MARKER = ".leukolab-dataset.json";

    private final Map<String, DatasetSpec> specs;
    private final Path dataDir;

    public DatasetCatalog(Map<String, DatasetSpec> specs, Path dataDir) {
        this.specs = Map.copyOf(specs);
        this.dataDir = dataDir;
    }

    /** The catalog of {@code data-scripts/datasets.json} over the workspace's data folder. */
    public static DatasetCatalog standard() {
        return new DatasetCatalog(readRegistry(), Workspace.dataDir());
    }

    /** The same catalog over another data folder (tests, or a second copy of the data). */
    public DatasetCatalog withDataDir(Path dir) {
        return new DatasetCatalog(specs, dir);
    }

    public Path dataDir() {
        return dataDir;
    }

    public DatasetSpec spec(String id) {
        DatasetSpec s = specs.get(id);
        if (s == null) {
            throw new IllegalArgumentException("unknown dataset '" + id + "'; known: " + specs.keySet());
        }
        return s;
    }

    public List<String> ids() {
        return specs.keySet().stream().sorted().toList();
    }

    /** True if the dataset was installed completely (the fetch script's marker is there). */
    public boolean isInstalled(String id) {
        spec(id);
        return Files.isRegularFile(dataDir.resolve(id).resolve(INSTALL_MARKER));
    }

    /** The installed dataset; a {@link DatasetException.Missing} naming the fetch command if absent. */
    public Dataset open(String id) {
        DatasetSpec s = spec(id);
        Path dir = dataDir.resolve(id);
        if (!isInstalled(id)) {
            String why = Files.isDirectory(dir)
                    ? dir + " exists but was not installed completely (no " + INSTALL_MARKER + ")"
                    : "it is not installed in " + dataDir;
            throw new DatasetException.Missing("Dataset '" + id + "' (" + s.title() + ") is missing: " + why
                    + ". Fetch it with: " + FETCH_COMMAND + " " + id
                    + " (offline: add --mirror <folder with a copy>)"
                    + (s.sample() != null ? ". Offline mirrors may only carry its sample '" + s.sample() + "'."
                       : s.standin() != null ? ". Offline mirrors may only carry its stand-in '" + s.standin() + "'." : ""));
        }
        return new Dataset(s, dir, null);
    }

    /**
     * The full dataset if installed, else its sample or stand-in (clearly marked: {@link Dataset#substituteFor()}),
     * else the {@link DatasetException.Missing} of the full dataset.
     */
    public Dataset openOrSample(String id) {
        DatasetSpec s = spec(id);
        String sub = s.substitute();
        if (isInstalled(id) || sub == null || !isInstalled(sub)) {
            return open(id);
        }
        Dataset substitute = open(sub);
        return new Dataset(substitute.spec(), substitute.dir(), id);
    }

    /** Like {@link #openOrSample} but empty instead of an exception when neither is installed. */
    public Optional<Dataset> find(String id) {
        try {
            return Optional.of(openOrSample(id));
        } catch (DatasetException.Missing e) {
            return Optional.empty();
        }
    }

    /**
     * One row per dataset: id, what it is, which reports use it, whether it is installed here (or only
     * its sample), and the command that fetches it.
     */
    public tech.tablesaw.api.Table overview() {
        List<String> ids = new ArrayList<>(specs.keySet());
        List<String> status = new ArrayList<>();
        for (String id : ids) {
            DatasetSpec s = specs.get(id);
            if (isInstalled(id)) {
                status.add(s.isSample() ? "installed (sample of " + s.sampleOf() + ")"
                        : s.isStandin() ? "installed (STAND-IN for " + s.standinOf() + ")" : "installed");
            } else if (s.sample() != null && isInstalled(s.sample())) {
                status.add("missing; its sample is installed");
            } else if (s.standin() != null && isInstalled(s.standin())) {
                status.add("missing; its stand-in is installed");
            } else {
                status.add("missing");
            }
        }
        return tech.tablesaw.api.Table.create("datasets in " + dataDir,
                tech.tablesaw.api.StringColumn.create("id", ids),
                tech.tablesaw.api.StringColumn.create("title", ids.stream().map(i -> specs.get(i).title()).toList()),
                tech.tablesaw.api.StringColumn.create("reports", ids.stream().map(i -> String.join(", ", specs.get(i).usedBy())).toList()),
                tech.tablesaw.api.StringColumn.create("status", status),
                tech.tablesaw.api.StringColumn.create("fetch with", ids.stream()
                        .map(i -> specs.get(i).isSample() || specs.get(i).isStandin() ? "(offline mirrors only)"
                                : FETCH_COMMAND + " " + i).toList()));
    }

    // ----------------------------------------------------------------------------------- registry

    static Map<String, DatasetSpec> readRegistry() {
        try (InputStream in = DatasetCatalog.class.getResourceAsStream("datasets.json")) {
            if (in == null) {
                throw new IllegalStateException("datasets.json is not on the class path (the build copies it "
                        + "from data-scripts/; rebuild the library with mvn package)");
            }
            return parse(new Gson().fromJson(new InputStreamReader(in, StandardCharsets.UTF_8), JsonObject.class));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    static Map<String, DatasetSpec> parse(JsonObject root) {
        Map<String, DatasetSpec> out = new LinkedHashMap<>();
        for (Map.Entry<String, JsonElement> e : root.getAsJsonObject("datasets").entrySet()) {
            JsonObject o = e.getValue().getAsJsonObject();
            Map<String, Integer> expected = new LinkedHashMap<>();
            if (o.has("expected_images")) {
                o.getAsJsonObject("expected_images").entrySet()
                        .forEach(x -> expected.put(x.getKey(), x.getValue().getAsInt()));
            }
            String file = null;
            if (o.has("install") && o.getAsJsonArray("install").size() == 1
                    && o.getAsJsonArray("install").get(0).getAsJsonObject().has("file")) {
                file = o.getAsJsonArray("install").get(0).getAsJsonObject().get("to").getAsString();
            } else if (o.has("file")) {
                file = str(o, "file");
            }
            out.put(e.getKey(), new DatasetSpec(e.getKey(), str(o, "title"), strings(o, "used_by"),
                    str(o, "homepage"), str(o, "citation"), str(o, "license"),
                    o.has("image_root") ? str(o, "image_root") : ".", str(o, "layout"), strings(o, "splits"),
                    strings(o, "classes"), expected, str(o, "sample"), str(o, "sample_of"), str(o, "standin"),
                    str(o, "standin_of"), file));
        }
        return out;
    }

    private static String str(JsonObject o, String k) {
        return o.has(k) && !o.get(k).isJsonNull() ? o.get(k).getAsString() : null;
    }

    private static List<String> strings(JsonObject o, String k) {
        List<String> l = new ArrayList<>();
        if (o.has(k)) {
            o.getAsJsonArray(k).forEach(x -> l.add(x.getAsString()));
        }
        return List.copyOf(l);
    }
}

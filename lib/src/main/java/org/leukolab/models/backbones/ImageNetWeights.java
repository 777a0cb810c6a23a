package org.leukolab.models.backbones;

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
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.leukolab.data.DatasetCatalog;
import org.leukolab.system.Workspace;

/**
 * Where the official Keras Applications weight files are on this machine. They are installed by
 * {@code ./leukolab fetch weights-...} (each in {@code <data>/<id>/}); an offline mirror
 * ({@code LEUKOLAB_MIRROR}) is also searched directly, as the fetch script does: {@code DIR/<file>},
 * {@code DIR/weights/<file>} and {@code DIR/../weights/<file>}.
 */
public final class ImageNetWeights {
    /** A weight file the project knows: registry id, official URL and the checksum it is held to. */
    public record Entry(String id, String file, String url, String checksum) {}

    /** Thrown when a file is not on this machine; the message says which, where from, and the command. */
    public static final class Missing extends RuntimeException {
        public Missing(String message) {
            super(message);
        }
    }

    private static final Map<String, Entry> BY_FILE = read();

    private ImageNetWeights() {}

    public static Optional<Entry> entry(String file) {
        return Optional.ofNullable(BY_FILE.get(file));
    }

    /** The folders searched, in order, for a file. */
    public static List<Path> candidates(String file) {
        List<Path> out = new ArrayList<>();
        entry(file).ifPresent(e -> out.add(Workspace.dataDir().resolve(e.id()).resolve(file)));
        String mirror = System.getenv("LEUKOLAB_MIRROR");
        if (mirror != null && !mirror.isBlank()) {
            Path m = Paths.get(mirror).toAbsolutePath().normalize();
            out.add(m.resolve(file));
            out.add(m.resolve("weights").resolve(file));
            if (m.getParent() != null) {
                out.add(m.getParent().resolve("weights").resolve(file));
            }
        }
        return out;
    }

    public static Optional<Path> find(String file) {
        return candidates(file).stream().filter(Files::isRegularFile).findFirst();
    }

    /** The file, or a {@link Missing} that names it, its official source and the fetch command. */
    public static Path locate(String file) {
        return find(file).orElseThrow(() -> new Missing(missingMessage(file)));
    }

    static String missingMessage(String file) {
        Optional<Entry> e = entry(file);
        StringBuilder sb = new StringBuilder("ImageNet weight file ").append(file).append(" is not on this machine. ");
        if (e.isPresent()) {
            sb.append("Official source: ").append(e.get().url());
            if (e.get().checksum() != null) {
                sb.append(" (").append(e.get().checksum()).append(')');
            }
            sb.append(". Fetch it with: ").append(DatasetCatalog.FETCH_COMMAND).append(' ').append(e.get().id())
              .append(" (offline: --mirror DIR with the file in DIR, DIR/weights or DIR/../weights).");
        } else {
            sb.append("It comes from the Keras Applications storage (https://storage.googleapis.com/tensorflow/"
                    + "keras-applications/...); leukolab's registry (data-scripts/datasets.json) has no entry for it, "
                    + "so download it by hand into ").append(Workspace.dataDir().resolve("weights-manual")).append('.');
        }
        sb.append(" Looked in: ").append(candidates(file));
        return sb.toString();
    }

    private static Map<String, Entry> read() {
        try (InputStream in = DatasetCatalog.class.getResourceAsStream("datasets.json")) {
            if (in == null) {
                return Map.of();
            }
            JsonObject root = new Gson().fromJson(new InputStreamReader(in, StandardCharsets.UTF_8), JsonObject.class);
            Map<String, Entry> m = new LinkedHashMap<>();
            for (Map.Entry<String, JsonElement> e : root.getAsJsonObject("datasets").entrySet()) {
                JsonObject o = e.getValue().getAsJsonObject();
                if (!o.has("kind") || !"weights".equals(o.get("kind").getAsString())) {
                    continue;
                }
                JsonObject src = o.getAsJsonObject("source");
                String checksum = null;
                if (src.has("checksum") && src.get("checksum").isJsonObject()) {
                    var c = src.getAsJsonObject("checksum").entrySet().iterator().next();
                    checksum = c.getKey() + " " + c.getValue().getAsString();
                }
                String file = src.get("file").getAsString();
                m.put(file, new Entry(e.getKey(), file, src.get("url").getAsString(), checksum));
            }
            return Map.copyOf(m);
        } catch (IOException ex) {
            throw new UncheckedIOException(ex);
        }
    }
}

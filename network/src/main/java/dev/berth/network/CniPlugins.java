package dev.berth.network;

import dev.berth.api.IoFailureException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.api.DeadlineExceededException;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.InvalidArgumentException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.StringJoiner;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs CNI plugins as the CNI spec (1.0.0) describes: the plugin binary, found in the plugin
 * directories, gets {@code CNI_COMMAND}, {@code CNI_CONTAINERID}, {@code CNI_NETNS}, {@code CNI_IFNAME},
 * {@code CNI_ARGS} and {@code CNI_PATH} in its environment and its network config on stdin; it answers
 * with a result (or an error object) on stdout. A conflist's plugins run in order for ADD and CHECK,
 * each getting the previous one's result as {@code prevResult}, and in reverse order for DEL. Any
 * plugin in those directories works, not only the reference plugins. Thread-safe.
 */
public final class CniPlugins {
    /** Where Debian's {@code containernetworking-plugins} and upstream's tarball put the plugins. */
    public static final List<Path> DEFAULT_DIRS = List.of(Path.of("/opt/cni/bin"), Path.of("/usr/lib/cni"));
    public static final Duration DEFAULT_TIMEOUT = Duration.ofSeconds(30);
    private static final String PATH_ENV = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    /** In a holder: Berth's builder reads the defaults above, and a CLI call listing images never runs a plugin. */
    private static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper();
    }
    /** Each plugin run's time at debug level (the benchmark's step breakdown). */
    private static final Logger STEPS = LoggerFactory.getLogger("dev.berth.timing");
    /** Conflists parsed and checked once: a root has a handful, each run hands over the same text. */
    private static final int PARSED_MAX = 64;

    private final List<Path> dirs;
    private final Duration timeout;
    /** Plugin binaries found, by type: looked up again only when one can no longer be started. */
    private final Map<String, Path> found = new ConcurrentHashMap<>();
    private final Map<String, ObjectNode> parsed = new ConcurrentHashMap<>();

    /** Plugins looked up in {@code dirs} in order; one that runs longer than {@code timeout} is killed. */
    public CniPlugins(List<Path> dirs, Duration timeout) {
        this.dirs = List.copyOf(dirs);
        if (this.dirs.isEmpty()) {
            throw new InvalidArgumentException("CNI plugin directories must not be empty");
        }
        this.timeout = Objects.requireNonNull(timeout, "timeout");
        if (timeout.isNegative() || timeout.isZero()) {
            throw new InvalidArgumentException("CNI plugin timeout must be positive, not " + timeout);
        }
    }

    public List<Path> dirs() {
        return dirs;
    }

    /** How long one plugin may run. */
    public Duration timeout() {
        return timeout;
    }

    /** What the runtime passes about one container: its id, netns file, interface and CNI_ARGS. */
    public record Invocation(String containerId, String netns, String ifName, Map<String, String> args,
                             String runtimeConfigJson) {
        public Invocation {
            Objects.requireNonNull(containerId, "containerId");
            Objects.requireNonNull(netns, "netns");
            Objects.requireNonNull(ifName, "ifName");
            args = Map.copyOf(args);
            runtimeConfigJson = runtimeConfigJson == null ? "{}" : runtimeConfigJson;
        }
    }

    /** The plugin binary {@code type}, from the first directory that has it. */
    public Path find(String type) {
        Path known = found.get(type == null ? "" : type);
        return known != null ? known : lookUp(type);
    }

    private Path lookUp(String type) {
        if (type == null || type.isEmpty() || type.contains("/") || type.startsWith(".")) {
            throw new InvalidArgumentException("CNI plugin type \"" + type + "\" is not a plugin name");
        }
        for (Path d : dirs) {
            Path p = d.resolve(type);
            if (Files.isRegularFile(p) && Files.isExecutable(p)) {
                found.put(type, p);
                return p;
            }
        }
        throw new FailedPreconditionException("CNI plugin \"" + type + "\" not found in " + joinDirs()
                + " (install the containernetworking-plugins package: apt-get install containernetworking-plugins)");
    }

    /** Runs {@code VERSION} on plugin {@code type}: its JSON answer (cniVersion, supportedVersions). */
    public String version(String type) {
        ObjectNode conf = Json.MAPPER.createObjectNode().put("cniVersion", "1.0.0");
        return run(type, "VERSION", Map.of("CNI_COMMAND", "VERSION"), conf).toString();
    }

    /**
     * ADD over the conflist {@code conflistJson}; the last plugin's result. When a plugin fails, DEL runs over
     * the list with the result the plugins before it made: a later DEL without any result cannot tell them
     * which addresses to undo (the firewall plugin's per-address rules would stay).
     */
    public String add(String conflistJson, Invocation inv) {
        return add(conflistJson, inv, null);
    }

    /**
     * ADD as {@link #add(String, Invocation)}; before each plugin after the first, {@code progress} (if not
     * null) is handed the result so far whenever it changed, so the caller can record it durably: a process
     * that dies during the chain leaves plugins that made per-address state (the firewall plugin's rules)
     * whose DEL needs the result they were given, and a plugin still runs after its caller died.
     */
    public String add(String conflistJson, Invocation inv, java.util.function.Consumer<String> progress) {
        return add(conflistJson, inv, progress, null);
    }

    /**
     * ADD as {@link #add(String, Invocation, java.util.function.Consumer)}, the first plugin getting
     * {@code prevResultJson} (null: none) as prevResult: the rest of a chain whose first part ran earlier.
     */
    public String add(String conflistJson, Invocation inv, java.util.function.Consumer<String> progress,
                      String prevResultJson) {
        ObjectNode list = parseConflist(conflistJson);
        List<JsonNode> plugins = plugins(list);
        JsonNode prev = prevResultJson == null ? null : readTree(prevResultJson);
        String reported = prevResultJson;
        for (int i = 0; i < plugins.size(); i++) {
            if (progress != null && prev != null) {
                String now = prev.toString();
                if (!now.equals(reported)) {
                    progress.accept(now);
                    reported = now;
                }
            }
            try {
                prev = run(plugins.get(i), list, inv, "ADD", prev);
            } catch (RuntimeException e) {
                for (int j = i; j >= 0; j--) {
                    try {
                        run(plugins.get(j), list, inv, "DEL", prev);
                    } catch (RuntimeException suppressed) {
                        e.addSuppressed(suppressed);
                    }
                }
                throw e;
            }
        }
        return prev == null ? "{}" : prev.toString();
    }

    /** CHECK over the conflist, each plugin given {@code addResultJson} as prevResult. */
    public void check(String conflistJson, Invocation inv, String addResultJson) {
        ObjectNode list = parseConflist(conflistJson);
        JsonNode prev = readTree(addResultJson);
        for (JsonNode plugin : plugins(list)) {
            run(plugin, list, inv, "CHECK", prev);
        }
    }

    /**
     * DEL over the conflist in reverse order, each plugin given {@code addResultJson} (may be null) as
     * prevResult. Plugins must succeed when what they made is already gone, so this may be repeated.
     */
    public void del(String conflistJson, Invocation inv, String addResultJson) {
        ObjectNode list = parseConflist(conflistJson);
        JsonNode prev = addResultJson == null ? null : readTree(addResultJson);
        List<JsonNode> plugins = plugins(list);
        for (int i = plugins.size() - 1; i >= 0; i--) {
            run(plugins.get(i), list, inv, "DEL", prev);
        }
    }

    private JsonNode run(JsonNode plugin, ObjectNode list, Invocation inv, String command, JsonNode prev) {
        ObjectNode conf = ((ObjectNode) plugin).deepCopy();
        conf.put("cniVersion", list.path("cniVersion").asText("1.0.0"));
        conf.put("name", list.path("name").asText());
        JsonNode caps = plugin.path("capabilities");
        JsonNode runtimeConfig = readTree(inv.runtimeConfigJson());
        ObjectNode granted = Json.MAPPER.createObjectNode();
        caps.fields().forEachRemaining(e -> {
            if (e.getValue().asBoolean() && runtimeConfig.has(e.getKey())) {
                granted.set(e.getKey(), runtimeConfig.get(e.getKey()));
            }
        });
        if (!granted.isEmpty()) {
            conf.set("runtimeConfig", granted);
        }
        if (prev != null) {
            conf.set("prevResult", prev);
        }
        StringJoiner args = new StringJoiner(";");
        inv.args().forEach((k, v) -> args.add(k + "=" + v));
        Map<String, String> env = Map.of("CNI_COMMAND", command, "CNI_CONTAINERID", inv.containerId(),
                "CNI_NETNS", inv.netns(), "CNI_IFNAME", inv.ifName(), "CNI_ARGS", args.toString());
        JsonNode out = run(plugin.path("type").asText(), command, env, conf);
        return command.equals("ADD") ? out : prev;
    }

    private JsonNode run(String type, String command, Map<String, String> env, ObjectNode conf) {
        long t0 = System.nanoTime();
        try {
            return exec(type, command, env, conf);
        } finally {
            if (STEPS.isDebugEnabled()) {
                STEPS.debug(String.format("cni-step %s %s %s %.1f ms", env.getOrDefault("CNI_CONTAINERID", "-"), type,
                        command, (System.nanoTime() - t0) / 1e6));
            }
        }
    }

    private JsonNode exec(String type, String command, Map<String, String> env, ObjectNode conf) {
        Path binary = find(type);
        Path stdout = null;
        Path stderr = null;
        try {
            stdout = Files.createTempFile("berth-cni-", ".out");
            stderr = Files.createTempFile("berth-cni-", ".err");
            ProcessBuilder pb = new ProcessBuilder(binary.toString())
                    .redirectOutput(stdout.toFile()).redirectError(stderr.toFile());
            pb.environment().clear();
            pb.environment().put("PATH", PATH_ENV);
            pb.environment().put("CNI_PATH", joinDirs());
            pb.environment().putAll(env);
            Process p;
            try {
                p = pb.start();
            } catch (IOException staleLookup) {
                // the binary found earlier was removed or replaced: look it up again, once
                found.remove(type);
                binary = lookUp(type);
                p = pb.command(binary.toString()).start();
            }
            try (OutputStream in = p.getOutputStream()) {
                in.write(Json.MAPPER.writeValueAsBytes(conf));
            } catch (IOException brokenPipe) {
                // the plugin exited without reading its config; its exit status and output say why
            }
            if (!p.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
                p.descendants().forEach(ProcessHandle::destroyForcibly);
                p.destroyForcibly();
                p.waitFor(5, TimeUnit.SECONDS);
                throw new DeadlineExceededException("CNI plugin " + binary + " " + command + " did not finish within "
                        + timeout + "; stderr: " + tail(stderr));
            }
            String out = Files.readString(stdout, StandardCharsets.UTF_8).trim();
            if (p.exitValue() != 0) {
                throw failure(binary, command, p.exitValue(), out, tail(stderr));
            }
            return out.isEmpty() ? Json.MAPPER.createObjectNode() : readTree(out);
        } catch (IOException e) {
            throw IoFailureException.of("cannot run CNI plugin " + binary + " " + command, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new dev.berth.api.CanceledException("interrupted while running CNI plugin " + binary + " " + command);
        } finally {
            deleteQuietly(stdout);
            deleteQuietly(stderr);
        }
    }

    private static FailedPreconditionException failure(Path binary, String command, int exit, String out,
                                                       String err) {
        String detail = out;
        try {
            JsonNode e = Json.MAPPER.readTree(out);
            if (e != null && e.has("code")) {
                detail = "code " + e.path("code").asInt() + ": " + e.path("msg").asText()
                        + (e.path("details").asText().isEmpty() ? "" : " (" + e.path("details").asText() + ")");
            }
        } catch (IOException notJson) {
            // keep the raw output
        }
        return new FailedPreconditionException("CNI plugin " + binary + " " + command + " failed (exit " + exit + "): "
                + detail + (err.isEmpty() ? "" : "; stderr: " + err));
    }

    private static String tail(Path file) throws IOException {
        String s = Files.readString(file, StandardCharsets.UTF_8).trim();
        return s.length() > 2000 ? "..." + s.substring(s.length() - 2000) : s;
    }

    /** The conflist parsed and checked (shared: callers copy what they change). */
    private ObjectNode parseConflist(String json) {
        ObjectNode known = parsed.get(json);
        if (known != null) {
            return known;
        }
        ObjectNode o = checkConflist(json);
        if (parsed.size() >= PARSED_MAX) {
            parsed.clear();
        }
        parsed.put(json, o);
        return o;
    }

    private static ObjectNode checkConflist(String json) {
        JsonNode n = readTree(json);
        if (!(n instanceof ObjectNode o) || !o.path("plugins").isArray() || o.path("plugins").isEmpty()) {
            throw new InvalidArgumentException("CNI conflist needs a non-empty \"plugins\" array: " + json);
        }
        for (JsonNode p : o.path("plugins")) {
            if (!p.isObject() || p.path("type").asText().isEmpty()) {
                throw new InvalidArgumentException("CNI conflist plugin without a \"type\": " + p);
            }
        }
        return o;
    }

    private static List<JsonNode> plugins(ObjectNode list) {
        List<JsonNode> out = new ArrayList<>();
        ((ArrayNode) list.get("plugins")).forEach(out::add);
        return out;
    }

    private static JsonNode readTree(String json) {
        try {
            return Json.MAPPER.readTree(json);
        } catch (IOException e) {
            throw new InvalidArgumentException("not valid JSON: " + e.getMessage() + ": " + json);
        }
    }

    private String joinDirs() {
        StringJoiner j = new StringJoiner(":");
        dirs.forEach(d -> j.add(d.toString()));
        return j.toString();
    }

    private static void deleteQuietly(Path p) {
        if (p != null) {
            try {
                Files.deleteIfExists(p);
            } catch (IOException ignored) {
                // a temp file
            }
        }
    }
}

package dev.berth.cri.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.network.CniPlugins;
import dev.berth.network.internal.NetnsFiles;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.stream.Stream;

/**
 * Pod networking as kubelet's convention has it: the first network configuration in the conf dir (by
 * file name; {@code .conflist}, or a single-plugin {@code .conf}/{@code .json}) applied with CNI to a
 * network namespace of the pod's own, bound at {@code <state>/netns/cni-<uuid>}.
 */
final class CniNetwork {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Path confDir;
    private final CniPlugins plugins;
    private final NetnsFiles netns;
    private volatile boolean dirMounted;

    CniNetwork(Path confDir, List<Path> pluginDirs, Duration timeout, Path netnsDir) {
        this.confDir = confDir;
        this.plugins = new CniPlugins(pluginDirs, timeout);
        this.netns = new NetnsFiles(netnsDir);
    }

    /** The network configuration as a conflist, if the conf dir has one. */
    Optional<String> conflist() {
        if (!Files.isDirectory(confDir)) {
            return Optional.empty();
        }
        List<Path> files;
        try (Stream<Path> s = Files.list(confDir)) {
            files = s.filter(p -> {
                String n = p.getFileName().toString();
                return Files.isRegularFile(p) && (n.endsWith(".conflist") || n.endsWith(".conf") || n.endsWith(".json"));
            }).sorted().toList();
        } catch (IOException e) {
            return Optional.empty();
        }
        for (Path f : files) {
            try {
                JsonNode n = JSON.readTree(f.toFile());
                if (n == null || !n.isObject()) {
                    continue;
                }
                if (n.has("plugins")) {
                    return Optional.of(n.toString());
                }
                if (n.has("type")) { // a single plugin's .conf: a list of one
                    ObjectNode list = JSON.createObjectNode();
                    list.put("cniVersion", n.path("cniVersion").asText("1.0.0"));
                    list.put("name", n.path("name").asText("pod-network"));
                    ArrayNode ps = list.putArray("plugins");
                    ps.add(n);
                    return Optional.of(list.toString());
                }
            } catch (IOException malformed) {
                // kubelet's convention: skip files that are not configurations
            }
        }
        return Optional.empty();
    }

    Path confDir() {
        return confDir;
    }

    /** Where a new pod's network namespace will be bound ({@link #createNamespace} makes it). */
    Path newNamespaceFile() {
        return netns.dir().resolve("cni-" + UUID.randomUUID());
    }

    /**
     * Creates the network namespace bound at {@code file}; whether its {@code lo} is up already (else the
     * {@code loopback} plugin brings it up). Only the first creation is serialized (it bind-mounts the
     * directory and makes it private); the directory stays mounted until {@link #close()}, so that a pod
     * after the last one gone pays no {@code umount} + {@code mount --bind} + {@code mount --make-private}.
     */
    boolean createNamespace(Path file) {
        if (!dirMounted) {
            synchronized (this) {
                boolean lo = netns.create(file);
                dirMounted = true;
                return lo;
            }
        }
        return netns.create(file);
    }

    void removeNamespace(Path file) {
        netns.remove(file);
    }

    /** Unmounts the namespace directory unless pods still have namespaces there. */
    synchronized void close() {
        netns.releaseIfEmpty();
        dirMounted = false;
    }

    boolean namespaceExists(Path file) {
        return netns.exists(file);
    }

    /** CNI ADD for pod {@code id} in {@code netnsFile}; the result JSON. */
    String add(String conflist, String id, Path netnsFile, Map<String, String> args, String runtimeConfig) {
        return plugins.add(conflist, new CniPlugins.Invocation(id, netnsFile.toString(), "eth0", args, runtimeConfig));
    }

    /** Brings up {@code lo} in the pod's namespace with the loopback plugin, as containerd's CRI does. */
    void loopback(String id, Path netnsFile) {
        plugins.add("{\"cniVersion\":\"1.0.0\",\"name\":\"cni-loopback\",\"plugins\":[{\"type\":\"loopback\"}]}",
                new CniPlugins.Invocation(id, netnsFile.toString(), "lo", Map.of(), "{}"));
    }

    /** CNI DEL (repeatable) for pod {@code id}. */
    void del(String conflist, String id, Path netnsFile, Map<String, String> args, String runtimeConfig,
             String addResult) {
        plugins.del(conflist, new CniPlugins.Invocation(id, netnsFile.toString(), "eth0", args, runtimeConfig),
                addResult);
    }

    /** The first IPv4 address (without prefix) of a CNI result, else the first address. */
    static String ip(String result) {
        try {
            JsonNode ips = JSON.readTree(result).path("ips");
            String first = "";
            for (JsonNode ip : ips) {
                String a = ip.path("address").asText();
                String bare = a.contains("/") ? a.substring(0, a.indexOf('/')) : a;
                if (first.isEmpty()) {
                    first = bare;
                }
                if (bare.contains(".")) {
                    return bare;
                }
            }
            return first;
        } catch (IOException e) {
            throw new InvalidArgumentException("CNI result is not JSON: " + result);
        }
    }

    /** {@code runtimeConfig} for the portmap plugin's capability. */
    static String portMappings(List<Map<String, Object>> mappings) {
        try {
            return JSON.writeValueAsString(Map.of("portMappings", mappings));
        } catch (IOException e) {
            throw new FailedPreconditionException("cannot encode port mappings: " + e.getMessage());
        }
    }
}

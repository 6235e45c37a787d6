package dev.berth.registry.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.toml.TomlMapper;
import dev.berth.api.InvalidArgumentException;
import dev.berth.registry.internal.RegistryHost.Capability;
import java.io.IOException;
import java.net.InetAddress;
import java.net.URI;
import java.net.URISyntaxException;
import java.net.UnknownHostException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;

/**
 * The endpoints of a registry namespace, from containerd's {@code hosts.toml} directory layout:
 * {@code <dir>/<host>_<port>_/hosts.toml}, else {@code <dir>/<host:port>/hosts.toml}, else
 * {@code <dir>/_default/hosts.toml}. Mirrors ({@code [host."..."]} tables, in file order) come first,
 * the {@code server} last. A host directory without {@code hosts.toml} is read Docker's
 * {@code certs.d} way ({@code *.crt} CAs, {@code *.cert}/{@code *.key} client pairs).
 *
 * <p>Without configuration: {@code docker.io} is served by {@code registry-1.docker.io}; loopback hosts
 * ({@code localhost}, {@code 127.0.0.0/8}, {@code ::1}) use plain HTTP; everything else HTTPS.
 */
public final class HostsConfig {
    static final String DOCKER_HUB_HOST = "registry-1.docker.io";
    private static final String HOSTS_FILE = "hosts.toml";
    private static final Set<Capability> ALL = EnumSet.allOf(Capability.class);

    private final Path dir;
    private final boolean plainHttp;
    private final TomlMapper toml = new TomlMapper();

    /**
     * @param dir the hosts directory (containerd's {@code config_path}), or null for defaults only
     * @param plainHttp use http for every host without a configured scheme ({@code ctr --plain-http})
     */
    public HostsConfig(Path dir, boolean plainHttp) {
        this.dir = dir;
        this.plainHttp = plainHttp;
    }

    /** The endpoints for images of {@code domain}, in the order to try them. */
    public List<RegistryHost> hosts(String domain) {
        Path hostDir = hostDirectory(domain);
        if (hostDir == null) {
            return List.of(defaultHost(domain, TlsSettings.DEFAULT, Map.of()));
        }
        Path file = hostDir.resolve(HOSTS_FILE);
        if (Files.isRegularFile(file)) {
            return parse(domain, hostDir, file);
        }
        return List.of(defaultHost(domain, certsD(hostDir), Map.of()));
    }

    private Path hostDirectory(String domain) {
        if (dir == null) {
            return null;
        }
        List<Path> candidates = new ArrayList<>();
        int colon = domain.lastIndexOf(':');
        if (colon > 0 && !domain.endsWith("]")) {
            candidates.add(dir.resolve(domain.substring(0, colon) + "_" + domain.substring(colon + 1) + "_"));
        }
        candidates.add(dir.resolve(domain));
        candidates.add(dir.resolve("_default"));
        for (Path p : candidates) {
            if (Files.isDirectory(p)) {
                return p;
            }
        }
        return null;
    }

    private RegistryHost defaultHost(String domain, TlsSettings tls, Map<String, List<String>> headers) {
        String authority = domain.equals(Reference.DOCKER_HUB) ? DOCKER_HUB_HOST : domain;
        String scheme = plainHttp || isLoopback(authority) ? "http" : "https";
        return new RegistryHost(scheme, authority, "/v2", ALL, tls, headers);
    }

    private List<RegistryHost> parse(String domain, Path hostDir, Path file) {
        JsonNode root;
        try {
            root = toml.readTree(file.toFile());
        } catch (IOException e) {
            throw new InvalidArgumentException("cannot parse " + file + ": " + e.getMessage());
        }
        List<RegistryHost> hosts = new ArrayList<>();
        JsonNode mirrors = root.path("host");
        if (mirrors.isObject()) {
            Iterator<Map.Entry<String, JsonNode>> it = mirrors.fields();
            while (it.hasNext()) {
                Map.Entry<String, JsonNode> e = it.next();
                hosts.add(host(e.getKey(), e.getValue(), hostDir, file));
            }
        }
        JsonNode server = root.get("server");
        if (server != null && !server.asText().isEmpty()) {
            hosts.add(host(server.asText(), root, hostDir, file));
        } else {
            RegistryHost base = defaultHost(domain, TlsSettings.DEFAULT, Map.of());
            RegistryHost configured = host(base.scheme() + "://" + base.authority(), root, hostDir, file);
            hosts.add(configured);
        }
        return List.copyOf(hosts);
    }

    private RegistryHost host(String url, JsonNode table, Path hostDir, Path file) {
        URI uri;
        try {
            String withScheme = url.contains("://") ? url : (plainHttp || isLoopback(url) ? "http://" : "https://")
                    + url;
            uri = new URI(withScheme);
        } catch (URISyntaxException e) {
            throw new InvalidArgumentException(file + ": invalid host URL \"" + url + "\": " + e.getMessage());
        }
        String scheme = uri.getScheme().toLowerCase(Locale.ROOT);
        if (!scheme.equals("http") && !scheme.equals("https")) {
            throw new InvalidArgumentException(file + ": host URL \"" + url + "\" must use http or https");
        }
        if (uri.getRawAuthority() == null) {
            throw new InvalidArgumentException(file + ": host URL \"" + url + "\" has no host");
        }
        String path = uri.getRawPath() == null ? "" : uri.getRawPath();
        while (path.endsWith("/")) {
            path = path.substring(0, path.length() - 1);
        }
        if (!table.path("override_path").asBoolean(false) && !path.endsWith("/v2")) {
            path = path + "/v2";
        }
        return new RegistryHost(scheme, uri.getRawAuthority(), path, capabilities(table.get("capabilities"), file),
                tls(table, hostDir, file), headers(table.get("header")));
    }

    private static Set<Capability> capabilities(JsonNode node, Path file) {
        if (node == null) {
            return ALL;
        }
        Set<Capability> out = EnumSet.noneOf(Capability.class);
        for (JsonNode c : node) {
            try {
                out.add(Capability.valueOf(c.asText().toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw new InvalidArgumentException(file + ": unknown capability \"" + c.asText()
                        + "\" (pull, resolve, push)");
            }
        }
        return out;
    }

    private static TlsSettings tls(JsonNode table, Path hostDir, Path file) {
        List<Path> cas = new ArrayList<>();
        JsonNode ca = table.get("ca");
        if (ca != null) {
            for (String p : strings(ca)) {
                cas.add(hostDir.resolve(p));
            }
        }
        List<TlsSettings.ClientPair> pairs = new ArrayList<>();
        JsonNode client = table.get("client");
        if (client != null) {
            if (client.isTextual()) {
                Path cert = hostDir.resolve(client.asText());
                pairs.add(new TlsSettings.ClientPair(cert, cert));
            } else if (client.isArray()) {
                for (JsonNode entry : client) {
                    if (entry.isTextual()) {
                        Path cert = hostDir.resolve(entry.asText());
                        pairs.add(new TlsSettings.ClientPair(cert, cert));
                    } else if (entry.isArray() && entry.size() == 2) {
                        pairs.add(new TlsSettings.ClientPair(hostDir.resolve(entry.get(0).asText()),
                                hostDir.resolve(entry.get(1).asText())));
                    } else {
                        throw new InvalidArgumentException(file + ": client must be a path, a list of paths or "
                                + "a list of [cert, key] pairs");
                    }
                }
            }
        }
        return new TlsSettings(cas, pairs, table.path("skip_verify").asBoolean(false));
    }

    private static Map<String, List<String>> headers(JsonNode node) {
        if (node == null || !node.isObject()) {
            return Map.of();
        }
        Map<String, List<String>> out = new LinkedHashMap<>();
        node.fields().forEachRemaining(e -> out.put(e.getKey(), strings(e.getValue())));
        return out;
    }

    private static List<String> strings(JsonNode node) {
        List<String> out = new ArrayList<>();
        if (node.isArray()) {
            node.forEach(n -> out.add(n.asText()));
        } else {
            out.add(node.asText());
        }
        return out;
    }

    /** Docker's certs.d: {@code *.crt} are CAs, {@code x.cert} + {@code x.key} are client pairs. */
    private static TlsSettings certsD(Path hostDir) {
        List<Path> cas = new ArrayList<>();
        List<TlsSettings.ClientPair> pairs = new ArrayList<>();
        try (DirectoryStream<Path> files = Files.newDirectoryStream(hostDir)) {
            List<Path> sorted = new ArrayList<>();
            files.forEach(sorted::add);
            sorted.sort(null);
            for (Path f : sorted) {
                String name = f.getFileName().toString();
                if (name.endsWith(".crt")) {
                    cas.add(f);
                } else if (name.endsWith(".cert")) {
                    Path key = hostDir.resolve(name.substring(0, name.length() - 5) + ".key");
                    if (!Files.exists(key)) {
                        throw new InvalidArgumentException("client certificate " + f + " has no key file " + key);
                    }
                    pairs.add(new TlsSettings.ClientPair(f, key));
                }
            }
        } catch (IOException e) {
            throw new InvalidArgumentException("cannot read host directory " + hostDir + ": " + e);
        }
        return new TlsSettings(cas, pairs, false);
    }

    /** Whether {@code authority} ({@code host[:port]}) names the loopback interface. */
    static boolean isLoopback(String authority) {
        String host = authority;
        if (host.startsWith("[")) {
            int end = host.indexOf(']');
            host = end > 0 ? host.substring(1, end) : host;
        } else {
            int colon = host.lastIndexOf(':');
            if (colon > 0 && host.indexOf(':') == colon) {
                host = host.substring(0, colon);
            }
        }
        if (host.equalsIgnoreCase("localhost")) {
            return true;
        }
        if (!host.matches("[0-9.]+") && !host.contains(":")) {
            return false; // a name: do not resolve it here
        }
        try {
            return InetAddress.getByName(host).isLoopbackAddress();
        } catch (UnknownHostException e) {
            return false;
        }
    }
}

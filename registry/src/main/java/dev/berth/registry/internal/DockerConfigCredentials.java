package dev.berth.registry.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.UnavailableException;
import dev.berth.registry.Credential;
import dev.berth.registry.Credentials;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Credentials from Docker's {@code config.json}: {@code credHelpers} for the host, else {@code auths}
 * entries, else {@code credsStore}. Helpers run as {@code docker-credential-<name> get} with the server
 * on stdin and answer {@code {"Username","Secret"}} on stdout; the user name {@code <token>} marks an
 * identity token.
 */
public final class DockerConfigCredentials implements Credentials {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String HUB_KEY = "https://index.docker.io/v1/";
    private static final long HELPER_TIMEOUT_SECONDS = 30;

    private final Path configJson;
    private final List<Path> helperPath;

    public DockerConfigCredentials(Path configJson) {
        this(configJson, searchPath());
    }

    /** @param helperPath directories searched for {@code docker-credential-*} programs */
    public DockerConfigCredentials(Path configJson, List<Path> helperPath) {
        this.configJson = configJson;
        this.helperPath = List.copyOf(helperPath);
    }

    public static DockerConfigCredentials defaultLocation() {
        String dir = System.getenv("DOCKER_CONFIG");
        Path base = dir != null && !dir.isEmpty() ? Path.of(dir)
                : Path.of(System.getProperty("user.home"), ".docker");
        return new DockerConfigCredentials(base.resolve("config.json"));
    }

    private static List<Path> searchPath() {
        List<Path> out = new ArrayList<>();
        String path = System.getenv("PATH");
        if (path != null) {
            for (String p : path.split(":")) {
                if (!p.isEmpty()) {
                    out.add(Path.of(p));
                }
            }
        }
        return out;
    }

    @Override
    public Optional<Credential> forHost(String host) {
        JsonNode config;
        try {
            config = JSON.readTree(Files.readAllBytes(configJson));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw new InvalidArgumentException("cannot read Docker config " + configJson + ": " + e.getMessage());
        }
        if (config == null || !config.isObject()) {
            return Optional.empty();
        }
        boolean hub = host.equals(Reference.DOCKER_HUB) || host.equals(HostsConfig.DOCKER_HUB_HOST)
                || host.equals("index.docker.io");
        String server = hub ? HUB_KEY : host;
        String helper = helperFor(config.path("credHelpers"), host, hub);
        if (helper != null) {
            return runHelper(helper, server);
        }
        Optional<Credential> fromAuths = fromAuths(config.path("auths"), host, hub);
        if (fromAuths.isPresent()) {
            return fromAuths;
        }
        String store = config.path("credsStore").asText("");
        if (!store.isEmpty()) {
            return runHelper(store, server);
        }
        return Optional.empty();
    }

    private static String helperFor(JsonNode helpers, String host, boolean hub) {
        if (!helpers.isObject()) {
            return null;
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = helpers.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (matches(e.getKey(), host, hub)) {
                return e.getValue().asText();
            }
        }
        return null;
    }

    private Optional<Credential> fromAuths(JsonNode auths, String host, boolean hub) {
        if (!auths.isObject()) {
            return Optional.empty();
        }
        for (Iterator<Map.Entry<String, JsonNode>> it = auths.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            if (!matches(e.getKey(), host, hub)) {
                continue;
            }
            JsonNode entry = e.getValue();
            String identity = entry.path("identitytoken").asText("");
            if (!identity.isEmpty()) {
                return Optional.of(Credential.identityToken(identity));
            }
            String auth = entry.path("auth").asText("");
            if (!auth.isEmpty()) {
                String decoded;
                try {
                    decoded = new String(Base64.getDecoder().decode(auth.trim()), StandardCharsets.UTF_8);
                } catch (IllegalArgumentException ex) {
                    throw new InvalidArgumentException("Docker config " + configJson + ": the auth of " + e.getKey()
                            + " is not base64");
                }
                int colon = decoded.indexOf(':');
                if (colon < 0) {
                    throw new InvalidArgumentException("Docker config " + configJson + ": the auth of " + e.getKey()
                            + " is not user:password");
                }
                return Optional.of(Credential.basic(decoded.substring(0, colon), decoded.substring(colon + 1)));
            }
            String user = entry.path("username").asText("");
            if (!user.isEmpty()) {
                return Optional.of(Credential.basic(user, entry.path("password").asText("")));
            }
        }
        return Optional.empty();
    }

    /** Docker matches keys by host name, ignoring a scheme and path ({@code https://host/v1/}). */
    private static boolean matches(String key, String host, boolean hub) {
        String k = key;
        int scheme = k.indexOf("://");
        if (scheme >= 0) {
            k = k.substring(scheme + 3);
        }
        int slash = k.indexOf('/');
        if (slash >= 0) {
            k = k.substring(0, slash);
        }
        if (hub) {
            return k.equals("index.docker.io") || k.equals(Reference.DOCKER_HUB)
                    || k.equals(HostsConfig.DOCKER_HUB_HOST);
        }
        return k.equals(host);
    }

    private Optional<Credential> runHelper(String name, String server) {
        String program = "docker-credential-" + name;
        Path binary = helperPath.stream().map(d -> d.resolve(program)).filter(Files::isExecutable).findFirst()
                .orElseThrow(() -> new InvalidArgumentException("Docker config " + configJson + " names credential "
                        + "helper " + name + ", but " + program + " is not on the PATH"));
        try {
            Process p = new ProcessBuilder(binary.toString(), "get").redirectErrorStream(false).start();
            try (OutputStream in = p.getOutputStream()) {
                in.write(server.getBytes(StandardCharsets.UTF_8));
            }
            byte[] out = p.getInputStream().readAllBytes();
            byte[] err = p.getErrorStream().readAllBytes();
            if (!p.waitFor(HELPER_TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new UnavailableException(program + " did not answer within " + HELPER_TIMEOUT_SECONDS + " s");
            }
            String text = new String(out, StandardCharsets.UTF_8).trim();
            if (p.exitValue() != 0) {
                String why = (text + " " + new String(err, StandardCharsets.UTF_8)).trim();
                if (why.contains("credentials not found")) {
                    return Optional.empty();
                }
                throw new UnavailableException(program + " get failed for " + server + " (exit " + p.exitValue()
                        + "): " + why);
            }
            JsonNode json = JSON.readTree(text);
            String user = json.path("Username").asText("");
            String secret = json.path("Secret").asText("");
            if (secret.isEmpty()) {
                return Optional.empty();
            }
            return Optional.of(user.equals("<token>") || user.isEmpty() ? Credential.identityToken(secret)
                    : Credential.basic(user, secret));
        } catch (IOException e) {
            throw new UnavailableException("running " + binary + " get: " + e, e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new dev.berth.api.CanceledException("interrupted while running " + program, e);
        }
    }
}

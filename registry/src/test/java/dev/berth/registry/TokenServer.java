package dev.berth.registry;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.security.KeyPair;
import java.security.Signature;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A docker token server for tests: issues RS256 JWTs carrying an {@code x5c} header with the signing
 * certificate, which the registry verifies against its {@code rootcertbundle} (the CA). Answers the
 * OAuth2 POST form and the GET form; records every request.
 */
final class TokenServer implements AutoCloseable {
    static final String SERVICE = "berth-test-registry";
    static final String ISSUER = "berth-test-issuer";

    record Request(String method, Map<String, List<String>> params, boolean basicAuth) {
        List<String> scopes() {
            List<String> out = new ArrayList<>();
            for (String s : params.getOrDefault("scope", List.of())) {
                out.addAll(List.of(s.split(" ")));
            }
            return out;
        }
    }

    private final HttpServer server;
    private final KeyPair signingKeys;
    private final X509Certificate signingCert;
    private final Map<String, String> users = new ConcurrentHashMap<>();
    private final Map<String, Set<String>> userActions = new ConcurrentHashMap<>();
    private final List<Request> requests = new CopyOnWriteArrayList<>();
    private final AtomicInteger expiredTokensToIssue = new AtomicInteger();
    private volatile boolean postSupported = true;
    private volatile boolean anonymousPull;

    TokenServer(KeyPair signingKeys, X509Certificate signingCert) throws IOException {
        this.signingKeys = signingKeys;
        this.signingCert = signingCert;
        this.server = HttpServer.create(new InetSocketAddress(InetAddress.getByName("127.0.0.1"), 0), 16);
        server.createContext("/token", this::handle);
        server.start();
    }

    String realm() {
        return "http://127.0.0.1:" + server.getAddress().getPort() + "/token";
    }

    TokenServer user(String name, String password, Set<String> actions) {
        users.put(name, password);
        userActions.put(name, actions);
        return this;
    }

    TokenServer postSupported(boolean supported) {
        this.postSupported = supported;
        return this;
    }

    TokenServer anonymousPull(boolean allowed) {
        this.anonymousPull = allowed;
        return this;
    }

    /** The next {@code n} tokens are already expired (the registry answers invalid_token). */
    TokenServer issueExpired(int n) {
        expiredTokensToIssue.set(n);
        return this;
    }

    List<Request> requests() {
        return List.copyOf(requests);
    }

    void clearRequests() {
        requests.clear();
    }

    private void handle(HttpExchange ex) throws IOException {
        try (ex) {
            Map<String, List<String>> params = new LinkedHashMap<>();
            parseForm(ex.getRequestURI().getRawQuery(), params);
            String user = null;
            String password = null;
            String auth = ex.getRequestHeaders().getFirst("Authorization");
            if (auth != null && auth.startsWith("Basic ")) {
                String decoded = new String(Base64.getDecoder().decode(auth.substring(6)), StandardCharsets.UTF_8);
                user = decoded.substring(0, decoded.indexOf(':'));
                password = decoded.substring(decoded.indexOf(':') + 1);
            }
            if (ex.getRequestMethod().equals("POST")) {
                parseForm(new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8), params);
                requests.add(new Request("POST", params, auth != null));
                if (!postSupported) {
                    send(ex, 404, "{\"error\":\"not found\"}");
                    return;
                }
                user = first(params, "username");
                password = first(params, "password");
            } else {
                requests.add(new Request("GET", params, auth != null));
            }
            Set<String> allowed;
            if (user == null) {
                allowed = anonymousPull ? Set.of("pull") : Set.of();
                if (!anonymousPull) {
                    send(ex, 401, "{\"details\":\"no credentials\"}");
                    return;
                }
            } else if (password == null || !password.equals(users.get(user))) {
                send(ex, 401, "{\"details\":\"bad credentials for " + user + "\"}");
                return;
            } else {
                allowed = userActions.get(user);
            }
            String token = jwt(user == null ? "" : user, first(params, "service"), scopes(params), allowed);
            send(ex, 200, "{\"token\":\"" + token + "\",\"access_token\":\"" + token
                    + "\",\"expires_in\":300,\"issued_at\":\"" + Instant.now() + "\"}");
        } catch (Exception e) {
            e.printStackTrace();
        }
    }

    private static List<String> scopes(Map<String, List<String>> params) {
        List<String> out = new ArrayList<>();
        for (String s : params.getOrDefault("scope", List.of())) {
            out.addAll(List.of(s.split(" ")));
        }
        return out;
    }

    private String jwt(String subject, String service, List<String> scopes, Set<String> allowed) throws Exception {
        Base64.Encoder b64 = Base64.getUrlEncoder().withoutPadding();
        String header = "{\"typ\":\"JWT\",\"alg\":\"RS256\",\"x5c\":[\""
                + Base64.getEncoder().encodeToString(signingCert.getEncoded()) + "\"]}";
        StringBuilder access = new StringBuilder("[");
        for (String scope : scopes) {
            String[] parts = scope.split(":");
            if (parts.length != 3 || !parts[0].equals("repository")) {
                continue;
            }
            List<String> granted = new ArrayList<>();
            for (String action : parts[2].split(",")) {
                if (allowed.contains(action)) {
                    granted.add("\"" + action + "\"");
                }
            }
            if (access.length() > 1) {
                access.append(',');
            }
            access.append("{\"type\":\"repository\",\"name\":\"").append(parts[1]).append("\",\"actions\":[")
                    .append(String.join(",", granted)).append("]}");
        }
        access.append(']');
        long now = Instant.now().getEpochSecond();
        boolean expired = expiredTokensToIssue.getAndUpdate(n -> Math.max(0, n - 1)) > 0;
        long exp = expired ? now - 600 : now + 300;
        String claims = "{\"iss\":\"" + ISSUER + "\",\"sub\":\"" + subject + "\",\"aud\":\"" + service
                + "\",\"exp\":" + exp + ",\"nbf\":" + (now - 900) + ",\"iat\":" + (now - 900) + ",\"jti\":\""
                + java.util.UUID.randomUUID() + "\",\"access\":" + access + "}";
        String signingInput = b64.encodeToString(header.getBytes(StandardCharsets.UTF_8)) + "."
                + b64.encodeToString(claims.getBytes(StandardCharsets.UTF_8));
        Signature sig = Signature.getInstance("SHA256withRSA");
        sig.initSign(signingKeys.getPrivate());
        sig.update(signingInput.getBytes(StandardCharsets.US_ASCII));
        return signingInput + "." + b64.encodeToString(sig.sign());
    }

    private static String first(Map<String, List<String>> params, String name) {
        List<String> values = params.get(name);
        return values == null || values.isEmpty() ? null : values.get(0);
    }

    private static void parseForm(String raw, Map<String, List<String>> into) {
        if (raw == null || raw.isEmpty()) {
            return;
        }
        for (String pair : raw.split("&")) {
            int eq = pair.indexOf('=');
            String k = URLDecoder.decode(eq < 0 ? pair : pair.substring(0, eq), StandardCharsets.UTF_8);
            String v = eq < 0 ? "" : URLDecoder.decode(pair.substring(eq + 1), StandardCharsets.UTF_8);
            into.computeIfAbsent(k, x -> new ArrayList<>()).add(v);
        }
    }

    private static void send(HttpExchange ex, int status, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", "application/json");
        ex.sendResponseHeaders(status, bytes.length);
        ex.getResponseBody().write(bytes);
    }

    @Override
    public void close() {
        server.stop(0);
    }
}

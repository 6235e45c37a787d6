package dev.berth.registry.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import com.github.benmanes.caffeine.cache.Expiry;
import dev.berth.api.BerthException;
import dev.berth.api.CanceledException;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.NotFoundException;
import dev.berth.api.UnavailableException;
import dev.berth.registry.Credential;
import dev.berth.registry.Credentials;
import dev.berth.registry.RegistryAuthException;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.ThreadLocalRandom;
import java.util.stream.Collectors;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sends registry requests: authentication (Basic, and Bearer tokens fetched from the challenge's realm
 * and cached until they expire), redirects followed by hand with {@code Authorization} dropped when the
 * host changes, and bounded retries with back-off for network errors and 429/5xx on retryable calls
 * (GET, HEAD, manifest PUTs; see {@link Call#retryable()}). Thread-safe.
 */
public final class RegistryHttp implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RegistryHttp.class);
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_REDIRECTS = 10;
    private static final long DEFAULT_TOKEN_SECONDS = 60;
    private static final long MAX_TOKEN_BODY = 1 << 20;
    private static final String CLIENT_ID = "berth";
    private static final long MAX_BACKOFF_MILLIS = 5000;
    private static final long MAX_RETRY_AFTER_MILLIS = 10_000;

    private final Credentials credentials;
    private final String userAgent;
    private final Duration requestTimeout;
    private final Duration connectTimeout;
    private final int retries;
    private final Duration retryBase;
    private final ConcurrentMap<TlsKey, HttpClient> clients = new ConcurrentHashMap<>();
    private final ConcurrentMap<String, Challenge> challenges = new ConcurrentHashMap<>();
    private final Cache<TokenKey, Token> tokens;

    private record TlsKey(TlsSettings tls, String authority) {
    }

    private record TokenKey(String authority, String realm, String service, String scopes, String user) {
    }

    private record Token(String value, Duration lifetime) {
    }

    public RegistryHttp(Credentials credentials, String userAgent, Duration requestTimeout, Duration connectTimeout,
                        int retries, Duration retryBase) {
        this.credentials = Objects.requireNonNull(credentials, "credentials");
        this.userAgent = userAgent;
        this.requestTimeout = requestTimeout;
        this.connectTimeout = connectTimeout;
        this.retries = retries;
        this.retryBase = retryBase;
        this.tokens = Caffeine.newBuilder()
                .maximumSize(1024)
                .expireAfter(new Expiry<TokenKey, Token>() {
                    @Override
                    public long expireAfterCreate(TokenKey key, Token value, long currentTime) {
                        return value.lifetime().toNanos();
                    }

                    @Override
                    public long expireAfterUpdate(TokenKey key, Token value, long currentTime, long currentDuration) {
                        return value.lifetime().toNanos();
                    }

                    @Override
                    public long expireAfterRead(TokenKey key, Token value, long currentTime, long currentDuration) {
                        return currentDuration;
                    }
                })
                .build();
    }

    private HttpClient client(RegistryHost host) {
        TlsSettings tls = host.scheme().equals("https") ? host.tls() : TlsSettings.DEFAULT;
        // default settings share one client; custom ones get a client per host (its name is in the warning)
        TlsKey key = new TlsKey(tls, tls.isDefault() ? "" : host.authority());
        return clients.computeIfAbsent(key, k -> {
            HttpClient.Builder b = HttpClient.newBuilder()
                    .version(HttpClient.Version.HTTP_1_1)
                    .followRedirects(HttpClient.Redirect.NEVER)
                    .connectTimeout(connectTimeout);
            if (!k.tls().isDefault()) {
                b.sslContext(k.tls().sslContext(host.authority()));
            }
            return b.build();
        });
    }

    /**
     * Sends {@code call}, authenticating as the host asks. Returns any response that is not an auth
     * failure and not a retryable error; the caller maps other statuses with {@link #failure}.
     *
     * @throws RegistryAuthException on 401/403 that credentials cannot fix
     * @throws UnavailableException when the host stays unreachable or keeps answering 429/5xx
     */
    Exchange send(Call call) {
        int transientFailures = 0;
        boolean learnedChallenge = false;
        boolean retriedInvalidToken = false;
        while (true) {
            String authorization = authorization(call);
            Exchange ex;
            try {
                ex = execute(client(call.host()), call.method(), call.uri(), call.headers(), call.body(),
                        authorization);
            } catch (IOException e) {
                if (call.retryable() && transientFailures < retries) {
                    backoff(transientFailures++, null, call, e.toString());
                    continue;
                }
                throw new UnavailableException("registry " + call.host().authority() + " unreachable: "
                        + call.method() + " " + call.uri() + " (" + call.what() + ")"
                        + (transientFailures > 0 ? " after " + (transientFailures + 1) + " attempts" : "") + ": " + e,
                        e);
            }
            int status = ex.status();
            if (status == 401) {
                byte[] body = ex.readErrorBody();
                List<Challenge> offered = Challenge.parse(ex.headers().allValues("WWW-Authenticate"));
                Challenge c = pick(offered);
                if (c != null && authorization == null && !learnedChallenge) {
                    challenges.put(call.host().authority(), c);
                    learnedChallenge = true;
                    continue;
                }
                if (c != null && c.scheme().equals("bearer") && "invalid_token".equals(c.param("error"))
                        && !retriedInvalidToken) {
                    retriedInvalidToken = true;
                    tokens.asMap().keySet().removeIf(k -> k.authority().equals(call.host().authority()));
                    challenges.put(call.host().authority(), c);
                    continue;
                }
                throw authFailure(call, 401, c, body);
            }
            if (status == 403) {
                throw authFailure(call, 403, null, ex.readErrorBody());
            }
            if (isTransient(status) && call.retryable() && transientFailures < retries) {
                String retryAfter = ex.header("Retry-After").orElse(null);
                byte[] body = ex.readErrorBody();
                backoff(transientFailures++, retryAfter, call, "HTTP " + status + " " + ErrorBody.describe(body));
                continue;
            }
            return ex;
        }
    }

    private static Challenge pick(List<Challenge> offered) {
        for (String scheme : List.of("bearer", "basic")) {
            for (Challenge c : offered) {
                if (c.scheme().equals(scheme)) {
                    return c;
                }
            }
        }
        return null;
    }

    /**
     * Answers that may differ if the request is repeated later: 429 and the server errors of overloaded or
     * restarting registries and proxies (not 501/505, which a retry cannot change).
     */
    static boolean isTransient(int status) {
        return status == 429 || status == 500 || status == 502 || status == 503 || status == 504;
    }

    /**
     * Sleeps before retry {@code attempt} (0 for the first retry) of {@code call}, as long as
     * {@link #retryDelayMillis} says.
     *
     * @throws CanceledException if the thread is interrupted meanwhile
     */
    void backoff(int attempt, String retryAfter, Call call, String reason) {
        long millis = retryDelayMillis(retryBase, attempt, retryAfter);
        LOG.debug("{} {} ({}): {}; retry {} of {} in {} ms", call.method(), call.uri(), call.what(), reason,
                attempt + 1, retries, millis);
        sleep(millis);
    }

    /**
     * The wait before retry {@code attempt} (0-based): {@code base} doubled per retry, capped at 5 s, of
     * which the upper half is random so that clients do not retry in step. A {@code Retry-After} in
     * seconds (sent with 429 and 503) lengthens it, but never beyond 10 s; an HTTP-date one is ignored.
     */
    static long retryDelayMillis(Duration base, int attempt, String retryAfter) {
        long millis = Math.min(base.toMillis() << Math.min(attempt, 6), MAX_BACKOFF_MILLIS);
        millis = millis / 2 + ThreadLocalRandom.current().nextLong(Math.max(1, millis / 2 + 1));
        if (retryAfter != null) {
            try {
                long asked = Long.parseLong(retryAfter.trim());
                if (asked > 0) {
                    millis = Math.max(millis, Math.min(asked, MAX_RETRY_AFTER_MILLIS / 1000) * 1000);
                }
            } catch (NumberFormatException e) {
                // an HTTP date: keep our own back-off
            }
        }
        return Math.min(millis, MAX_RETRY_AFTER_MILLIS);
    }

    private static void sleep(long millis) {
        try {
            Thread.sleep(millis);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new CanceledException("interrupted while waiting to retry a registry request", e);
        }
    }

    private RegistryAuthException authFailure(Call call, int status, Challenge c, byte[] body) {
        String detail = ErrorBody.describe(body);
        String credentialNote = credentialFor(call.host(), call.domain()).isPresent()
                ? "with the configured credentials" : "anonymously (no credentials configured for "
                + credentialHost(call.host(), call.domain()) + ")";
        StringBuilder msg = new StringBuilder();
        msg.append("registry ").append(call.host().authority())
                .append(status == 401 ? " refused authentication " : " denied access ")
                .append(credentialNote).append(" for ").append(call.what());
        if (!call.scopes().isEmpty()) {
            msg.append(", scope ").append(call.scopeText());
        }
        if (c != null && c.param("error") != null) {
            msg.append(" (").append(c.param("error")).append(')');
        }
        if (!detail.isEmpty()) {
            msg.append(": ").append(detail);
        }
        return new RegistryAuthException(call.domain(), call.scopeText(), status, msg.toString());
    }

    /** Maps an unexpected response to a typed error naming {@code what} and the registry's own message. */
    static BerthException failure(Exchange ex, Call call, String what) {
        int status = ex.status();
        String detail = ErrorBody.describe(ex.readErrorBody());
        String msg = what + ": registry " + call.host().authority() + " answered " + status + " to " + call.method()
                + " " + ex.uri() + (detail.isEmpty() ? "" : ": " + detail);
        if (status == 404) {
            return new NotFoundException(msg);
        }
        if (status == 429 || status >= 500) {
            return new UnavailableException(msg);
        }
        if (status == 400 || status == 405 || status == 413 || status == 416) {
            return new InvalidArgumentException(msg);
        }
        return new FailedPreconditionException(msg);
    }

    private Exchange execute(HttpClient client, String method, URI uri, Map<String, String> headers,
                             java.util.function.Supplier<HttpRequest.BodyPublisher> body, String authorization)
            throws IOException {
        URI current = uri;
        String currentMethod = method;
        java.util.function.Supplier<HttpRequest.BodyPublisher> currentBody = body;
        boolean sendAuth = authorization != null;
        for (int hop = 0; ; hop++) {
            HttpRequest.Builder b = HttpRequest.newBuilder(current).timeout(requestTimeout)
                    .method(currentMethod, currentBody == null ? HttpRequest.BodyPublishers.noBody()
                            : currentBody.get());
            b.header("User-Agent", userAgent);
            headers.forEach(b::setHeader);
            if (sendAuth) {
                b.setHeader("Authorization", authorization);
            }
            HttpResponse<InputStream> response;
            try {
                response = client.send(b.build(), HttpResponse.BodyHandlers.ofInputStream());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CanceledException("interrupted during " + currentMethod + " " + current, e);
            }
            int status = response.statusCode();
            Optional<String> location = response.headers().firstValue("Location");
            if (isRedirect(status) && location.isPresent() && !currentMethod.equals("PUT")
                    && !currentMethod.equals("PATCH") && !(currentMethod.equals("POST") && status != 303)) {
                response.body().close();
                if (hop >= MAX_REDIRECTS) {
                    throw new IOException("more than " + MAX_REDIRECTS + " redirects from " + uri);
                }
                URI next = current.resolve(location.get());
                if (!sameOrigin(next, uri)) {
                    sendAuth = false; // never hand registry credentials to a storage backend
                }
                if (status == 303 && !currentMethod.equals("HEAD")) {
                    currentMethod = "GET";
                    currentBody = null;
                }
                current = next;
                continue;
            }
            return new Exchange(status, response.headers(), response.body(), current);
        }
    }

    private static boolean isRedirect(int status) {
        return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
    }

    private static boolean sameOrigin(URI a, URI b) {
        return Objects.equals(a.getScheme(), b.getScheme()) && Objects.equals(a.getRawAuthority(),
                b.getRawAuthority());
    }

    // ---- authorization

    private String authorization(Call call) {
        Challenge c = challenges.get(call.host().authority());
        if (c == null) {
            return null;
        }
        Optional<Credential> credential = credentialFor(call.host(), call.domain());
        if (c.scheme().equals("basic")) {
            return credential.filter(cr -> !cr.isIdentityToken())
                    .map(cr -> "Basic " + Base64.getEncoder().encodeToString(
                            (cr.username() + ":" + cr.secret()).getBytes(StandardCharsets.UTF_8)))
                    .orElse(null);
        }
        if (!c.scheme().equals("bearer")) {
            return null;
        }
        String realm = c.param("realm");
        if (realm == null || realm.isEmpty()) {
            throw new RegistryAuthException(call.domain(), call.scopeText(), 401, "registry "
                    + call.host().authority() + " asked for a bearer token without a realm");
        }
        List<String> scopes = new ArrayList<>(call.scopes());
        String challengeScope = c.param("scope");
        if (challengeScope != null && !challengeScope.isEmpty()) {
            for (String s : challengeScope.split(" ")) {
                if (!scopes.contains(s)) {
                    scopes.add(s);
                }
            }
        }
        scopes.sort(null);
        String service = c.param("service") == null ? "" : c.param("service");
        TokenKey key = new TokenKey(call.host().authority(), realm, service, String.join(" ", scopes),
                credential.map(Credential::username).orElse(null));
        Token token = tokens.get(key, k -> fetchToken(call, k, scopes, credential.orElse(null)));
        return "Bearer " + token.value();
    }

    private Optional<Credential> credentialFor(RegistryHost host, String domain) {
        return credentials.forHost(credentialHost(host, domain));
    }

    private static String credentialHost(RegistryHost host, String domain) {
        return host.authority().equals(HostsConfig.DOCKER_HUB_HOST) ? Reference.DOCKER_HUB : host.authority();
    }

    private Token fetchToken(Call call, TokenKey key, List<String> scopes, Credential credential) {
        URI realm;
        try {
            realm = URI.create(key.realm());
        } catch (IllegalArgumentException e) {
            throw new RegistryAuthException(call.domain(), key.scopes(), 401, "registry " + call.host().authority()
                    + " named an invalid token realm \"" + key.realm() + "\"");
        }
        HttpClient client = client(call.host());
        if (credential != null && !credential.secret().isEmpty()) {
            Map<String, String> form = new LinkedHashMap<>();
            if (credential.isIdentityToken()) {
                form.put("grant_type", "refresh_token");
                form.put("refresh_token", credential.secret());
            } else {
                form.put("grant_type", "password");
                form.put("username", credential.username());
                form.put("password", credential.secret());
            }
            form.put("client_id", CLIENT_ID);
            if (!key.service().isEmpty()) {
                form.put("service", key.service());
            }
            if (!scopes.isEmpty()) {
                form.put("scope", String.join(" ", scopes));
            }
            String encoded = form.entrySet().stream().map(e -> enc(e.getKey()) + "=" + enc(e.getValue()))
                    .collect(Collectors.joining("&"));
            try (Exchange ex = execute(client, "POST", realm,
                    Map.of("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
                    () -> HttpRequest.BodyPublishers.ofString(encoded), null)) {
                int status = ex.status();
                if (status == 200) {
                    return parseToken(ex, call, key);
                }
                // registries whose token endpoint has no OAuth2 POST answer these; containerd falls back to GET
                boolean fallback = status == 404 || status == 401 || status == 400
                        || (status == 405 && !credential.username().isEmpty());
                if (!fallback) {
                    throw tokenFailure(call, key, status, ex.readErrorBody(), credential);
                }
                LOG.debug("token endpoint {} answered {} to POST; trying GET", realm, status);
            } catch (IOException e) {
                throw new UnavailableException("token server " + realm + " for registry " + call.host().authority()
                        + " unreachable: " + e, e);
            }
        }
        StringBuilder query = new StringBuilder();
        if (!key.service().isEmpty()) {
            query.append("service=").append(enc(key.service()));
        }
        for (String s : scopes) {
            query.append(query.length() == 0 ? "" : "&").append("scope=").append(enc(s));
        }
        URI uri = URI.create(key.realm() + (query.length() == 0 ? "" : (key.realm().contains("?") ? "&" : "?")
                + query));
        String basic = credential == null || credential.secret().isEmpty() ? null
                : "Basic " + Base64.getEncoder().encodeToString((credential.username() + ":" + credential.secret())
                        .getBytes(StandardCharsets.UTF_8));
        try (Exchange ex = execute(client, "GET", uri, Map.of(), null, basic)) {
            if (ex.status() == 200) {
                return parseToken(ex, call, key);
            }
            throw tokenFailure(call, key, ex.status(), ex.readErrorBody(), credential);
        } catch (IOException e) {
            throw new UnavailableException("token server " + realm + " for registry " + call.host().authority()
                    + " unreachable: " + e, e);
        }
    }

    private static BerthException tokenFailure(Call call, TokenKey key, int status, byte[] body, Credential credential) {
        String detail = ErrorBody.describe(body);
        String who = credential == null ? "anonymously" : credential.isIdentityToken() ? "with an identity token"
                : "as user " + credential.username();
        String msg = "token server " + key.realm() + " for registry " + call.host().authority() + " answered "
                + status + " when asked " + who + " for scope " + key.scopes() + (detail.isEmpty() ? "" : ": "
                + detail);
        if (status == 401 || status == 403) {
            return new RegistryAuthException(call.domain(), key.scopes(), status, msg);
        }
        if (status == 429 || status >= 500) {
            return new UnavailableException(msg);
        }
        return new RegistryAuthException(call.domain(), key.scopes(), 401, msg);
    }

    private static Token parseToken(Exchange ex, Call call, TokenKey key) throws IOException {
        JsonNode json;
        try {
            json = JSON.readTree(ex.readAll(MAX_TOKEN_BODY));
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new RegistryAuthException(call.domain(), key.scopes(), 401, "token server " + key.realm()
                    + " sent a response that is not JSON: " + e.getOriginalMessage());
        }
        String value = json.path("access_token").asText("");
        if (value.isEmpty()) {
            value = json.path("token").asText("");
        }
        if (value.isEmpty()) {
            throw new RegistryAuthException(call.domain(), key.scopes(), 401, "token server " + key.realm()
                    + " sent no token");
        }
        long seconds = json.path("expires_in").asLong(0);
        if (seconds < DEFAULT_TOKEN_SECONDS) {
            seconds = DEFAULT_TOKEN_SECONDS;
        }
        return new Token(value, Duration.ofSeconds(seconds));
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    /** Scope for pulling from ({@code push=false}) or pushing to a repository. */
    static String scope(String repository, boolean push) {
        return "repository:" + repository + (push ? ":pull,push" : ":pull");
    }

    static String lower(String s) {
        return s.toLowerCase(Locale.ROOT);
    }

    @Override
    public void close() {
        tokens.invalidateAll();
        clients.clear();
    }
}

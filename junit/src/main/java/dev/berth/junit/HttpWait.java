package dev.berth.junit;

import dev.berth.api.InvalidArgumentException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * Waits for an HTTP answer through a published port: {@code Wait.forHttp("/health").forPort(8080)
 * .forStatusCode(200).forResponseBody("UP")}. Each setter returns a new strategy.
 */
public final class HttpWait implements WaitStrategy {
    private static final HttpClient CLIENT = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2))
            .followRedirects(HttpClient.Redirect.NEVER).build();

    private final String path;
    private final Integer port;
    private final Set<Integer> statusCodes;
    private final Pattern body;

    HttpWait(String path) {
        this(path, null, Set.of(200), null);
    }

    private HttpWait(String path, Integer port, Set<Integer> statusCodes, Pattern body) {
        Objects.requireNonNull(path, "path");
        if (!path.startsWith("/")) {
            throw new InvalidArgumentException("HTTP wait path must start with '/', not \"" + path + "\"");
        }
        this.path = path;
        this.port = port;
        this.statusCodes = statusCodes;
        this.body = body;
    }

    /** The container port to reach (default: the first published one). */
    public HttpWait forPort(int containerPort) {
        return new HttpWait(path, containerPort, statusCodes, body);
    }

    /** Accepted status codes (default 200); each call adds one beyond the default. */
    public HttpWait forStatusCode(int code) {
        Set<Integer> codes = new TreeSet<>(statusCodes.equals(Set.of(200)) ? Set.of() : statusCodes);
        codes.add(code);
        return new HttpWait(path, port, Set.copyOf(codes), body);
    }

    /** The response body must contain a match of {@code regex}. */
    public HttpWait forResponseBody(String regex) {
        return new HttpWait(path, port, statusCodes, Pattern.compile(regex));
    }

    @Override
    public boolean isReady(BerthContainer<?> container) throws InterruptedException {
        int containerPort = port != null ? port : container.exposedPorts().stream().findFirst().orElseThrow(() ->
                new ContainerLaunchException("HTTP wait for " + path + ": the container publishes no port"));
        URI uri = URI.create("http://" + container.host() + ":" + container.port(containerPort) + path);
        try {
            HttpResponse<String> response = CLIENT.send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(2))
                    .GET().build(), HttpResponse.BodyHandlers.ofString());
            return statusCodes.contains(response.statusCode())
                    && (body == null || body.matcher(response.body()).find());
        } catch (java.io.IOException e) {
            return false;
        }
    }

    @Override
    public String description() {
        return "HTTP GET " + path + (port == null ? "" : " on container port " + port) + " answering " + statusCodes
                + (body == null ? "" : " with a body matching '" + body + "'");
    }
}

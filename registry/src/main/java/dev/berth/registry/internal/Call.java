package dev.berth.registry.internal;

import java.net.URI;
import java.net.http.HttpRequest;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Supplier;

/**
 * One request to a registry host.
 *
 * @param domain the registry namespace of the image (for credentials and messages)
 * @param body null for no body; called again for every retry
 * @param scopes token scopes the request needs ({@code repository:<name>:pull[,push]})
 * @param what a short description for error messages ("blob sha256:... of library/busybox")
 */
record Call(RegistryHost host, String domain, String method, URI uri, Map<String, String> headers,
            Supplier<HttpRequest.BodyPublisher> body, List<String> scopes, String what) {
    Call {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(uri, "uri");
        headers = Map.copyOf(headers);
        scopes = List.copyOf(scopes);
    }

    /** GET and HEAD are retried after network errors and 429/5xx; other methods are not. */
    boolean idempotent() {
        return method.equals("GET") || method.equals("HEAD");
    }

    String scopeText() {
        return String.join(" ", scopes);
    }
}

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
 * @param retryable whether {@link RegistryHttp#send} itself repeats the request after a network error or
 *        429/5xx: true for requests that may be sent twice with the same effect (GET, HEAD, a manifest
 *        PUT); blob uploads are retried by their caller, which starts a new upload session instead
 */
record Call(RegistryHost host, String domain, String method, URI uri, Map<String, String> headers,
            Supplier<HttpRequest.BodyPublisher> body, List<String> scopes, String what, boolean retryable) {
    Call {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(method, "method");
        Objects.requireNonNull(uri, "uri");
        headers = Map.copyOf(headers);
        scopes = List.copyOf(scopes);
    }

    /** A call that {@link RegistryHttp#send} retries only when it is a GET or HEAD. */
    Call(RegistryHost host, String domain, String method, URI uri, Map<String, String> headers,
         Supplier<HttpRequest.BodyPublisher> body, List<String> scopes, String what) {
        this(host, domain, method, uri, headers, body, scopes, what, method.equals("GET") || method.equals("HEAD"));
    }

    /** This call, retried by {@link RegistryHttp#send} or not. */
    Call retrying(boolean retry) {
        return new Call(host, domain, method, uri, headers, body, scopes, what, retry);
    }

    String scopeText() {
        return String.join(" ", scopes);
    }
}

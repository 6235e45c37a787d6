package dev.berth.registry;

import dev.berth.api.BerthException;
import dev.berth.api.StatusCode;

/**
 * A registry refused the credentials (HTTP 401: {@code UNAUTHENTICATED}) or the access (HTTP 403:
 * {@code PERMISSION_DENIED}). The message names the registry, the scope asked for and the registry's own
 * error text.
 */
public class RegistryAuthException extends BerthException {
    private static final long serialVersionUID = 1L;

    private final String registry;
    private final String scope;
    private final int httpStatus;

    public RegistryAuthException(String registry, String scope, int httpStatus, String message) {
        super(message);
        this.registry = registry;
        this.scope = scope;
        this.httpStatus = httpStatus;
    }

    /** The registry host, as in the image reference ({@code registry.example.com:5000}). */
    public String registry() {
        return registry;
    }

    /** The token scope requested, e.g. {@code repository:library/busybox:pull}; empty if none applied. */
    public String scope() {
        return scope;
    }

    /** 401 or 403 (or the token server's status when it refused the credentials). */
    public int httpStatus() {
        return httpStatus;
    }

    @Override
    public int grpcCode() {
        return httpStatus == 403 ? StatusCode.PERMISSION_DENIED.code() : StatusCode.UNAUTHENTICATED.code();
    }
}

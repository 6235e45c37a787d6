package dev.berth.registry;

import java.util.Objects;

/**
 * What to present to a registry: a user name and password, or (with an empty user name) an identity
 * token, which is exchanged for access tokens as an OAuth2 refresh token (Docker's {@code identitytoken}).
 */
public record Credential(String username, String secret) {
    public Credential {
        Objects.requireNonNull(username, "username");
        Objects.requireNonNull(secret, "secret");
    }

    public static Credential basic(String username, String password) {
        return new Credential(username, password);
    }

    public static Credential identityToken(String token) {
        return new Credential("", token);
    }

    /** Whether this is an identity (refresh) token rather than a user name and password. */
    public boolean isIdentityToken() {
        return username.isEmpty();
    }

    @Override
    public String toString() {
        return isIdentityToken() ? "Credential[identity token]" : "Credential[" + username + ", ****]";
    }
}

package dev.berth.registry;

import dev.berth.registry.internal.DockerConfigCredentials;
import java.nio.file.Path;
import java.util.Objects;
import java.util.Optional;

/**
 * Supplies credentials per registry host (as written in image references: {@code docker.io},
 * {@code 127.0.0.1:5000}). Called when a registry asks for authentication, possibly from several
 * threads at once; implementations must be thread-safe.
 */
@FunctionalInterface
public interface Credentials {

    /** The credential for {@code host}, or empty to stay anonymous. */
    Optional<Credential> forHost(String host);

    /** Anonymous access everywhere. */
    static Credentials none() {
        return host -> Optional.empty();
    }

    /** {@code credential} for {@code host}, nothing for other hosts. */
    static Credentials of(String host, Credential credential) {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(credential, "credential");
        return h -> host.equals(h) ? Optional.of(credential) : Optional.empty();
    }

    /**
     * Docker's client configuration at {@code $DOCKER_CONFIG/config.json}, else
     * {@code ~/.docker/config.json}: {@code auths} entries ({@code auth} = base64 {@code user:password},
     * {@code identitytoken}) and credential helpers ({@code credHelpers} per host, {@code credsStore} for
     * the rest), run as {@code docker-credential-<name> get}. A missing file means no credentials. The
     * file is read on every lookup, so edits take effect without a restart.
     */
    static Credentials dockerConfig() {
        return DockerConfigCredentials.defaultLocation();
    }

    /** As {@link #dockerConfig()}, reading the given {@code config.json}. */
    static Credentials dockerConfig(Path configJson) {
        return new DockerConfigCredentials(Objects.requireNonNull(configJson, "configJson"));
    }

    /** These credentials, or {@code other}'s where these have none. */
    default Credentials orElse(Credentials other) {
        Objects.requireNonNull(other, "other");
        return host -> {
            Optional<Credential> mine = forHost(host);
            return mine.isPresent() ? mine : other.forHost(host);
        };
    }
}

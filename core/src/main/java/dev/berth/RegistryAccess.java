package dev.berth;

import dev.berth.registry.Credential;
import dev.berth.registry.Credentials;
import dev.berth.registry.RegistryClient;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * How {@link Namespace#pull} and {@link Namespace#push} reach registries; the part {@link PullSettings}
 * and {@link PushSettings} share.
 *
 * @param plainHttp      use plain HTTP for hosts without a configured scheme ({@code ctr --plain-http});
 *                       loopback hosts always may
 * @param hostsDirectory containerd's registry {@code config_path}: {@code <host>/hosts.toml} files and
 *                       certificates; null = none
 * @param credentials    credentials by registry host, tried before Docker's client configuration (a CRI
 *                       {@code PullImage} brings its own); empty = that configuration only
 */
public record RegistryAccess(boolean plainHttp, Path hostsDirectory, Map<String, Credential> credentials) {

    public RegistryAccess {
        credentials = credentials == null ? Map.of() : Map.copyOf(credentials);
    }

    public RegistryAccess(boolean plainHttp, Path hostsDirectory) {
        this(plainHttp, hostsDirectory, Map.of());
    }

    /** HTTPS, no hosts directory. */
    public static RegistryAccess defaults() {
        return new RegistryAccess(false, null);
    }

    public RegistryAccess withPlainHttp(boolean plain) {
        return new RegistryAccess(plain, hostsDirectory, credentials);
    }

    public RegistryAccess withHostsDirectory(Path dir) {
        return new RegistryAccess(plainHttp, dir, credentials);
    }

    /** These settings, with {@code credential} used for registry {@code host} (as in image references). */
    public RegistryAccess withCredential(String host, Credential credential) {
        Objects.requireNonNull(host, "host");
        Objects.requireNonNull(credential, "credential");
        Map<String, Credential> more = new HashMap<>(credentials);
        more.put(host, credential);
        return new RegistryAccess(plainHttp, hostsDirectory, more);
    }

    /** A registry client configured by these settings; each pull or push names its content store. */
    RegistryClient client() {
        RegistryClient.Builder b = RegistryClient.builder().plainHttp(plainHttp);
        if (hostsDirectory != null) {
            b.hostsDirectory(hostsDirectory);
        }
        if (!credentials.isEmpty()) {
            Map<String, Credential> given = credentials;
            Credentials mine = host -> Optional.ofNullable(given.get(host));
            b.credentials(mine.orElse(Credentials.dockerConfig()));
        }
        return b.build();
    }

    @Override
    public String toString() {
        // never the secrets
        return "RegistryAccess[plainHttp=" + plainHttp + ", hostsDirectory=" + hostsDirectory
                + ", credentials for " + credentials.keySet() + "]";
    }
}

package dev.berth;

import dev.berth.registry.RegistryClient;
import java.nio.file.Path;

/**
 * How {@link Namespace#pull} and {@link Namespace#push} reach registries; the part {@link PullSettings}
 * and {@link PushSettings} share.
 *
 * @param plainHttp      use plain HTTP for hosts without a configured scheme ({@code ctr --plain-http});
 *                       loopback hosts always may
 * @param hostsDirectory containerd's registry {@code config_path}: {@code <host>/hosts.toml} files and
 *                       certificates; null = none
 */
public record RegistryAccess(boolean plainHttp, Path hostsDirectory) {

    /** HTTPS, no hosts directory. */
    public static RegistryAccess defaults() {
        return new RegistryAccess(false, null);
    }

    public RegistryAccess withPlainHttp(boolean plain) {
        return new RegistryAccess(plain, hostsDirectory);
    }

    public RegistryAccess withHostsDirectory(Path dir) {
        return new RegistryAccess(plainHttp, dir);
    }

    /** A registry client configured by these settings; each pull or push names its content store. */
    RegistryClient client() {
        RegistryClient.Builder b = RegistryClient.builder().plainHttp(plainHttp);
        if (hostsDirectory != null) {
            b.hostsDirectory(hostsDirectory);
        }
        return b.build();
    }
}

package dev.berth;

import dev.berth.api.PlatformMatcher;
import java.nio.file.Path;

/**
 * How {@link Namespace#pull} and {@link Namespace#push} reach registries.
 *
 * @param plainHttp      use plain HTTP for hosts without a configured scheme ({@code ctr --plain-http});
 *                       loopback hosts always may
 * @param platforms      which platform to pull and unpack (null: the root's platforms) or push (null: all)
 * @param hostsDirectory containerd's registry {@code config_path}: {@code <host>/hosts.toml} files and
 *                       certificates; null = none
 */
public record PullSettings(boolean plainHttp, PlatformMatcher platforms, Path hostsDirectory) {

    /** HTTPS, the root's platforms, no hosts directory. */
    public static PullSettings defaults() {
        return new PullSettings(false, null, null);
    }

    public PullSettings withPlainHttp(boolean plain) {
        return new PullSettings(plain, platforms, hostsDirectory);
    }

    public PullSettings withPlatforms(PlatformMatcher matcher) {
        return new PullSettings(plainHttp, matcher, hostsDirectory);
    }

    public PullSettings withHostsDirectory(Path dir) {
        return new PullSettings(plainHttp, platforms, dir);
    }
}

package dev.berth.registry.internal;

import java.net.URI;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * One endpoint that serves (part of) a registry namespace: the upstream registry itself or a mirror.
 *
 * @param scheme {@code http} or {@code https}
 * @param authority {@code host[:port]} to connect to
 * @param path API root, normally {@code /v2}
 * @param capabilities what this endpoint may be used for
 * @param tls TLS settings (ignored for http)
 * @param headers extra request headers from {@code hosts.toml}
 */
public record RegistryHost(String scheme, String authority, String path, Set<Capability> capabilities,
                           TlsSettings tls, Map<String, List<String>> headers) {

    /** What an endpoint may be used for ({@code capabilities} in {@code hosts.toml}). */
    public enum Capability { PULL, RESOLVE, PUSH }

    public RegistryHost {
        Objects.requireNonNull(scheme, "scheme");
        Objects.requireNonNull(authority, "authority");
        capabilities = Set.copyOf(capabilities);
        headers = Map.copyOf(headers);
    }

    boolean can(Capability capability) {
        return capabilities.contains(capability);
    }

    /** The URI of {@code <path>/<repository>/<suffix>} on this host, plus {@code ?ns=} for a mirror. */
    URI uri(String repository, String suffix, String namespace) {
        String query = namespace == null ? "" : "?ns=" + namespace;
        return URI.create(scheme + "://" + authority + path + "/" + repository + "/" + suffix + query);
    }

    /**
     * Whether requests for images of {@code domain} are proxied through this host, so it needs the
     * {@code ns} parameter (docker.io served by registry-1.docker.io is not a proxy).
     */
    boolean isMirrorFor(String domain) {
        if (authority.equals(domain)) {
            return false;
        }
        return !(domain.equals(Reference.DOCKER_HUB) && authority.equals(HostsConfig.DOCKER_HUB_HOST));
    }

    @Override
    public String toString() {
        return scheme + "://" + authority + path;
    }
}

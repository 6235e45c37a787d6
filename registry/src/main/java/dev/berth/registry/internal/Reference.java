package dev.berth.registry.internal;

import dev.berth.api.Digest;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.image.ImageReference;
import java.util.Objects;

/**
 * An image reference as the registry client uses it: parsed and normalized by the images module's
 * {@link ImageReference} ({@code busybox} is {@code docker.io/library/busybox}), with {@code latest}
 * filled in when neither tag nor digest is given. A tag given next to a digest is kept for naming.
 *
 * @param domain registry host as written, with port if any ({@code docker.io}, {@code 127.0.0.1:5000})
 * @param path repository path ({@code library/busybox})
 * @param tag null when only a digest was given
 * @param digest null when not given
 */
public record Reference(String domain, String path, String tag, Digest digest) {
    public static final String DOCKER_HUB = ImageReference.DEFAULT_DOMAIN;

    public Reference {
        Objects.requireNonNull(domain, "domain");
        Objects.requireNonNull(path, "path");
    }

    /** Parses and normalizes {@code ref}. @throws InvalidArgumentException naming the reference */
    public static Reference parse(String ref) {
        Objects.requireNonNull(ref, "reference");
        ImageReference parsed;
        try {
            parsed = ImageReference.parse(ref.strip());
        } catch (InvalidArgumentException e) {
            throw new InvalidArgumentException("invalid image reference \"" + ref + "\": " + e.getMessage(), e);
        }
        String tag = parsed.tag();
        if (tag == null && parsed.digest() == null) {
            tag = "latest";
        }
        return new Reference(parsed.domain(), parsed.path(), tag, parsed.digest());
    }

    /** {@code domain/path}. */
    public String name() {
        return domain + "/" + path;
    }

    /** What goes after {@code /manifests/}: the digest if there is one, else the tag. */
    public String object() {
        return digest != null ? digest.toString() : tag;
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder(name());
        if (tag != null) {
            sb.append(':').append(tag);
        }
        if (digest != null) {
            sb.append('@').append(digest);
        }
        return sb.toString();
    }
}

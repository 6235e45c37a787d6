package dev.berth.image;

import dev.berth.api.Digest;
import dev.berth.api.InvalidArgumentException;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * An image reference such as {@code docker.io/library/busybox:latest} or
 * {@code registry.example.com:5000/team/app@sha256:…}, parsed and normalized the way containerd and
 * Docker do (the {@code docker/distribution} reference grammar):
 * <ul>
 *   <li>{@link #parse(String)} fills in the default registry: {@code busybox} →
 *       {@code docker.io/library/busybox}, {@code foo/bar:1} → {@code docker.io/foo/bar:1},
 *       {@code index.docker.io/x} → {@code docker.io/library/x}; a first component with a {@code .} or
 *       {@code :}, or {@code localhost}, is a registry host and is kept
 *       ({@code localhost:5000/x}).</li>
 *   <li>{@link #normalize(String)} additionally makes the reference name exactly one image, as
 *       containerd's {@code ParseDockerRef}: no tag and no digest → {@code :latest}; a digest → the tag is
 *       dropped ({@code name@sha256:…}).</li>
 *   <li>{@link #familiar()} is the short form Docker shows ({@code busybox:latest}).</li>
 * </ul>
 * Repository paths must be lower case; a bare 64-hex-digit string is rejected (it would be read as an
 * image ID). Immutable and thread-safe.
 *
 * @param domain the registry host (and port), never empty after {@link #parse}
 * @param path   the repository path within the registry, e.g. {@code library/busybox}
 * @param tag    the tag, or null
 * @param digest the digest, or null
 */
public record ImageReference(String domain, String path, String tag, Digest digest) {
    /** Docker Hub's canonical domain. */
    public static final String DEFAULT_DOMAIN = "docker.io";
    private static final String LEGACY_DEFAULT_DOMAIN = "index.docker.io";
    private static final String OFFICIAL_REPO_PREFIX = "library/";
    private static final int MAX_NAME_LENGTH = 255;

    private static final String ALNUM = "[a-z0-9]+";
    private static final String SEPARATOR = "(?:[._]|__|[-]*)";
    private static final String PATH_COMPONENT = ALNUM + "(?:" + SEPARATOR + ALNUM + ")*";
    private static final String DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    private static final Pattern DOMAIN = Pattern.compile(
            DOMAIN_COMPONENT + "(?:\\." + DOMAIN_COMPONENT + ")*(?::[0-9]+)?");
    private static final Pattern PATH = Pattern.compile(PATH_COMPONENT + "(?:/" + PATH_COMPONENT + ")*");
    private static final Pattern TAG = Pattern.compile("[\\w][\\w.-]{0,127}");
    private static final Pattern REFERENCE = Pattern.compile(
            "([^:@/]+(?::[0-9]+(?=/))?(?:/[^:@/]+)*)(?::([^:@/]+))?(?:@(.+))?");
    private static final Pattern HEX64 = Pattern.compile("[a-f0-9]{64}");

    public ImageReference {
        Objects.requireNonNull(domain, "domain");
        Objects.requireNonNull(path, "path");
        if (!domain.isEmpty() && !DOMAIN.matcher(domain).matches()) {
            throw new InvalidArgumentException("invalid reference: bad registry domain \"" + domain + "\"");
        }
        if (!PATH.matcher(path).matches()) {
            throw new InvalidArgumentException("invalid reference: bad repository path \"" + path
                    + "\" (lower-case letters, digits and separators . _ __ -)");
        }
        int nameLength = (domain.isEmpty() ? 0 : domain.length() + 1) + path.length();
        if (nameLength > MAX_NAME_LENGTH) {
            throw new InvalidArgumentException("invalid reference: repository name longer than "
                    + MAX_NAME_LENGTH + " characters");
        }
        if (tag != null && !TAG.matcher(tag).matches()) {
            throw new InvalidArgumentException("invalid reference: bad tag \"" + tag + "\"");
        }
    }

    /**
     * Parses {@code reference} and fills in Docker Hub's domain and {@code library/} prefix where they
     * are implied. Tag and digest stay as given (either may be absent).
     *
     * @throws InvalidArgumentException naming the reference and what is wrong with it
     */
    public static ImageReference parse(String reference) {
        Objects.requireNonNull(reference, "reference");
        if (HEX64.matcher(reference).matches()) {
            throw new InvalidArgumentException("invalid reference \"" + reference
                    + "\": cannot specify 64-byte hexadecimal strings");
        }
        Matcher m = REFERENCE.matcher(reference);
        if (reference.isEmpty() || !m.matches()) {
            throw new InvalidArgumentException("invalid reference format: \"" + reference + "\"");
        }
        String name = m.group(1);
        String tag = m.group(2);
        Digest digest = null;
        if (m.group(3) != null) {
            try {
                digest = Digest.parse(m.group(3));
            } catch (InvalidArgumentException e) {
                throw new InvalidArgumentException("invalid reference \"" + reference + "\": " + e.getMessage(), e);
            }
        }
        String domain;
        String remainder;
        int slash = name.indexOf('/');
        String first = slash < 0 ? "" : name.substring(0, slash);
        if (slash < 0 || (!first.contains(".") && !first.contains(":") && !first.equals("localhost")
                && first.toLowerCase(java.util.Locale.ROOT).equals(first))) {
            domain = DEFAULT_DOMAIN;
            remainder = name;
        } else {
            domain = first;
            remainder = name.substring(slash + 1);
        }
        if (domain.equals(LEGACY_DEFAULT_DOMAIN)) {
            domain = DEFAULT_DOMAIN;
        }
        if (domain.equals(DEFAULT_DOMAIN) && !remainder.contains("/")) {
            remainder = OFFICIAL_REPO_PREFIX + remainder;
        }
        if (!remainder.toLowerCase(java.util.Locale.ROOT).equals(remainder)) {
            throw new InvalidArgumentException("invalid reference \"" + reference
                    + "\": repository name must be lowercase");
        }
        try {
            return new ImageReference(domain, remainder, tag, digest);
        } catch (InvalidArgumentException e) {
            throw new InvalidArgumentException("invalid reference \"" + reference + "\": "
                    + e.getMessage().replaceFirst("^invalid reference: ", ""), e);
        }
    }

    /**
     * containerd's normalized image name for {@code reference}: {@link #parse} plus {@code :latest} when
     * there is neither tag nor digest, and without the tag when there is a digest.
     */
    public static String normalize(String reference) {
        return parse(reference).normalized().toString();
    }

    /** This reference with {@code :latest} if it has neither tag nor digest, and no tag if it has a digest. */
    public ImageReference normalized() {
        if (digest != null) {
            return tag == null ? this : new ImageReference(domain, path, null, digest);
        }
        return tag != null ? this : new ImageReference(domain, path, "latest", null);
    }

    /** {@code domain/path}: the repository, without tag or digest. */
    public String name() {
        return domain.isEmpty() ? path : domain + "/" + path;
    }

    public Optional<String> tagIfPresent() {
        return Optional.ofNullable(tag);
    }

    public Optional<Digest> digestIfPresent() {
        return Optional.ofNullable(digest);
    }

    public ImageReference withTag(String newTag) {
        return new ImageReference(domain, path, newTag, digest);
    }

    public ImageReference withDigest(Digest newDigest) {
        return new ImageReference(domain, path, tag, newDigest);
    }

    /**
     * The short form Docker displays: without {@code docker.io/}, and without {@code library/} for
     * official images ({@code docker.io/library/busybox:latest} → {@code busybox:latest}).
     */
    public String familiar() {
        String n = name();
        if (domain.equals(DEFAULT_DOMAIN)) {
            n = path;
            if (n.startsWith(OFFICIAL_REPO_PREFIX) && n.indexOf('/', OFFICIAL_REPO_PREFIX.length()) < 0) {
                n = n.substring(OFFICIAL_REPO_PREFIX.length());
            }
        }
        return n + suffix();
    }

    /** {@code domain/path[:tag][@digest]}. */
    @Override
    public String toString() {
        return name() + suffix();
    }

    private String suffix() {
        return (tag == null ? "" : ":" + tag) + (digest == null ? "" : "@" + digest);
    }
}

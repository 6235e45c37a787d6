package dev.berth.api.image;

import dev.berth.api.Digest;
import dev.berth.api.InvalidArgumentException;
import java.util.Objects;
import java.util.Optional;
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
 *   <li>{@link #normalize(String)} additionally makes the reference name exactly one image: no tag and
 *       no digest → {@code :latest}. With both a tag and a digest the digest identifies the content and
 *       the tag stays in the name, as containerd's client does ({@link #canonical()} drops it, as
 *       containerd's CRI {@code ParseDockerRef} does).</li>
 *   <li>The registry host may be a name, an IPv4 address or a bracketed IPv6 address, each with an
 *       optional port ({@code [::1]:5000/img:tag}).</li>
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
    private static final String SEPARATOR = "(?:[._]|__|[-]+)";
    private static final String PATH_COMPONENT = ALNUM + "(?:" + SEPARATOR + ALNUM + ")*";
    private static final String DOMAIN_COMPONENT = "(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])";
    /** A host name, an IPv4 address (a host name by this grammar) or a bracketed IPv6 address; then a port. */
    private static final Pattern DOMAIN = Pattern.compile("(?:" + DOMAIN_COMPONENT + "(?:\\." + DOMAIN_COMPONENT
            + ")*|\\[[a-fA-F0-9:]+\\])(?::[0-9]+)?");
    private static final Pattern PATH = Pattern.compile(PATH_COMPONENT + "(?:/" + PATH_COMPONENT + ")*");
    private static final Pattern TAG = Pattern.compile("[\\w][\\w.-]{0,127}");
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
        if (reference.isEmpty()) {
            throw new InvalidArgumentException("invalid reference format: empty reference");
        }
        if (HEX64.matcher(reference).matches()) {
            throw new InvalidArgumentException("invalid reference \"" + reference
                    + "\": cannot specify 64-byte hexadecimal strings");
        }
        String rest = reference;
        Digest digest = null;
        int at = rest.indexOf('@');
        if (at >= 0) {
            String digestText = rest.substring(at + 1);
            rest = rest.substring(0, at);
            try {
                digest = Digest.parse(digestText);
            } catch (InvalidArgumentException e) {
                throw new InvalidArgumentException("invalid reference \"" + reference + "\": invalid digest \""
                        + digestText + "\": " + e.getMessage(), e);
            }
        }
        String tag = null;
        int colon = rest.lastIndexOf(':');
        if (colon > rest.lastIndexOf('/') && colon > rest.lastIndexOf(']')) {
            tag = rest.substring(colon + 1);
            rest = rest.substring(0, colon);
            if (!TAG.matcher(tag).matches()) {
                throw new InvalidArgumentException("invalid reference \"" + reference + "\": bad tag \"" + tag
                        + "\" (1 to 128 characters of [A-Za-z0-9_.-], not starting with . or -)");
            }
        }
        if (rest.isEmpty()) {
            throw new InvalidArgumentException("invalid reference format: \"" + reference + "\" has no repository name");
        }
        // docker's splitDockerDomain: the first component is a registry host if it has a '.' or ':'
        // (port or IPv6), is "localhost", or has upper-case letters (which a repository path may not)
        String domain;
        String remainder;
        int slash = rest.indexOf('/');
        String first = slash < 0 ? "" : rest.substring(0, slash);
        if (slash < 0 || (!first.contains(".") && !first.contains(":") && !first.equals("localhost")
                && first.toLowerCase(java.util.Locale.ROOT).equals(first))) {
            domain = DEFAULT_DOMAIN;
            remainder = rest;
        } else {
            domain = first;
            remainder = rest.substring(slash + 1);
        }
        if (domain.equals(LEGACY_DEFAULT_DOMAIN)) {
            domain = DEFAULT_DOMAIN;
        }
        if (domain.equals(DEFAULT_DOMAIN) && !remainder.contains("/")) {
            remainder = OFFICIAL_REPO_PREFIX + remainder;
        }
        if (!remainder.toLowerCase(java.util.Locale.ROOT).equals(remainder)) {
            throw new InvalidArgumentException("invalid reference \"" + reference
                    + "\": repository name (" + remainder + ") must be lowercase");
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
     * there is neither tag nor digest. A reference with both keeps both ({@code name:tag@digest}), as
     * containerd's client and {@code ctr} name such images; the digest is what identifies the content.
     */
    public static String normalize(String reference) {
        return parse(reference).normalized().toString();
    }

    /** This reference with {@code :latest} if it has neither tag nor digest; otherwise unchanged. */
    public ImageReference normalized() {
        return tag != null || digest != null ? this : new ImageReference(domain, path, "latest", null);
    }

    /** The reference without its tag when it has a digest (what a registry resolves: the digest wins). */
    public ImageReference canonical() {
        return digest != null && tag != null ? new ImageReference(domain, path, null, digest) : this;
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

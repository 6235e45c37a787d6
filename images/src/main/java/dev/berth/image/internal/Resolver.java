package dev.berth.image.internal;

import dev.berth.api.Descriptor;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.MediaTypes;
import dev.berth.api.NotFoundException;
import dev.berth.api.NotImplementedException;
import dev.berth.api.Platform;
import dev.berth.api.PlatformMatcher;
import dev.berth.api.content.ContentStore;
import dev.berth.api.oci.image.ImageConfig;
import dev.berth.api.oci.image.Index;
import dev.berth.api.oci.image.Manifest;
import dev.berth.api.oci.image.OciJson;
import dev.berth.image.ResolvedImage;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Objects;
import java.util.Set;

/**
 * Finds the manifest for a platform below an index (nested indexes and Docker manifest lists included)
 * or checks a lone manifest's platform, then reads and checks its config. containerd's
 * {@code images.Manifest}: index entries are filtered by the matcher and the best one (by the
 * matcher's order, document order breaking ties) wins; an entry without a platform is judged by its
 * config.
 */
public final class Resolver {
    private static final int MAX_DEPTH = 8;

    private final ContentStore store;

    public Resolver(ContentStore store) {
        this.store = Objects.requireNonNull(store, "store");
    }

    public ResolvedImage resolve(String name, Descriptor target, PlatformMatcher matcher) {
        Objects.requireNonNull(target, "target");
        Objects.requireNonNull(matcher, "matcher");
        String label = name != null ? name : target.digest().toString();
        Walk walk = new Walk(matcher);
        walk.collect(target, label, 0);
        if (walk.candidates.isEmpty()) {
            List<String> offered = walk.offered.stream().map(Platform::toString).toList();
            throw new NotFoundException("image " + label + ": no manifest matches the requested platform"
                    + (offered.isEmpty() ? " (it offers no platforms)" : "; it offers " + String.join(", ", offered)));
        }
        Candidate best = walk.candidates.stream()
                .min(Comparator.comparing(Candidate::platform, matcher))
                .orElseThrow();
        Manifest manifest = best.manifest != null ? best.manifest : readManifest(best.descriptor, label);
        ImageConfig config = best.config != null ? best.config : readConfig(manifest, best.descriptor, label);
        checkLayers(manifest, config, best.descriptor, label);
        Descriptor manifestDescriptor = best.descriptor.platform() != null ? best.descriptor
                : best.descriptor.withPlatform(best.platform);
        return new ResolvedImage(name, target, manifestDescriptor, manifest, config);
    }

    /** Reads and parses the manifest {@code desc}. */
    public Manifest readManifest(Descriptor desc, String label) {
        byte[] bytes = Blobs.read(store, desc, "manifest of " + label);
        return OciJson.parseManifest(bytes);
    }

    /** Reads and parses an index. */
    public Index readIndex(Descriptor desc, String label) {
        byte[] bytes = Blobs.read(store, desc, "index of " + label);
        return OciJson.parseIndex(bytes);
    }

    /** Reads and parses the config of {@code manifest}. */
    public ImageConfig readConfig(Manifest manifest, Descriptor manifestDesc, String label) {
        Descriptor configDesc = manifest.config();
        if (!MediaTypes.isConfig(configDesc.mediaType())) {
            throw new NotImplementedException("manifest " + manifestDesc.digest() + " of " + label
                    + " is not a container image: config media type \"" + configDesc.mediaType() + "\"");
        }
        byte[] bytes = Blobs.read(store, configDesc, "config of " + label);
        return OciJson.parseImageConfig(bytes);
    }

    /** The diffID count must equal the layer count (containerd: "mismatched image rootfs and manifest layers"). */
    public static void checkLayers(Manifest manifest, ImageConfig config, Descriptor manifestDesc, String label) {
        int layers = manifest.layers().size();
        int diffIds = config.diffIds().size();
        if (layers != diffIds) {
            throw new InvalidArgumentException("image " + label + ": manifest " + manifestDesc.digest() + " has "
                    + layers + " layers but its config " + manifest.config().digest() + " lists " + diffIds
                    + " diff_ids (mismatched image rootfs and manifest layers)");
        }
    }

    /**
     * Whether an index entry is an attachment of an image rather than an image: Docker buildx marks its
     * attestation manifests with {@code vnd.docker.reference.type} and the platform {@code unknown/unknown};
     * an OCI 1.1 artifact listed without a platform carries an {@code artifactType}.
     * containerd never selects these because no real platform matches {@code unknown}; they are left out
     * here even for {@link PlatformMatcher#all()}.
     */
    public static boolean isAttachment(Descriptor entry) {
        if (entry.annotations().containsKey(DOCKER_REFERENCE_TYPE)) {
            return true;
        }
        Platform p = entry.platform();
        if (p == null) {
            return entry.artifactType() != null; // an OCI 1.1 artifact (signature, SBOM) listed without a platform
        }
        return "unknown".equals(p.os()) && "unknown".equals(p.architecture());
    }

    /** Docker's annotation on attestation manifests ({@code attestation-manifest}). */
    public static final String DOCKER_REFERENCE_TYPE = "vnd.docker.reference.type";

    private record Candidate(Descriptor descriptor, Platform platform, Manifest manifest, ImageConfig config) {
    }

    private final class Walk {
        private final PlatformMatcher matcher;
        private final List<Candidate> candidates = new ArrayList<>();
        private final Set<Platform> offered = new LinkedHashSet<>();

        Walk(PlatformMatcher matcher) {
            this.matcher = matcher;
        }

        void collect(Descriptor desc, String label, int depth) {
            String type = desc.mediaType();
            if (MediaTypes.isIndex(type)) {
                if (depth >= MAX_DEPTH) {
                    throw new InvalidArgumentException("image " + label + ": indexes nested deeper than " + MAX_DEPTH);
                }
                Index index = readIndex(desc, label);
                for (Descriptor child : index.manifests()) {
                    if (MediaTypes.isIndex(child.mediaType())) {
                        if (child.platform() == null || matcher.matches(child.platform())) {
                            collect(child, label, depth + 1);
                        } else {
                            offer(child.platform());
                        }
                    } else if (MediaTypes.isManifest(child.mediaType())) {
                        if (isAttachment(child)) {
                            continue; // buildx attestations and the like describe an image; they are not one
                        }
                        if (child.platform() != null) {
                            offer(child.platform());
                            if (matcher.matches(child.platform())) {
                                candidates.add(new Candidate(child, child.platform(), null, null));
                            }
                        } else {
                            judgeByConfig(child, label, false);
                        }
                    }
                    // other entries (signatures, attestations blobs...) are not images
                }
            } else if (MediaTypes.isManifest(type)) {
                if (depth == 0 || desc.platform() == null) {
                    judgeByConfig(desc, label, true);
                } else {
                    offer(desc.platform());
                    if (matcher.matches(desc.platform())) {
                        candidates.add(new Candidate(desc, desc.platform(), null, null));
                    }
                }
            } else {
                throw new NotImplementedException("image " + label + ": " + desc.digest() + " has media type \""
                        + type + "\", which is neither an index nor a manifest");
            }
        }

        /** @param required whether a manifest that is no container image is an error (else it is skipped) */
        private void judgeByConfig(Descriptor desc, String label, boolean required) {
            Manifest manifest = readManifest(desc, label);
            if (!required && !MediaTypes.isConfig(manifest.config().mediaType())) {
                return; // an artifact (signature, SBOM, ...) listed in an index without a platform
            }
            ImageConfig config = readConfig(manifest, desc, label);
            Platform platform = desc.platform() != null ? desc.platform() : config.platform();
            offer(platform);
            if (matcher.matches(platform)) {
                candidates.add(new Candidate(desc, platform, manifest, config));
            }
        }

        private void offer(Platform p) {
            if (!"unknown".equals(p.os())) {
                offered.add(p);
            }
        }
    }
}

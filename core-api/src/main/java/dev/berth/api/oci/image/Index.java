package dev.berth.api.oci.image;

import dev.berth.api.Descriptor;
import dev.berth.api.MediaTypes;
import dev.berth.api.PlatformMatcher;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * An image index: OCI ({@code application/vnd.oci.image.index.v1+json}) or a Docker manifest list
 * ({@code application/vnd.docker.distribution.manifest.list.v2+json}). Its entries point at manifests
 * (or nested indexes), usually one per platform. An OCI layout's {@code index.json} has the same shape.
 *
 * @param mediaType the document's own {@code mediaType} field; null when absent (allowed for OCI)
 * @param artifactType OCI 1.1 artifact type, or null
 * @param subject OCI 1.1 referrers subject, or null
 * @param extraFields unknown JSON fields, written back unchanged
 * @param raw the bytes this index was parsed from, or null when built in code
 */
public record Index(int schemaVersion, String mediaType, String artifactType, List<Descriptor> manifests,
                    Descriptor subject, Map<String, String> annotations, Map<String, Object> extraFields,
                    RawJson raw) implements OciDocument {

    static final Set<String> FIELDS = Set.of("schemaVersion", "mediaType", "artifactType", "manifests",
            "subject", "annotations");

    public Index {
        manifests = manifests == null ? List.of() : List.copyOf(manifests);
        annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
        extraFields = ExtraFields.freeze(extraFields, FIELDS, "index");
    }

    /** An OCI index. */
    public static Index of(List<Descriptor> manifests) {
        return new Index(2, MediaTypes.OCI_INDEX, null, manifests, null, Map.of(), Map.of(), null);
    }

    /** A Docker manifest list. */
    public static Index dockerList(List<Descriptor> manifests) {
        return new Index(2, MediaTypes.DOCKER_MANIFEST_LIST, null, manifests, null, Map.of(), Map.of(), null);
    }

    /** The {@code mediaType} field, or the OCI index type when the field is absent. */
    @Override
    public String descriptorMediaType() {
        return mediaType == null || mediaType.isEmpty() ? MediaTypes.OCI_INDEX : mediaType;
    }

    /**
     * The entries whose platform {@code matcher} accepts, best first (containerd's filter-and-sort of
     * index children). Entries without a platform are left out.
     */
    public List<Descriptor> manifestsFor(PlatformMatcher matcher) {
        Objects.requireNonNull(matcher, "matcher");
        return manifests.stream()
                .filter(d -> d.platform() != null && matcher.matches(d.platform()))
                .sorted(Comparator.comparing(Descriptor::platform, matcher))
                .toList();
    }

    public Index withManifests(List<Descriptor> newManifests) {
        return new Index(schemaVersion, mediaType, artifactType, newManifests, subject, annotations, extraFields,
                null);
    }

    public Index withAnnotations(Map<String, String> newAnnotations) {
        return new Index(schemaVersion, mediaType, artifactType, manifests, subject, newAnnotations, extraFields,
                null);
    }
}

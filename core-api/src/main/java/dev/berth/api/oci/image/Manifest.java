package dev.berth.api.oci.image;

import dev.berth.api.Descriptor;
import dev.berth.api.MediaTypes;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;

/**
 * An image manifest: OCI ({@code application/vnd.oci.image.manifest.v1+json}) or Docker schema2
 * ({@code application/vnd.docker.distribution.manifest.v2+json}) — the same JSON shape. It names the
 * config blob and the layers, bottom layer first.
 *
 * @param schemaVersion always 2 for the formats Berth reads
 * @param mediaType the document's own {@code mediaType} field; null when absent (allowed for OCI)
 * @param artifactType OCI 1.1 artifact type, or null
 * @param subject OCI 1.1 referrers subject, or null
 * @param extraFields unknown JSON fields, written back unchanged
 * @param raw the bytes this manifest was parsed from, or null when built in code
 */
public record Manifest(int schemaVersion, String mediaType, String artifactType, Descriptor config,
                       List<Descriptor> layers, Descriptor subject, Map<String, String> annotations,
                       Map<String, Object> extraFields, RawJson raw) implements OciDocument {

    static final Set<String> FIELDS = Set.of("schemaVersion", "mediaType", "artifactType", "config", "layers",
            "subject", "annotations");

    public Manifest {
        Objects.requireNonNull(config, "config");
        layers = layers == null ? List.of() : List.copyOf(layers);
        annotations = annotations == null ? Map.of() : Map.copyOf(annotations);
        extraFields = ExtraFields.freeze(extraFields, FIELDS, "manifest");
    }

    /** An OCI manifest. */
    public static Manifest of(Descriptor config, List<Descriptor> layers) {
        return new Manifest(2, MediaTypes.OCI_MANIFEST, null, config, layers, null, Map.of(), Map.of(), null);
    }

    /** A Docker schema2 manifest. */
    public static Manifest docker(Descriptor config, List<Descriptor> layers) {
        return new Manifest(2, MediaTypes.DOCKER_MANIFEST, null, config, layers, null, Map.of(), Map.of(), null);
    }

    /** The {@code mediaType} field, or the OCI manifest type when the field is absent. */
    @Override
    public String descriptorMediaType() {
        return mediaType == null || mediaType.isEmpty() ? MediaTypes.OCI_MANIFEST : mediaType;
    }

    public Manifest withAnnotations(Map<String, String> newAnnotations) {
        return new Manifest(schemaVersion, mediaType, artifactType, config, layers, subject, newAnnotations,
                extraFields, null);
    }

    public Manifest withLayers(List<Descriptor> newLayers) {
        return new Manifest(schemaVersion, mediaType, artifactType, config, newLayers, subject, annotations,
                extraFields, null);
    }

    public Manifest withConfig(Descriptor newConfig) {
        return new Manifest(schemaVersion, mediaType, artifactType, newConfig, layers, subject, annotations,
                extraFields, null);
    }

    public Manifest withSubject(Descriptor newSubject) {
        return new Manifest(schemaVersion, mediaType, artifactType, config, layers, newSubject, annotations,
                extraFields, null);
    }
}

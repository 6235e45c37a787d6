package dev.berth.api.oci.image;

import dev.berth.api.Descriptor;
import java.util.Map;

/**
 * A JSON document of the OCI image-spec: an {@link Index}, a {@link Manifest} or an {@link ImageConfig}.
 *
 * <p>A document parsed by {@link OciJson} keeps the bytes it came from ({@link #raw()}); {@link #bytes()}
 * and {@link #descriptor()} use them, so the digest is the one the registry or content store has. A
 * document built in code (or changed with a {@code with...} method) has no raw bytes and is serialized on
 * demand. Fields the model does not know are kept in {@link #extraFields()} and written back. Inside
 * descriptors only the fields {@link Descriptor} models survive re-serialization (OCI 1.1's
 * {@code artifactType} and {@code data} on a descriptor do not), which matters only for documents that
 * are changed; parsed documents are always written as their raw bytes.
 */
public sealed interface OciDocument permits Index, Manifest, ImageConfig {

    /** The exact bytes this document was parsed from, or null if it was built in code. */
    RawJson raw();

    /**
     * JSON fields this model does not name, in document order, as plain Java values ({@code Map},
     * {@code List}, {@code String}, {@code Number}, {@code Boolean}, null). Unmodifiable.
     */
    Map<String, Object> extraFields();

    /** The media type a descriptor of this document carries. */
    String descriptorMediaType();

    /** The raw bytes if parsed, else the serialized JSON. */
    default byte[] bytes() {
        RawJson raw = raw();
        return raw != null ? raw.bytes() : OciJson.write(this);
    }

    /** A descriptor of {@link #bytes()} with {@link #descriptorMediaType()}. */
    default Descriptor descriptor() {
        RawJson raw = raw();
        return raw != null ? raw.descriptor(descriptorMediaType()) : Descriptor.of(descriptorMediaType(), bytes());
    }
}

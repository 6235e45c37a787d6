package dev.berth.api.oci.image;

import dev.berth.api.Descriptor;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.MediaTypes;
import dev.berth.api.oci.image.internal.OciCodec;
import java.util.Objects;

/**
 * Reads and writes the image-spec JSON documents. Parsing validates the shape and every descriptor
 * (digest syntax, non-negative size) and throws {@link InvalidArgumentException} naming the document kind
 * and the JSON path of the first problem; the parsed value keeps its raw bytes (see {@link OciDocument}).
 * Duplicate keys are rejected: a document that different parsers would read differently has no place in
 * a content-addressed store. Thread-safe.
 */
public final class OciJson {
    private OciJson() {
    }

    public static Manifest parseManifest(byte[] json) {
        return OciCodec.readManifest(json);
    }

    public static Index parseIndex(byte[] json) {
        return OciCodec.readIndex(json);
    }

    public static ImageConfig parseImageConfig(byte[] json) {
        return OciCodec.readImageConfig(json);
    }

    /** A single descriptor object, as in an OCI layout reference or a registry response. */
    public static Descriptor parseDescriptor(byte[] json) {
        return OciCodec.readDescriptor(json);
    }

    /**
     * Parses a document by the media type of the descriptor it was fetched through: an index or manifest
     * list, a manifest, or an image config.
     *
     * @throws InvalidArgumentException if the bytes are not a valid document of that kind
     * @throws dev.berth.api.NotImplementedException if the media type is none of those
     */
    public static OciDocument parse(String mediaType, byte[] json) {
        Objects.requireNonNull(mediaType, "mediaType");
        if (MediaTypes.isIndex(mediaType)) {
            return parseIndex(json);
        }
        if (MediaTypes.isManifest(mediaType)) {
            return parseManifest(json);
        }
        if (MediaTypes.isConfig(mediaType)) {
            return parseImageConfig(json);
        }
        throw new dev.berth.api.NotImplementedException("no JSON model for media type \"" + mediaType + "\"");
    }

    /**
     * The JSON of {@code document}: exactly its raw bytes if it was parsed, else a compact serialization
     * (field order and omitted empty fields as the image-spec's Go types, map keys sorted, unknown fields
     * appended).
     */
    public static byte[] write(OciDocument document) {
        Objects.requireNonNull(document, "document");
        if (document.raw() != null) {
            return document.raw().bytes();
        }
        if (document instanceof Manifest m) {
            return OciCodec.write(m);
        }
        if (document instanceof Index i) {
            return OciCodec.write(i);
        }
        return OciCodec.write((ImageConfig) document);
    }

    /** The JSON object of a descriptor with OCI field names. */
    public static byte[] write(Descriptor descriptor) {
        return OciCodec.write(Objects.requireNonNull(descriptor, "descriptor"));
    }
}

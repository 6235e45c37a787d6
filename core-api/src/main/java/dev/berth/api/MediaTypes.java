package dev.berth.api;

/** OCI and Docker schema2 media types, and what each kind of layer is compressed with. */
public final class MediaTypes {
    private MediaTypes() {
    }

    public static final String OCI_INDEX = "application/vnd.oci.image.index.v1+json";
    public static final String OCI_MANIFEST = "application/vnd.oci.image.manifest.v1+json";
    public static final String OCI_CONFIG = "application/vnd.oci.image.config.v1+json";
    public static final String OCI_LAYER = "application/vnd.oci.image.layer.v1.tar";
    public static final String OCI_LAYER_GZIP = "application/vnd.oci.image.layer.v1.tar+gzip";
    public static final String OCI_LAYER_ZSTD = "application/vnd.oci.image.layer.v1.tar+zstd";
    public static final String OCI_LAYER_NONDISTRIBUTABLE = "application/vnd.oci.image.layer.nondistributable.v1.tar";
    public static final String OCI_LAYER_NONDISTRIBUTABLE_GZIP = "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip";
    public static final String OCI_LAYER_NONDISTRIBUTABLE_ZSTD = "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd";
    public static final String OCI_EMPTY = "application/vnd.oci.empty.v1+json";

    public static final String DOCKER_MANIFEST = "application/vnd.docker.distribution.manifest.v2+json";
    public static final String DOCKER_MANIFEST_LIST = "application/vnd.docker.distribution.manifest.list.v2+json";
    public static final String DOCKER_CONFIG = "application/vnd.docker.container.image.v1+json";
    public static final String DOCKER_LAYER = "application/vnd.docker.image.rootfs.diff.tar";
    public static final String DOCKER_LAYER_GZIP = "application/vnd.docker.image.rootfs.diff.tar.gzip";
    public static final String DOCKER_LAYER_FOREIGN = "application/vnd.docker.image.rootfs.foreign.diff.tar";
    public static final String DOCKER_LAYER_FOREIGN_GZIP = "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip";
    public static final String DOCKER_MANIFEST_SCHEMA1_SIGNED = "application/vnd.docker.distribution.manifest.v1+prettyjws";

    public static final String CONTAINERD_CHECKPOINT = "application/vnd.containerd.container.criu.checkpoint.criu.tar";
    public static final String CONTAINERD_CHECKPOINT_CONFIG = "application/vnd.containerd.container.checkpoint.config.v1+proto";
    public static final String CONTAINERD_CHECKPOINT_RUNTIME_OPTIONS = "application/vnd.containerd.container.checkpoint.runtime.options+proto";
    public static final String CONTAINERD_CHECKPOINT_RW = "application/vnd.containerd.container.rw.tar";

    /** How a layer blob is compressed. {@link #UNKNOWN} = detect from the bytes (Docker's plain tar type). */
    public enum Compression { NONE, GZIP, ZSTD, UNKNOWN }

    public static boolean isIndex(String mediaType) {
        return OCI_INDEX.equals(mediaType) || DOCKER_MANIFEST_LIST.equals(mediaType);
    }

    public static boolean isManifest(String mediaType) {
        return OCI_MANIFEST.equals(mediaType) || DOCKER_MANIFEST.equals(mediaType);
    }

    public static boolean isConfig(String mediaType) {
        return OCI_CONFIG.equals(mediaType) || DOCKER_CONFIG.equals(mediaType);
    }

    public static boolean isLayer(String mediaType) {
        String base = stripSuffixes(mediaType);
        return base.equals(OCI_LAYER) || base.equals(OCI_LAYER_NONDISTRIBUTABLE)
                || base.startsWith(DOCKER_LAYER) || base.startsWith(DOCKER_LAYER_FOREIGN);
    }

    public static boolean isNonDistributable(String mediaType) {
        return mediaType.startsWith(OCI_LAYER_NONDISTRIBUTABLE) || mediaType.startsWith(DOCKER_LAYER_FOREIGN);
    }

    /**
     * The compression of a layer media type, as containerd's {@code DiffCompression}: {@code +gzip},
     * {@code +zstd}, Docker's {@code .tar.gzip}; Docker's plain {@code .tar} is {@link Compression#UNKNOWN}
     * because docker archives carry compressed blobs under it.
     *
     * @throws NotImplementedException when the type is not a layer or carries an unknown suffix (such as
     *         {@code +encrypted})
     */
    public static Compression layerCompression(String mediaType) {
        switch (mediaType) {
            case OCI_LAYER, OCI_LAYER_NONDISTRIBUTABLE:
                return Compression.NONE;
            case OCI_LAYER_GZIP, OCI_LAYER_NONDISTRIBUTABLE_GZIP, DOCKER_LAYER_GZIP, DOCKER_LAYER_FOREIGN_GZIP:
                return Compression.GZIP;
            case OCI_LAYER_ZSTD, OCI_LAYER_NONDISTRIBUTABLE_ZSTD:
                return Compression.ZSTD;
            case DOCKER_LAYER, DOCKER_LAYER_FOREIGN:
                return Compression.UNKNOWN;
            default:
                throw new NotImplementedException("unsupported layer media type \"" + mediaType + "\"");
        }
    }

    private static String stripSuffixes(String mediaType) {
        int plus = mediaType.indexOf('+');
        return plus < 0 ? mediaType : mediaType.substring(0, plus);
    }
}

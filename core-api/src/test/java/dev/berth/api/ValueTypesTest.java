package dev.berth.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class ValueTypesTest {

    @Nested
    class Descriptors {
        private final Digest digest = Digest.sha256(new byte[] {1});

        @Test
        void ofComputesDigestAndSize() {
            byte[] bytes = "{}".getBytes();
            Descriptor d = Descriptor.of(MediaTypes.OCI_EMPTY, bytes);
            assertThat(d.digest()).isEqualTo(Digest.sha256(bytes));
            assertThat(d.size()).isEqualTo(2);
            assertThat(d.urls()).isEmpty();
            assertThat(d.annotations()).isEmpty();
            assertThat(d.platformIfPresent()).isEmpty();
        }

        @Test
        void rejectsNegativeSizeNamingTheDigest() {
            assertThatThrownBy(() -> new Descriptor(MediaTypes.OCI_LAYER, digest, -1))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining(digest.toString()).hasMessageContaining("-1");
        }

        @Test
        void requiresMediaTypeAndDigest() {
            assertThatThrownBy(() -> new Descriptor(null, digest, 1)).isInstanceOf(NullPointerException.class);
            assertThatThrownBy(() -> new Descriptor("x", null, 1)).isInstanceOf(NullPointerException.class);
        }

        @Test
        void copiesCollectionsDefensively() {
            List<String> urls = new ArrayList<>(List.of("https://a"));
            Map<String, String> ann = new HashMap<>(Map.of("k", "v"));
            Descriptor d = new Descriptor(MediaTypes.OCI_LAYER, digest, 1, urls, ann, null);
            urls.add("https://b");
            ann.put("k2", "v2");
            assertThat(d.urls()).containsExactly("https://a");
            assertThat(d.annotations()).containsOnlyKeys("k");
            assertThatThrownBy(() -> d.urls().add("x")).isInstanceOf(UnsupportedOperationException.class);
        }

        @Test
        void withersReplaceOneField() {
            Descriptor d = new Descriptor(MediaTypes.OCI_MANIFEST, digest, 5);
            Platform p = new Platform("linux", "amd64");
            assertThat(d.withPlatform(p).platformIfPresent()).contains(p);
            assertThat(d.withAnnotations(Map.of("a", "b")).annotations()).containsEntry("a", "b");
            assertThat(d.withMediaType(MediaTypes.DOCKER_MANIFEST).mediaType()).isEqualTo(MediaTypes.DOCKER_MANIFEST);
            assertThat(d.withMediaType(MediaTypes.DOCKER_MANIFEST).digest()).isEqualTo(digest);
        }
    }

    @Nested
    class Mounts {
        @Test
        void lastOfRoAndRwWins() {
            assertThat(new Mount("bind", "/a", List.of("rbind", "ro")).readOnly()).isTrue();
            assertThat(new Mount("bind", "/a", List.of("ro", "rw")).readOnly()).isFalse();
            assertThat(new Mount("bind", "/a", List.of("rw", "ro")).readOnly()).isTrue();
            assertThat(new Mount("bind", "/a", List.of()).readOnly()).isFalse();
        }

        @Test
        void keyValueOptionsReturnTheLastValue() {
            Mount m = new Mount("overlay", "overlay",
                    List.of("workdir=/w", "upperdir=/u", "lowerdir=/l1:/l2", "lowerdir=/l3"));
            assertThat(m.option("lowerdir")).contains("/l3");
            assertThat(m.option("workdir")).contains("/w");
            assertThat(m.option("index")).isEmpty();
            assertThat(m.option("lower")).isEmpty();
        }

        @Test
        void flagsAndOptionString() {
            Mount m = new Mount("bind", "/src", "/dst", List.of("rbind"));
            assertThat(m.hasFlag("rbind")).isTrue();
            assertThat(m.hasFlag("bind")).isFalse();
            Mount ro = m.withOption("ro");
            assertThat(ro.optionString()).isEqualTo("rbind,ro");
            assertThat(m.options()).containsExactly("rbind");
            assertThat(ro.target()).isEqualTo("/dst");
        }

        @Test
        void defaultsAndNullChecks() {
            Mount m = new Mount("tmpfs", "tmpfs", null, null);
            assertThat(m.target()).isEmpty();
            assertThat(m.options()).isEmpty();
            assertThatThrownBy(() -> new Mount(null, "x", List.of())).isInstanceOf(NullPointerException.class);
        }
    }

    @Nested
    class IdentifierRules {
        @ParameterizedTest
        @ValueSource(strings = {"a", "default", "k8s.io", "my-container_1", "A.b-C_d", "0",
                "x123456789x123456789x123456789x123456789x123456789x123456789x123456789x12345"})
        void acceptsValidIdentifiers(String id) {
            assertThat(Identifiers.isValid(id)).isTrue();
            assertThat(Identifiers.validate("container id", id)).isEqualTo(id);
        }

        @ParameterizedTest
        @ValueSource(strings = {"-a", "a-", "a..b", "a_-b", ".a", "a b", "a/b", "ä", "a:b", "_"})
        void rejectsMalformedIdentifiersNamingThem(String id) {
            assertThat(Identifiers.isValid(id)).isFalse();
            assertThatThrownBy(() -> Identifiers.validate("namespace", id))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("namespace \"" + id + "\"");
        }

        @Test
        void rejectsEmptyAndTooLong() {
            assertThat(Identifiers.isValid(null)).isFalse();
            assertThatThrownBy(() -> Identifiers.validate("lease id", ""))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("lease id must not be empty");
            assertThatThrownBy(() -> Identifiers.validate("container id", "x".repeat(77)))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("77");
        }
    }

    @Nested
    class LabelRules {
        @Test
        void acceptsUpTo4096BytesOfKeyPlusValue() {
            Labels.validate("k", "v".repeat(4095));
            assertThat(Labels.validate(Map.of("a", "", "b", "c"))).hasSize(2);
            assertThat(Labels.validate(null)).isEmpty();
        }

        @Test
        void countsUtf8BytesNotChars() {
            String value = "é".repeat(2048); // 4096 bytes
            assertThatThrownBy(() -> Labels.validate("k", value))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("4097");
        }

        @Test
        void rejectsEmptyKeyAndNullValue() {
            assertThatThrownBy(() -> Labels.validate("", "v")).isInstanceOf(InvalidArgumentException.class);
            assertThatThrownBy(() -> Labels.validate("k", null)).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("label k");
            Map<String, String> bad = new HashMap<>();
            bad.put("big", "x".repeat(5000));
            assertThatThrownBy(() -> Labels.validate(bad)).hasMessageContaining("label big");
        }
    }

    @Nested
    class MediaTypeRules {
        @ParameterizedTest(name = "{0} -> {1}")
        @CsvSource({
                "application/vnd.oci.image.layer.v1.tar,                                  NONE",
                "application/vnd.oci.image.layer.v1.tar+gzip,                             GZIP",
                "application/vnd.oci.image.layer.v1.tar+zstd,                             ZSTD",
                "application/vnd.oci.image.layer.nondistributable.v1.tar,                 NONE",
                "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip,            GZIP",
                "application/vnd.oci.image.layer.nondistributable.v1.tar+zstd,            ZSTD",
                "application/vnd.docker.image.rootfs.diff.tar.gzip,                       GZIP",
                "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip,               GZIP",
                "application/vnd.docker.image.rootfs.diff.tar,                            UNKNOWN",
                "application/vnd.docker.image.rootfs.foreign.diff.tar,                    UNKNOWN",
        })
        void layerCompression(String mediaType, MediaTypes.Compression expected) {
            assertThat(MediaTypes.layerCompression(mediaType)).isEqualTo(expected);
            assertThat(MediaTypes.isLayer(mediaType)).isTrue();
        }

        @ParameterizedTest
        @ValueSource(strings = {"application/vnd.oci.image.layer.v1.tar+gzip+encrypted",
                "application/vnd.oci.image.layer.v1.tar+bzip2", "application/vnd.oci.image.config.v1+json",
                "text/plain"})
        void unsupportedLayerTypesAreNotImplementedNamingTheType(String mediaType) {
            assertThatThrownBy(() -> MediaTypes.layerCompression(mediaType))
                    .isInstanceOf(NotImplementedException.class).hasMessageContaining(mediaType);
        }

        @Test
        void classifiesDocuments() {
            assertThat(MediaTypes.isIndex(MediaTypes.OCI_INDEX)).isTrue();
            assertThat(MediaTypes.isIndex(MediaTypes.DOCKER_MANIFEST_LIST)).isTrue();
            assertThat(MediaTypes.isIndex(MediaTypes.OCI_MANIFEST)).isFalse();
            assertThat(MediaTypes.isManifest(MediaTypes.OCI_MANIFEST)).isTrue();
            assertThat(MediaTypes.isManifest(MediaTypes.DOCKER_MANIFEST)).isTrue();
            assertThat(MediaTypes.isManifest(MediaTypes.DOCKER_MANIFEST_SCHEMA1_SIGNED)).isFalse();
            assertThat(MediaTypes.isConfig(MediaTypes.DOCKER_CONFIG)).isTrue();
            assertThat(MediaTypes.isLayer(MediaTypes.OCI_CONFIG)).isFalse();
            assertThat(MediaTypes.isLayer("application/vnd.oci.image.layer.v1.tar+gzip+encrypted")).isTrue();
            assertThat(MediaTypes.isNonDistributable(MediaTypes.OCI_LAYER_NONDISTRIBUTABLE_ZSTD)).isTrue();
            assertThat(MediaTypes.isNonDistributable(MediaTypes.DOCKER_LAYER_FOREIGN_GZIP)).isTrue();
            assertThat(MediaTypes.isNonDistributable(MediaTypes.OCI_LAYER_GZIP)).isFalse();
        }
    }

    @Nested
    class Errors {
        @ParameterizedTest(name = "{0} -> code {1}")
        @CsvSource({
                "NotFoundException,           5",
                "AlreadyExistsException,      6",
                "InvalidArgumentException,    3",
                "FailedPreconditionException, 9",
                "UnavailableException,        14",
                "NotImplementedException,     12",
                "ConflictException,           10",
                "CanceledException,           1",
                "DeadlineExceededException,   4",
                "BerthException,              2",
        })
        void statusCodesRoundTrip(String simpleName, int code) {
            BerthException e = BerthException.fromStatus(code, "boom");
            assertThat(e.getClass().getSimpleName()).isEqualTo(simpleName);
            assertThat(e.grpcCode()).isEqualTo(code);
            assertThat(e).hasMessage("boom");
        }

        @Test
        void unknownCodesBecomeTheBaseException() {
            assertThat(BerthException.fromStatus(999, "x").getClass()).isEqualTo(BerthException.class);
            assertThat(StatusCode.of(999)).isEqualTo(StatusCode.UNKNOWN);
            assertThat(StatusCode.of(16)).isEqualTo(StatusCode.UNAUTHENTICATED);
        }

        @Test
        void causeIsKept() {
            var cause = new java.io.IOException("disk");
            assertThat(new NotFoundException("x", cause)).hasCause(cause).isInstanceOf(BerthException.class)
                    .isInstanceOf(RuntimeException.class);
        }
    }
}

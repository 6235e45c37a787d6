package dev.berth.image;

import static dev.berth.image.Hand.Blob;
import static dev.berth.image.Hand.Tar;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.Digest;
import dev.berth.api.MediaTypes;
import dev.berth.api.MediaTypes.Compression;
import dev.berth.api.NotFoundException;
import dev.berth.api.NotImplementedException;
import dev.berth.api.Platform;
import dev.berth.api.PlatformMatcher;
import dev.berth.api.image.Image;
import dev.berth.testing.TestLayer;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Image indexes as registries serve them: buildx attestations, ARM and amd64 variants, Windows versions. */
class IndexConformanceTest {
    static final Platform HOST = Platform.host();

    @TempDir
    Path tmp;
    Fixture f;
    final TestLayer layer = Hand.layer("f", "content", Compression.GZIP);

    @BeforeEach
    void open() {
        f = new Fixture(tmp);
    }

    @AfterEach
    void close() {
        f.close();
    }

    private void put(List<Blob> blobs) {
        Map<Digest, byte[]> map = new LinkedHashMap<>();
        blobs.forEach(b -> map.put(b.digest(), b.bytes()));
        Fixture.put(f.store, map);
    }

    private Image name(String name, Blob target) {
        return f.images.create(new Image(name, target.descriptor()));
    }

    /** An image whose config declares {@code p}. */
    private Hand.Image image(Platform p) {
        return Hand.ociImage(p, List.of(layer));
    }

    /** A buildx attestation manifest: in-toto layers, an OCI config for unknown/unknown. */
    private Hand.Image attestation(Digest subject) {
        Blob statement = Blob.json("application/vnd.in-toto+json", "{\"_type\":\"https://in-toto.io/Statement/v0.1\"}");
        Blob config = Blob.json(MediaTypes.OCI_CONFIG, "{\"architecture\":\"unknown\",\"os\":\"unknown\",\"config\":{},"
                + "\"rootfs\":{\"type\":\"layers\",\"diff_ids\":[\"" + statement.digest() + "\"]}}");
        Blob manifest = Blob.json(MediaTypes.OCI_MANIFEST, "{\"schemaVersion\":2,\"mediaType\":\""
                + MediaTypes.OCI_MANIFEST + "\",\"config\":" + config.ref() + ",\"layers\":["
                + statement.ref("\"annotations\":{\"in-toto.io/predicate-type\":\"https://spdx.dev/Document\"}") + "]}");
        return new Hand.Image(manifest, config, List.of(statement), List.of());
    }

    private static String attestationEntry(Hand.Image att, Digest subject) {
        return att.manifest().ref("\"annotations\":{\"vnd.docker.reference.digest\":\"" + subject
                + "\",\"vnd.docker.reference.type\":\"attestation-manifest\"}," + Hand.platform("unknown", "unknown", ""));
    }

    @Nested
    class BuildxAttestations {
        Hand.Image amd64;
        Hand.Image arm64;
        Hand.Image att;
        Blob index;

        @BeforeEach
        void build() {
            amd64 = image(new Platform("linux", "amd64"));
            arm64 = image(new Platform("linux", "arm64"));
            att = attestation(amd64.manifest().digest());
            // the attestation comes first, so that "first match wins" would pick it
            index = Hand.index(MediaTypes.OCI_INDEX, List.of(attestationEntry(att, amd64.manifest().digest()),
                    amd64.manifest().ref(Hand.platform("linux", "amd64", "")),
                    arm64.manifest().ref(Hand.platform("linux", "arm64", ""))), "");
        }

        @Test
        void areNeverPickedEvenWhenAnyPlatformWillDo() {
            put(amd64.blobs());
            put(arm64.blobs());
            put(att.blobs());
            put(List.of(index));
            name("example.com/app:1", index);

            assertThat(f.service.resolve("example.com/app:1", PlatformMatcher.all()).manifestDescriptor().digest())
                    .isEqualTo(amd64.manifest().digest());
            assertThat(f.service.resolve("example.com/app:1", PlatformMatcher.only(new Platform("linux", "arm64")))
                    .manifestDescriptor().digest()).isEqualTo(arm64.manifest().digest());
        }

        @Test
        void areNotOfferedInTheNoMatchMessage() {
            put(amd64.blobs());
            put(List.of(index));
            name("example.com/app:1", index);
            assertThatThrownBy(() -> f.service.resolve("example.com/app:1",
                    PlatformMatcher.only(new Platform("linux", "s390x"))))
                    .isInstanceOf(NotFoundException.class)
                    .hasMessageContaining("linux/amd64, linux/arm64").hasMessageNotContaining("unknown");
        }

        @Test
        void anIndexOfOnlyAttestationsHasNoImage() {
            put(att.blobs());
            Blob only = Hand.index(MediaTypes.OCI_INDEX, List.of(attestationEntry(att, amd64.manifest().digest())), "");
            put(List.of(only));
            name("example.com/att:1", only);
            assertThatThrownBy(() -> f.service.resolve("example.com/att:1", PlatformMatcher.all()))
                    .isInstanceOf(NotFoundException.class).hasMessageContaining("offers no platforms");
        }

        @Test
        void missingAttestationsDoNotBreakImportOrExportOfAllPlatforms() {
            List<Blob> blobs = new ArrayList<>(amd64.blobs());
            blobs.addAll(arm64.blobs());
            blobs.add(index);
            String indexJson = "{\"schemaVersion\":2,\"manifests\":[" + index.ref(
                    "\"annotations\":{\"io.containerd.image.name\":\"example.com/app:1\"}") + "]}";
            byte[] archive = new Tar().blobs("", blobs).file("index.json", indexJson).ociLayout("").bytes();

            assertThat(f.service.importArchive(new ByteArrayInputStream(archive), ImportOptions.defaults().allPlatforms()))
                    .extracting(Image::name).containsExactly("example.com/app:1");

            ByteArrayOutputStream out = new ByteArrayOutputStream();
            f.service.export(out, ExportOptions.of("example.com/app:1").allPlatforms());
            assertThat(ExportConformanceTest.entries(out.toByteArray())).containsKeys(
                    "blobs/sha256/" + arm64.manifest().hex(), "blobs/sha256/" + index.hex())
                    .doesNotContainKey("blobs/sha256/" + att.manifest().hex());
        }

        @Test
        void presentAttestationsTravelWithAnAllPlatformsExport() {
            put(amd64.blobs());
            put(arm64.blobs());
            put(att.blobs());
            put(List.of(index));
            name("example.com/app:1", index);
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            f.service.export(out, ExportOptions.of("example.com/app:1").allPlatforms());
            assertThat(ExportConformanceTest.entries(out.toByteArray())).containsKeys(
                    "blobs/sha256/" + att.manifest().hex(), "blobs/sha256/" + att.layers().get(0).hex());
        }

        @Test
        void anArtifactEntryWithoutPlatformIsSkippedUnread() {
            Hand.Image host = image(HOST);
            Blob artifact = Blob.json(MediaTypes.OCI_MANIFEST, "{\"never\":\"stored\"}");
            Blob idx = Hand.index(MediaTypes.OCI_INDEX, List.of(host.manifest().ref(),
                    artifact.ref("\"artifactType\":\"application/vnd.dev.sigstore.bundle.v0.3+json\"")), "");
            put(host.blobs());
            put(List.of(idx));
            name("example.com/signed:1", idx);
            assertThat(f.service.resolve("example.com/signed:1", PlatformMatcher.all()).manifestDescriptor().digest())
                    .isEqualTo(host.manifest().digest());
        }
    }

    @Nested
    class Variants {
        private Blob index(String... platforms) {
            List<String> entries = new ArrayList<>();
            for (String p : platforms) {
                String[] parts = p.split("/");
                Hand.Image img = image(new Platform(parts[0], parts[1], parts.length > 2 ? parts[2] : ""));
                put(img.blobs());
                entries.add(img.manifest().ref(Hand.platform(parts[0], parts[1], parts.length > 2 ? parts[2] : "")));
            }
            Blob idx = Hand.index(MediaTypes.OCI_INDEX, entries, "");
            put(List.of(idx));
            name("example.com/v:" + Math.abs(idx.hex().hashCode()), idx);
            return idx;
        }

        private String pick(Blob idx, String want) {
            return f.service.resolve(idx.descriptor(), PlatformMatcher.only(Platform.parse(want)))
                    .manifestDescriptor().platform().toString();
        }

        @ParameterizedTest(name = "{0} from [{1}] -> {2}")
        @CsvSource(delimiter = '|', value = {
                "linux/arm/v7   | linux/arm/v5,linux/arm/v6,linux/arm/v7,linux/arm64 | linux/arm/v7",
                "linux/arm/v7   | linux/arm/v5,linux/arm/v6                          | linux/arm/v6",
                "linux/arm      | linux/arm/v6,linux/arm/v7                          | linux/arm/v7",
                "linux/arm64    | linux/arm/v7,linux/arm64/v8                        | linux/arm64/v8",
                "linux/arm64/v8 | linux/arm/v7,linux/arm64                           | linux/arm64",
                "linux/arm64    | linux/arm/v6,linux/arm/v7                          | linux/arm/v7",
                "linux/aarch64  | linux/amd64,linux/arm64                            | linux/arm64",
                "linux/amd64    | linux/amd64/v3,linux/amd64/v2,linux/amd64          | linux/amd64",
                "linux/amd64/v2 | linux/amd64/v3,linux/amd64/v2,linux/amd64          | linux/amd64/v2",
                "linux/amd64/v3 | linux/amd64,linux/amd64/v2,linux/amd64/v3          | linux/amd64/v3",
                "linux/amd64/v3 | linux/amd64,linux/386                              | linux/amd64",
                "linux/amd64    | linux/386,linux/arm64                              | linux/386",
                "linux/x86_64   | linux/arm64,linux/amd64                            | linux/amd64",
        })
        void bestVariantWins(String want, String offered, String expected) {
            assertThat(pick(index(offered.split(",")), want.strip())).isEqualTo(expected.strip());
        }

        @Test
        void anAmd64HostWithoutAVariantDoesNotRunV3OnlyImages() {
            Blob idx = index("linux/amd64/v3", "linux/amd64/v2");
            assertThatThrownBy(() -> pick(idx, "linux/amd64")).isInstanceOf(NotFoundException.class)
                    .hasMessageContaining("linux/amd64/v3, linux/amd64/v2");
        }

        @Test
        void anArmV6HostDoesNotRunV7() {
            Blob idx = index("linux/arm/v7", "linux/arm64");
            assertThatThrownBy(() -> pick(idx, "linux/arm/v6")).isInstanceOf(NotFoundException.class);
        }
    }

    @Test
    void windowsOsVersionAndFeaturesArePreserved() {
        Platform windows = new Platform("windows", "amd64", "", "10.0.17763.5329", List.of("win32k"));
        Hand.Image img = Hand.ociImage(windows, List.of(layer));
        Blob idx = Hand.index(MediaTypes.OCI_INDEX, List.of(img.manifest().ref("\"platform\":{\"architecture\":\"amd64\","
                + "\"os\":\"windows\",\"os.version\":\"10.0.17763.5329\",\"os.features\":[\"win32k\"]}")), "");
        put(img.blobs());
        put(List.of(idx));
        name("example.com/win:1", idx);

        ResolvedImage r = f.service.resolve("example.com/win:1",
                PlatformMatcher.only(new Platform("windows", "amd64")));

        assertThat(r.manifestDescriptor().platform()).isEqualTo(windows);
        assertThat(r.manifestDescriptor().platform().osVersion()).isEqualTo("10.0.17763.5329");
        assertThat(r.manifestDescriptor().platform().osFeatures()).containsExactly("win32k");
    }

    @Test
    void aManifestWithoutPlatformInAnIndexIsJudgedByItsConfig() {
        Hand.Image other = image(new Platform("linux", "s390x"));
        Hand.Image host = image(HOST);
        Blob idx = Hand.index(MediaTypes.OCI_INDEX, List.of(other.manifest().ref(), host.manifest().ref()), "");
        put(other.blobs());
        put(host.blobs());
        put(List.of(idx));
        name("example.com/noplat:1", idx);
        ResolvedImage r = f.service.resolve("example.com/noplat:1");
        assertThat(r.manifestDescriptor().digest()).isEqualTo(host.manifest().digest());
        assertThat(r.manifestDescriptor().platform()).isEqualTo(HOST);
    }

    @Test
    void aDockerManifestListWithVariantsResolves() {
        Hand.Image v7 = image(new Platform("linux", "arm", "v7"));
        Blob list = Hand.index(MediaTypes.DOCKER_MANIFEST_LIST,
                List.of(v7.manifest().as(MediaTypes.OCI_MANIFEST).ref(Hand.platform("linux", "arm", "v7"))), "");
        put(v7.blobs());
        put(List.of(list));
        assertThat(f.service.resolve(list.descriptor(), PlatformMatcher.only(Platform.parse("linux/armhf")))
                .manifestDescriptor().digest()).isEqualTo(v7.manifest().digest());
    }

    @Test
    void anArtifactManifestIsNotAnImage() {
        Blob empty = Blob.json(MediaTypes.OCI_EMPTY, "{}");
        Blob artifact = Blob.json(MediaTypes.OCI_MANIFEST, "{\"schemaVersion\":2,\"mediaType\":\"" + MediaTypes.OCI_MANIFEST
                + "\",\"artifactType\":\"application/vnd.example.sbom\",\"config\":" + empty.ref() + ",\"layers\":["
                + empty.ref() + "]}");
        put(List.of(empty, artifact));
        name("example.com/sbom:1", artifact);
        assertThatThrownBy(() -> f.service.resolve("example.com/sbom:1"))
                .isInstanceOf(NotImplementedException.class).hasMessageContaining("not a container image")
                .hasMessageContaining(MediaTypes.OCI_EMPTY);
    }
}

package dev.berth.image;

import static dev.berth.image.Hand.Blob;
import static dev.berth.image.Hand.Tar;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.MediaTypes;
import dev.berth.api.MediaTypes.Compression;
import dev.berth.api.NotFoundException;
import dev.berth.api.Platform;
import dev.berth.api.PlatformMatcher;
import dev.berth.api.image.Image;
import dev.berth.api.snapshot.Snapshotter;
import dev.berth.snapshot.Snapshotters;
import dev.berth.testing.FileTree;
import dev.berth.testing.TestLayer;
import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Archives shaped exactly like the ones real tools write: docker save (before and since Docker 25),
 * podman's docker-archive, skopeo's oci-archive, ctr export, and tars made with {@code tar -C dir .}.
 */
class RealArchivesTest {
    static final Platform HOST = Platform.host();
    static final Platform OTHER = HOST.architecture().equals("arm64") ? new Platform("linux", "amd64")
            : new Platform("linux", "arm64");

    @TempDir
    Path tmp;
    Snapshotter sn;
    Fixture f;

    final TestLayer base = Hand.layer("base", "base layer", Compression.NONE);
    final TestLayer top = Hand.layer("top", "top layer", Compression.NONE);

    @BeforeEach
    void open() {
        sn = Snapshotters.nativeSnapshotter(tmp.resolve("snapshots"));
        f = new Fixture(tmp.resolve("root"), sn, true);
    }

    @AfterEach
    void close() {
        f.close();
        sn.close();
    }

    private List<Image> importBytes(byte[] archive) {
        return f.service.importArchive(new ByteArrayInputStream(archive));
    }

    private FileTree unpacked(String name) {
        UnpackResult r = f.service.unpack(name);
        return Fixture.tree(sn, r.topChainId(), tmp);
    }

    private void assertNothingRegistered() {
        assertThat(f.images.list()).isEmpty();
        assertThat(f.store.listStatuses()).isEmpty();
    }

    /** The two-layer image as Docker's own store holds it: uncompressed OCI layers, Docker-style config. */
    private Hand.Image docker25Image() {
        Blob l0 = Hand.layerBlob(base, MediaTypes.OCI_LAYER);
        Blob l1 = Hand.layerBlob(top, MediaTypes.OCI_LAYER);
        Blob config = Hand.config(MediaTypes.OCI_CONFIG, HOST, List.of(base, top),
                "\"container_config\":{\"Hostname\":\"\",\"Cmd\":null},\"docker_version\":\"25.0.3\","
                        + "\"history\":[{\"created\":\"2024-01-02T03:04:05Z\",\"created_by\":\"ADD base\"},"
                        + "{\"created\":\"2024-01-02T03:04:05Z\",\"created_by\":\"ENV A=1\",\"empty_layer\":true},"
                        + "{\"created\":\"2024-01-02T03:04:05Z\",\"created_by\":\"ADD top\"}]");
        Blob manifest = Hand.manifest(MediaTypes.OCI_MANIFEST, config, List.of(l0, l1), "");
        return new Hand.Image(manifest, config, List.of(l0, l1), List.of(base, top));
    }

    @Nested
    class DockerSave {
        @Test
        void docker25SaveIsAnOciLayoutPlusManifestJson() {
            Hand.Image img = docker25Image();
            String index = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":["
                    + img.manifest().ref("\"annotations\":{\"io.containerd.image.name\":\"docker.io/library/busybox:latest\","
                    + "\"org.opencontainers.image.ref.name\":\"latest\"}") + "]}";
            String manifestJson = "[{\"Config\":\"" + img.config().path() + "\",\"RepoTags\":[\"busybox:latest\"],"
                    + "\"Layers\":[\"" + img.layers().get(0).path() + "\",\"" + img.layers().get(1).path() + "\"]}]";
            Tar tar = new Tar().dir("blobs").dir("blobs/sha256").blobs("", img.blobs())
                    .file("index.json", index).file("manifest.json", manifestJson).ociLayout("")
                    .file("repositories", "{\"busybox\":{\"latest\":\"" + img.config().hex() + "\"}}");

            List<Image> imported = importBytes(tar.bytes());

            assertThat(imported).extracting(Image::name).containsExactly("docker.io/library/busybox:latest");
            assertThat(imported.get(0).target().digest()).isEqualTo(img.manifest().digest());
            assertThat(imported.get(0).target().annotations()).isEmpty();
            ResolvedImage r = f.service.resolve("busybox");
            assertThat(r.config().history()).hasSize(3);
            assertThat(r.chainIds()).isEqualTo(img.chainIds());
            FileTree tree = unpacked("busybox");
            assertThat(tree.get("/etc/base")).isPresent();
            assertThat(tree.get("/etc/top")).isPresent();
        }

        @Test
        void docker25SaveFromTheContainerdStoreKeepsTheIndexAndItsAttestations() {
            Hand.Image host = docker25Image();
            Blob attestation = Blob.json(MediaTypes.OCI_MANIFEST, "{\"schemaVersion\":2,\"mediaType\":"
                    + "\"application/vnd.oci.image.manifest.v1+json\",\"config\":{\"mediaType\":"
                    + "\"application/vnd.oci.image.config.v1+json\",\"digest\":\"sha256:" + "1".repeat(64)
                    + "\",\"size\":167},\"layers\":[]}");
            Blob otherManifest = Blob.json(MediaTypes.OCI_MANIFEST, "{\"other\":1}");
            Blob imageIndex = Hand.index(MediaTypes.OCI_INDEX, List.of(
                    host.manifest().ref(Hand.platform(HOST)),
                    otherManifest.ref(Hand.platform(OTHER)),
                    attestation.ref("\"annotations\":{\"vnd.docker.reference.digest\":\"" + host.manifest().digest()
                            + "\",\"vnd.docker.reference.type\":\"attestation-manifest\"},"
                            + Hand.platform("unknown", "unknown", ""))), "");
            String index = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":["
                    + imageIndex.ref("\"annotations\":{\"io.containerd.image.name\":\"docker.io/library/app:1\","
                    + "\"org.opencontainers.image.ref.name\":\"1\"}") + "]}";
            String manifestJson = "[{\"Config\":\"" + host.config().path() + "\",\"RepoTags\":[\"app:1\"],\"Layers\":[\""
                    + host.layers().get(0).path() + "\",\"" + host.layers().get(1).path() + "\"]}]";
            // the other platform and the attestation were never pulled, so they are not in the archive
            Tar tar = new Tar().blobs("", host.blobs()).blob("", imageIndex).file("index.json", index)
                    .file("manifest.json", manifestJson).ociLayout("");

            List<Image> imported = importBytes(tar.bytes());

            assertThat(imported).extracting(Image::name).containsExactly("docker.io/library/app:1");
            assertThat(imported.get(0).target().digest()).isEqualTo(imageIndex.digest());
            assertThat(f.service.resolve("app:1").manifestDescriptor().digest()).isEqualTo(host.manifest().digest());
            assertThat(unpacked("app:1").get("/etc/top")).isPresent();
        }

        @Test
        void classicDockerSaveWithSymlinkedLayersAndTwoImages() {
            TestLayer shared = Hand.layer("shared", "shared", Compression.NONE);
            Blob configA = Hand.config(MediaTypes.DOCKER_CONFIG, HOST, List.of(shared, base), "");
            Blob configB = Hand.config(MediaTypes.DOCKER_CONFIG, HOST, List.of(shared, top), "");
            String idShared = "a".repeat(64);
            String idA = "b".repeat(64);
            String idSharedAgain = "c".repeat(64);
            String idB = "d".repeat(64);
            String manifestJson = "[{\"Config\":\"" + configA.hex() + ".json\",\"RepoTags\":[\"a:1\",\"a:latest\"],"
                    + "\"Layers\":[\"" + idShared + "/layer.tar\",\"" + idA + "/layer.tar\"]},"
                    + "{\"Config\":\"" + configB.hex() + ".json\",\"RepoTags\":[\"example.com/b:2\"],"
                    + "\"Layers\":[\"" + idSharedAgain + "/layer.tar\",\"" + idB + "/layer.tar\"]},"
                    + "{\"Config\":\"" + configB.hex() + ".json\",\"RepoTags\":null,"
                    + "\"Layers\":[\"" + idSharedAgain + "/layer.tar\",\"" + idB + "/layer.tar\"]}]";
            Tar tar = new Tar()
                    .dir(idShared).file(idShared + "/VERSION", "1.0").file(idShared + "/json", "{\"id\":\"" + idShared + "\"}")
                    .file(idShared + "/layer.tar", shared.tar())
                    .dir(idA).file(idA + "/VERSION", "1.0").file(idA + "/json", "{}").file(idA + "/layer.tar", base.tar())
                    .dir(idSharedAgain).symlink(idSharedAgain + "/layer.tar", "../" + idShared + "/layer.tar")
                    .dir(idB).file(idB + "/layer.tar", top.tar())
                    .file(configA.hex() + ".json", configA.bytes()).file(configB.hex() + ".json", configB.bytes())
                    .file("manifest.json", manifestJson)
                    .file("repositories", "{\"a\":{\"1\":\"" + idA + "\",\"latest\":\"" + idA + "\"}}");

            List<Image> imported = importBytes(tar.bytes());

            assertThat(imported).extracting(Image::name).containsExactly("docker.io/library/a:1",
                    "docker.io/library/a:latest", "example.com/b:2");
            assertThat(imported.get(0).target()).isEqualTo(imported.get(1).target());
            assertThat(imported.get(0).target().mediaType()).isEqualTo(MediaTypes.DOCKER_MANIFEST);
            ResolvedImage b = f.service.resolve("example.com/b:2");
            assertThat(b.manifest().config().digest()).isEqualTo(configB.digest());
            assertThat(b.layers()).extracting(Descriptor::digest).containsExactly(shared.digest(), top.digest());
            assertThat(b.layers()).extracting(Descriptor::mediaType).containsOnly(MediaTypes.DOCKER_LAYER);
            FileTree tree = unpacked("example.com/b:2");
            assertThat(tree.get("/etc/shared")).isPresent();
            assertThat(tree.get("/etc/top")).isPresent();
            assertThat(tree.get("/etc/base")).isEmpty();
        }

        @Test
        void theSameLayerTwiceInOneImageUnpacksBothTimes() {
            TestLayer add = Hand.layer("x", "x", Compression.NONE);
            TestLayer remove = dev.berth.testing.LayerBuilder.create().whiteout("etc/x").build(Compression.NONE);
            Blob config = Hand.config(MediaTypes.DOCKER_CONFIG, HOST, List.of(add, remove, add), "");
            String id0 = "0".repeat(63) + "1";
            String id1 = "0".repeat(63) + "2";
            String id2 = "0".repeat(63) + "3";
            String manifestJson = "[{\"Config\":\"" + config.hex() + ".json\",\"RepoTags\":[\"twice:1\"],\"Layers\":[\""
                    + id0 + "/layer.tar\",\"" + id1 + "/layer.tar\",\"" + id2 + "/layer.tar\"]}]";
            Tar tar = new Tar().file(id0 + "/layer.tar", add.tar()).file(id1 + "/layer.tar", remove.tar())
                    .symlink(id2 + "/layer.tar", "../" + id0 + "/layer.tar")
                    .file(config.hex() + ".json", config.bytes()).file("manifest.json", manifestJson);

            importBytes(tar.bytes());
            ResolvedImage r = f.service.resolve("twice:1");
            assertThat(r.layers()).extracting(Descriptor::digest).containsExactly(add.digest(), remove.digest(),
                    add.digest());
            UnpackResult u = f.service.unpack("twice:1");

            assertThat(u.chainIds()).hasSize(3).doesNotHaveDuplicates();
            assertThat(u.applied()).isEqualTo(3);
            assertThat(Fixture.tree(sn, u.chainIds().get(1), tmp).get("/etc/x")).isEmpty();
            assertThat(Fixture.tree(sn, u.topChainId(), tmp).get("/etc/x")).isPresent();
        }

        @Test
        void dotSlashEntriesHardlinkedLayersAndAbsoluteSymlinksAreFollowed() {
            Blob config = Hand.config(MediaTypes.DOCKER_CONFIG, HOST, List.of(base, top, base), "");
            String manifestJson = "[{\"Config\":\"" + config.hex() + ".json\",\"RepoTags\":[\"links:1\"],\"Layers\":["
                    + "\"l0/layer.tar\",\"./l1/layer.tar\",\"l2/layer.tar\"]}]";
            Tar tar = new Tar().dir("./").dir("./l0").file("./l0/layer.tar", base.tar()).file("./l1/layer.tar", top.tar())
                    .hardlink("./l2/layer.tar", "./l0/layer.tar")
                    .file("./" + config.hex() + ".json", config.bytes()).file("./manifest.json", manifestJson);
            importBytes(tar.bytes());
            assertThat(f.service.resolve("links:1").layers()).extracting(Descriptor::digest)
                    .containsExactly(base.digest(), top.digest(), base.digest());

            Blob config2 = Hand.config(MediaTypes.DOCKER_CONFIG, HOST, List.of(top), "");
            String manifest2 = "[{\"Config\":\"" + config2.hex() + ".json\",\"RepoTags\":[\"abs:1\"],"
                    + "\"Layers\":[\"x/layer.tar\"]}]";
            importBytes(new Tar().file("y/layer.tar", top.tar()).symlink("x/layer.tar", "/y/layer.tar")
                    .file(config2.hex() + ".json", config2.bytes()).file("manifest.json", manifest2).bytes());
            assertThat(unpacked("abs:1").get("/etc/top")).isPresent();
        }

        @Test
        void aManifestJsonWithBlobPathsButNoOciLayoutIsADockerArchive() {
            Hand.Image img = docker25Image();
            String manifestJson = "[{\"Config\":\"" + img.config().path() + "\",\"RepoTags\":[\"bare:1\"],"
                    + "\"Layers\":[\"" + img.layers().get(0).path() + "\",\"" + img.layers().get(1).path() + "\"]}]";
            importBytes(new Tar().blobs("", img.blobs()).file("manifest.json", manifestJson).bytes());
            ResolvedImage r = f.service.resolve("bare:1");
            assertThat(r.manifest().config().digest()).isEqualTo(img.config().digest());
            assertThat(r.manifestDescriptor().mediaType()).isEqualTo(MediaTypes.DOCKER_MANIFEST);
            assertThat(unpacked("bare:1").get("/etc/top")).isPresent();
        }

        @Test
        void podmanDockerArchiveNamesLayersByTheirDigest() {
            Blob config = Hand.config(MediaTypes.DOCKER_CONFIG, HOST, List.of(base, top), "");
            String manifestJson = "[{\"Config\":\"" + config.hex() + ".json\",\"RepoTags\":[\"localhost/podman-app:latest\"],"
                    + "\"Layers\":[\"" + base.diffId().hex() + ".tar\",\"" + top.diffId().hex() + ".tar\"]}]";
            Tar tar = new Tar().file(base.diffId().hex() + ".tar", base.tar()).file(top.diffId().hex() + ".tar", top.tar())
                    .file(config.hex() + ".json", config.bytes()).file("manifest.json", manifestJson)
                    .file("repositories", "{\"localhost/podman-app\":{\"latest\":\"" + top.diffId().hex() + "\"}}");

            assertThat(importBytes(tar.bytes())).extracting(Image::name).containsExactly("localhost/podman-app:latest");
            assertThat(unpacked("localhost/podman-app:latest").get("/etc/top")).isPresent();
        }

        @Test
        void aLayerFileThatIsNotTheDiffIdIsRejectedNamingIt() {
            Blob config = Hand.config(MediaTypes.DOCKER_CONFIG, HOST, List.of(base), "");
            String manifestJson = "[{\"Config\":\"" + config.hex() + ".json\",\"RepoTags\":[\"bad:1\"],"
                    + "\"Layers\":[\"layer/layer.tar\"]}]";
            Tar tar = new Tar().file("layer/layer.tar", top.tar()).file(config.hex() + ".json", config.bytes())
                    .file("manifest.json", manifestJson);
            assertThatThrownBy(() -> importBytes(tar.bytes())).isInstanceOf(BlobMismatchException.class)
                    .hasMessageContaining("uncompressed layer 0").hasMessageContaining(base.diffId().toString());
            assertNothingRegistered();
        }

        @Test
        void aSymlinkToAMissingLayerIsNotFound() {
            Blob config = Hand.config(MediaTypes.DOCKER_CONFIG, HOST, List.of(base), "");
            String manifestJson = "[{\"Config\":\"" + config.hex() + ".json\",\"RepoTags\":[\"bad:1\"],"
                    + "\"Layers\":[\"x/layer.tar\"]}]";
            Tar tar = new Tar().symlink("x/layer.tar", "../gone/layer.tar").file(config.hex() + ".json", config.bytes())
                    .file("manifest.json", manifestJson);
            assertThatThrownBy(() -> importBytes(tar.bytes())).isInstanceOf(NotFoundException.class)
                    .hasMessageContaining("x/layer.tar").hasMessageContaining("missing");
            assertNothingRegistered();
        }
    }

    @Nested
    class OciArchives {
        @Test
        void skopeoOciArchiveNamesTheImageByItsRefName() {
            TestLayer gz = base.recompressed(Compression.GZIP);
            Hand.Image img = Hand.ociImage(HOST, List.of(gz));
            String index = "{\"schemaVersion\":2,\"manifests\":[" + img.manifest().ref(
                    "\"annotations\":{\"org.opencontainers.image.ref.name\":\"quay.io/team/tool:v1.2\"}") + "]}";
            Tar tar = new Tar().blobs("", img.blobs()).file("index.json", index).ociLayout("");

            assertThat(importBytes(tar.bytes())).extracting(Image::name).containsExactly("quay.io/team/tool:v1.2");
            assertThat(unpacked("quay.io/team/tool:v1.2").get("/etc/base")).isPresent();
        }

        @Test
        void entriesStartingWithDotSlashAreTheSameFiles() {
            Hand.Image img = Hand.ociImage(HOST, List.of(base.recompressed(Compression.ZSTD)));
            String index = "{\"schemaVersion\":2,\"manifests\":[" + img.manifest().ref(
                    "\"annotations\":{\"io.containerd.image.name\":\"example.com/dot:1\"}") + "]}";
            Tar tar = new Tar().dir("./").dir("./blobs/").dir("./blobs/sha256/").blobs("./", img.blobs())
                    .file("./index.json", index).ociLayout("./");

            assertThat(importBytes(tar.bytes())).extracting(Image::name).containsExactly("example.com/dot:1");
            assertThat(f.service.resolve("example.com/dot:1").manifestDescriptor().digest())
                    .isEqualTo(img.manifest().digest());
        }

        @Test
        void ctrExportOfAMultiPlatformImageCarriesOnlyTheExportedPlatform() {
            Hand.Image host = Hand.ociImage(HOST, List.of(base.recompressed(Compression.GZIP)));
            Hand.Image other = Hand.ociImage(OTHER, List.of(top.recompressed(Compression.GZIP)));
            Blob imageIndex = Hand.index(MediaTypes.OCI_INDEX, List.of(host.manifest().ref(Hand.platform(HOST)),
                    other.manifest().ref(Hand.platform(OTHER))), "");
            String index = "{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.index.v1+json\",\"manifests\":["
                    + imageIndex.ref("\"annotations\":{\"io.containerd.image.name\":\"docker.io/library/multi:1\","
                    + "\"org.opencontainers.image.ref.name\":\"1\"}") + "]}";
            String manifestJson = "[{\"Config\":\"" + host.config().path() + "\",\"RepoTags\":[\"docker.io/library/multi:1\"],"
                    + "\"Layers\":[\"" + host.layers().get(0).path() + "\"]}]";
            Tar tar = new Tar().dir("blobs/").dir("blobs/sha256/").blobs("", host.blobs()).blob("", imageIndex)
                    .file("index.json", index).file("manifest.json", manifestJson).ociLayout("");
            byte[] archive = tar.bytes();

            assertThat(importBytes(archive)).extracting(Image::name).containsExactly("docker.io/library/multi:1");
            assertThat(unpacked("multi:1").get("/etc/base")).isPresent();
            assertThatThrownBy(() -> f.service.resolve("multi:1", PlatformMatcher.only(OTHER)))
                    .isInstanceOf(NotFoundException.class).hasMessageContaining(other.manifest().digest().toString());

            f.images.delete("docker.io/library/multi:1");
            assertThatThrownBy(() -> f.service.importArchive(new ByteArrayInputStream(archive),
                    ImportOptions.defaults().allPlatforms()))
                    .isInstanceOf(NotFoundException.class).hasMessageContaining(other.manifest().digest().toString())
                    .hasMessageContaining("missing from the archive");
            assertThat(f.images.list()).isEmpty();
        }

        @Test
        void anArchiveWithOnlyAnIndexOfANestedIndex() {
            Hand.Image host = Hand.ociImage(HOST, List.of(base));
            Blob inner = Hand.index(MediaTypes.OCI_INDEX, List.of(host.manifest().ref(Hand.platform(HOST))), "");
            Blob outer = Hand.index(MediaTypes.OCI_INDEX, List.of(inner.ref()), "");
            String index = "{\"schemaVersion\":2,\"manifests\":[" + outer.ref(
                    "\"annotations\":{\"io.containerd.image.name\":\"example.com/nested:1\"}") + "]}";
            Tar tar = new Tar().blobs("", host.blobs()).blob("", inner).blob("", outer).file("index.json", index)
                    .ociLayout("");

            List<Image> imported = importBytes(tar.bytes());

            assertThat(imported.get(0).target().digest()).isEqualTo(outer.digest());
            assertThat(f.service.resolve("example.com/nested:1").manifestDescriptor().digest())
                    .isEqualTo(host.manifest().digest());
            assertThat(unpacked("example.com/nested:1").get("/etc/base")).isPresent();
        }

        @Test
        void severalNamesForSeveralImagesInOneLayout() {
            Hand.Image one = Hand.ociImage(HOST, List.of(base));
            Hand.Image two = Hand.ociImage(HOST, List.of(top));
            String index = "{\"schemaVersion\":2,\"manifests\":["
                    + one.manifest().ref("\"annotations\":{\"io.containerd.image.name\":\"example.com/one:1\"}") + ","
                    + one.manifest().ref("\"annotations\":{\"io.containerd.image.name\":\"example.com/one:latest\"}") + ","
                    + two.manifest().ref("\"annotations\":{\"org.opencontainers.image.ref.name\":\"example.com/two:2\"}")
                    + "," + two.manifest().ref() + "]}";
            Tar tar = new Tar().blobs("", one.blobs()).blobs("", two.blobs()).file("index.json", index).ociLayout("");

            assertThat(importBytes(tar.bytes())).extracting(Image::name)
                    .containsExactly("example.com/one:1", "example.com/one:latest", "example.com/two:2");
            assertThat(f.service.get("example.com/two:2").target().digest()).isEqualTo(two.manifest().digest());
        }

        @Test
        void anUnsupportedLayoutVersionIsRejected() {
            Hand.Image img = Hand.ociImage(HOST, List.of(base));
            Tar tar = new Tar().blobs("", img.blobs()).file("index.json", "{\"schemaVersion\":2,\"manifests\":[]}")
                    .file("oci-layout", "{\"imageLayoutVersion\":\"2.0.0\"}");
            assertThatThrownBy(() -> importBytes(tar.bytes())).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("2.0.0");
            assertNothingRegistered();
        }

        @Test
        void aBlobWhoseBytesDoNotMatchItsNameIsRejectedBeforeCommit() {
            Hand.Image img = Hand.ociImage(HOST, List.of(base));
            String index = "{\"schemaVersion\":2,\"manifests\":[" + img.manifest().ref(
                    "\"annotations\":{\"io.containerd.image.name\":\"example.com/x:1\"}") + "]}";
            byte[] wrong = "not the config".getBytes(StandardCharsets.UTF_8);
            Tar tar = new Tar().blob("", img.layers().get(0)).file(img.config().path(), wrong)
                    .blob("", img.manifest()).file("index.json", index).ociLayout("");
            assertThatThrownBy(() -> importBytes(tar.bytes())).isInstanceOf(BlobMismatchException.class)
                    .hasMessageContaining(img.config().path());
            assertNothingRegistered();
            assertThat(f.store.list()).extracting(i -> i.digest()).doesNotContain(Digest.sha256(wrong));
        }
    }

    @Test
    void importedBlobsKeepTheirExactBytes() {
        Hand.Image img = docker25Image();
        String index = "{\"schemaVersion\":2,\"manifests\":[" + img.manifest().ref(
                "\"annotations\":{\"io.containerd.image.name\":\"example.com/exact:1\"}") + "]}";
        importBytes(new Tar().blobs("", img.blobs()).file("index.json", index).ociLayout("").bytes());
        for (Blob b : img.blobs()) {
            assertThat(dev.berth.content.Content.readBlob(f.store, b.descriptor())).isEqualTo(b.bytes());
        }
        assertThat(f.service.get("example.com/exact:1").labels()).isEqualTo(Map.of());
    }
}

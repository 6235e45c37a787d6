package dev.berth.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.api.Digest;
import dev.berth.api.MediaTypes;
import dev.berth.api.MediaTypes.Compression;
import dev.berth.api.Platform;
import dev.berth.testing.FileTree.Type;
import dev.berth.testing.TarReading.Read;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class BusyboxTest {
    @TempDir
    Path tmp;

    @Test
    void layerHoldsExecutableBusyboxAndAppletSymlinks() throws IOException {
        Map<String, Read> byName = TarReading.read(Busybox.layer().tar()).stream()
                .collect(Collectors.toMap(r -> r.entry().getName(), r -> r, (a, b) -> b));

        Read busybox = byName.get("bin/busybox");
        assertThat(busybox.content()).isEqualTo(Files.readAllBytes(Busybox.BINARY));
        assertThat(busybox.entry().getMode()).isEqualTo(0755);
        assertThat(byName.get("bin/sh").entry().isSymbolicLink()).isTrue();
        assertThat(byName.get("bin/sh").entry().getLinkName()).isEqualTo("busybox");
        assertThat(Busybox.applets()).contains("sh", "ls", "cat", "echo", "[").doesNotContain("busybox")
                .hasSizeGreaterThan(100);
        assertThat(byName.get("tmp/").entry().getMode()).isEqualTo(01777);
        assertThat(byName.get("root/").entry().getMode()).isEqualTo(0700);
        assertThat(byName.get("home/app/").entry().getLongUserId()).isEqualTo(1000);
        assertThat(new String(byName.get("etc/passwd").content()))
                .contains("root:x:0:0:", "nobody:x:65534:65534:", "app:x:1000:1000:app:/home/app:/bin/sh");
        assertThat(new String(byName.get("etc/group").content())).contains("app:x:1000:");
    }

    @Test
    void imageRunsShellFromPathAndComesInEveryCompression() throws IOException {
        TestImage gzip = Busybox.image();
        JsonNode config = new ObjectMapper().readTree(gzip.configBytes());

        assertThat(config.get("config").get("Entrypoint")).extracting(JsonNode::asText).containsExactly("/bin/sh");
        assertThat(config.get("config").get("Env").get(0).asText()).startsWith("PATH=").contains("/bin");
        assertThat(config.get("architecture").asText()).isEqualTo(Platform.host().architecture());
        assertThat(gzip.layerDescriptors()).extracting(d -> d.mediaType()).containsExactly(MediaTypes.OCI_LAYER_GZIP);
        assertThat(Busybox.image(Compression.ZSTD).layerDescriptors().get(0).mediaType())
                .isEqualTo(MediaTypes.OCI_LAYER_ZSTD);
        assertThat(Busybox.image(Compression.NONE).layerDescriptors().get(0).mediaType())
                .isEqualTo(MediaTypes.OCI_LAYER);
        assertThat(List.of(Compression.NONE, Compression.GZIP, Compression.ZSTD))
                .extracting(c -> Busybox.image(c).diffIds()).containsOnly(gzip.diffIds());
        assertThat(Busybox.image()).isSameAs(gzip);
        assertThat(Busybox.layer().digest()).isEqualTo(Digest.sha256(Busybox.layer().blob()));
    }

    @Test
    void multiPlatformIndexListsHostBusyboxAndAnotherPlatform() throws IOException {
        TestIndex index = Busybox.multiPlatformIndex();

        assertThat(index.manifests()).hasSize(2);
        assertThat(index.manifests().get(0).digest()).isEqualTo(Busybox.image().descriptor().digest());
        assertThat(index.manifests().get(0).platform()).isEqualTo(Platform.host());
        TestImage other = index.images().get(1);
        assertThat(index.manifests().get(1).platform().architecture())
                .isIn("amd64", "arm64").isNotEqualTo(Platform.host().architecture());
        assertThat(TarReading.read(other.layers().get(0).tar())).singleElement()
                .satisfies(r -> assertThat(new String(r.content())).isEqualTo(other.platform() + "\n"));
    }

    @Test
    void populateWritesTheSameTreeWithOwnersModesAndMtimes() {
        Path rootfs = tmp.resolve("rootfs");
        Busybox.populate(rootfs);
        FileTree tree = FileTree.scan(rootfs);

        FileTree.Entry busybox = tree.get("/bin/busybox").orElseThrow();
        assertThat(busybox.type()).isEqualTo(Type.REGULAR);
        assertThat(busybox.mode()).isEqualTo(0755);
        assertThat(busybox.content()).isEqualTo(Digest.sha256(Busybox.entries().get(1).content()));
        FileTree.Entry sh = tree.get("/bin/sh").orElseThrow();
        assertThat(sh.type()).isEqualTo(Type.SYMLINK);
        assertThat(sh.linkTarget()).isEqualTo("busybox");
        assertThat(sh.mtime()).isEqualTo(TarEntry.DEFAULT_MTIME);
        assertThat(tree.get("/tmp").orElseThrow().mode()).isEqualTo(01777);
        assertThat(tree.get("/home/app").orElseThrow().uid()).isEqualTo(Busybox.APP_UID);
        assertThat(tree.get("/home/app").orElseThrow().gid()).isEqualTo(Busybox.APP_GID);
        assertThat(tree.get("/etc").orElseThrow().mtime()).isEqualTo(TarEntry.DEFAULT_MTIME);
        assertThat(tree.withoutRoot().entries()).hasSize(Busybox.entries().size());
    }

    @Test
    void populateTwiceGivesIdenticalTrees() {
        Busybox.populate(tmp.resolve("a"));
        Busybox.populate(tmp.resolve("b"));
        Busybox.populate(tmp.resolve("b"));

        assertThat(FileTree.scan(tmp.resolve("a")).withoutRoot()
                .diffReport(FileTree.scan(tmp.resolve("b")).withoutRoot())).isEmpty();
    }
}

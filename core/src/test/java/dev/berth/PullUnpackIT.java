package dev.berth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.MediaTypes.Compression;
import dev.berth.api.Mount;
import dev.berth.api.snapshot.Snapshotter;
import dev.berth.content.LocalContentStore;
import dev.berth.image.ImageService;
import dev.berth.image.InMemoryImageStore;
import dev.berth.image.UnpackResult;
import dev.berth.registry.Credentials;
import dev.berth.registry.ProgressListener;
import dev.berth.registry.PullOptions;
import dev.berth.registry.PullResult;
import dev.berth.registry.PushOptions;
import dev.berth.registry.RegistryClient;
import dev.berth.snapshot.Snapshotters;
import dev.berth.testing.Busybox;
import dev.berth.testing.FileTree;
import dev.berth.testing.LayerBuilder;
import dev.berth.testing.OciLayout;
import dev.berth.testing.TestImage;
import dev.berth.testing.TestRegistry;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pull with unpack: the tree equals the one the same image gives when imported from an OCI archive. */
class PullUnpackIT {
    @TempDir
    Path tmp;

    private TestRegistry registry;

    @BeforeEach
    void start() throws Exception {
        assertThat(TestRegistry.available()).as("docker-registry unpacked by scripts/install-deps").isTrue();
        registry = TestRegistry.create(tmp.resolve("registry")).start();
    }

    @AfterEach
    void stop() throws Exception {
        if (registry != null) {
            registry.close();
        }
    }

    private static FileTree tree(Snapshotter sn, Digest chainId) {
        String key = "view-" + UUID.randomUUID();
        List<Mount> mounts = sn.view(key, chainId.toString());
        try {
            assertThat(mounts).singleElement().extracting(Mount::type).isEqualTo("bind");
            return FileTree.scan(Path.of(mounts.get(0).source())).withoutRoot();
        } finally {
            sn.remove(key);
        }
    }

    @Test
    void pulledAndUnpackedTreeEqualsTheImportedOne() {
        TestImage image = Busybox.imageBuilder(Busybox.layer(Compression.GZIP))
                .layer(LayerBuilder.create().file("etc/motd", "hello").whiteout("bin/vi").opaque("tmp")
                        .file("tmp/fresh", "f").build(Compression.ZSTD))
                .build();
        Path archive = tmp.resolve("image.tar");
        OciLayout.builder().image("local/app:1", image).writeTar(archive);

        FileTree imported;
        try (LocalContentStore store = LocalContentStore.open(tmp.resolve("import-content"));
             Snapshotter sn = Snapshotters.nativeSnapshotter(tmp.resolve("import-snapshots"));
             ImageService images = ImageService.builder(store).imageStore(new InMemoryImageStore()).snapshotter(sn)
                     .build()) {
            images.importArchive(archive);
            UnpackResult unpacked = images.unpack("local/app:1");
            imported = tree(sn, unpacked.topChainId());
            try (RegistryClient client = RegistryClient.builder(store).credentials(Credentials.none()).build()) {
                client.push(registry.host() + "/berth/unpack:v1", image.descriptor(), PushOptions.defaults());
            }
        }

        List<String> events = new CopyOnWriteArrayList<>();
        ProgressListener listener = new ProgressListener() {
            @Override
            public void layerUnpacked(Descriptor layer) {
                events.add("unpacked " + layer.digest());
            }

            @Override
            public void done(String reference, Descriptor target) {
                events.add("finished " + target.digest());
            }
        };
        try (LocalContentStore store = LocalContentStore.open(tmp.resolve("pull-content"));
             Snapshotter sn = Snapshotters.nativeSnapshotter(tmp.resolve("pull-snapshots"));
             ImageService images = ImageService.builder(store).imageStore(new InMemoryImageStore()).snapshotter(sn)
                     .build();
             RegistryClient client = RegistryClient.builder(store).credentials(Credentials.none()).build()) {
            PullResult result = client.pull(registry.host() + "/berth/unpack:v1", PullOptions.builder()
                    .unpacker(new SnapshotUnpacker(images, sn)).progress(listener).build());

            assertThat(result.target().digest()).isEqualTo(image.descriptor().digest());
            List<Digest> chain = image.chainIds();
            FileTree pulled = tree(sn, chain.get(chain.size() - 1));
            assertThat(pulled.diffReport(imported, FileTree.Attribute.DIRECTORY_MTIME)).isEmpty();
            assertThat(pulled.get("/etc/motd")).isPresent();
            assertThat(pulled.get("/bin/vi")).isEmpty();
        }
        for (var layer : image.layers()) {
            assertThat(events).contains("unpacked " + layer.digest());
        }
        assertThat(events.get(events.size() - 1)).startsWith("finished ");
    }
}

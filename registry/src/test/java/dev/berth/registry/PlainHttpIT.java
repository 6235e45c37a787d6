package dev.berth.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.Labels;
import dev.berth.api.MediaTypes;
import dev.berth.api.NotFoundException;
import dev.berth.api.Platform;
import dev.berth.api.PlatformMatcher;
import dev.berth.content.LocalContentStore;
import dev.berth.testing.Busybox;
import dev.berth.testing.LabelledStore;
import dev.berth.testing.LayerBuilder;
import dev.berth.testing.TestImage;
import dev.berth.testing.TestImageBuilder;
import dev.berth.testing.TestIndex;
import dev.berth.testing.TestLayer;
import dev.berth.testing.TestRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Push and pull against a plain-HTTP docker-registry on 127.0.0.1. */
class PlainHttpIT {
    private static TestRegistry registry;
    @TempDir
    static Path registryDir; // JUnit deletes it after @AfterAll has stopped the registry

    @TempDir
    Path tmp;

    @BeforeAll
    static void startRegistry() throws Exception {
        assertThat(TestRegistry.available()).as("docker-registry unpacked by scripts/install-deps").isTrue();
        registry = TestRegistry.create(registryDir).start();
    }

    @AfterAll
    static void stopRegistry() throws Exception {
        if (registry != null) {
            registry.close();
        }
    }

    private String ref(String repoAndTag) {
        return registry.host() + "/" + repoAndTag;
    }

    private LocalContentStore pushed(String repoAndTag, dev.berth.testing.ImageContent image) {
        LocalContentStore source = Fixtures.store(tmp.resolve("source-" + repoAndTag.replaceAll("[/:]", "_")));
        Fixtures.load(source, image);
        try (RegistryClient client = Fixtures.client(source).build()) {
            Descriptor target = image instanceof TestImage i ? i.descriptor() : ((TestIndex) image).descriptor();
            client.push(ref(repoAndTag), target, PushOptions.defaults());
        }
        return source;
    }

    @Nested
    class RoundTrip {
        @Test
        void pushThenPullStoresEveryBlobWithTheSameDigests() {
            TestImage image = Fixtures.twoLayerImage();
            pushed("berth/roundtrip:v1", image);
            try (LocalContentStore dest = Fixtures.store(tmp.resolve("dest"));
                 RegistryClient client = Fixtures.client(dest).build()) {
                PullResult result = client.pull(ref("berth/roundtrip:v1"), PullOptions.defaults());

                assertThat(result.name()).isEqualTo(ref("berth/roundtrip:v1"));
                assertThat(result.target().digest()).isEqualTo(image.descriptor().digest());
                assertThat(result.target().mediaType()).isEqualTo(MediaTypes.OCI_MANIFEST);
                assertThat(result.manifests()).extracting(Descriptor::digest)
                        .containsExactly(image.descriptor().digest());
                for (Digest d : image.blobs().keySet()) {
                    assertThat(dest.verify(d).size()).isEqualTo(image.blobs().get(d).length);
                }
                assertThat(result.bytesFetched()).isEqualTo(Fixtures.totalSize(image));
                assertThat(dest.listStatuses()).isEmpty();
            }
        }

        @Test
        void secondPullFetchesNothing() {
            TestImage image = Busybox.image();
            pushed("berth/again:v1", image);
            try (LocalContentStore dest = Fixtures.store(tmp.resolve("dest"));
                 RegistryClient client = Fixtures.client(dest).build()) {
                client.pull(ref("berth/again:v1"), PullOptions.defaults());
                RecordingListener listener = new RecordingListener();
                PullResult again = client.pull(ref("berth/again:v1"),
                        PullOptions.builder().progress(listener).build());

                assertThat(again.bytesFetched()).isZero();
                assertThat(listener.events).contains("skipped " + image.layers().get(0).digest())
                        .noneMatch(e -> e.startsWith("started"));
            }
        }

        @Test
        void oneClientWithoutAStoreOfItsOwnServesAStorePerCall() {
            TestImage image = Fixtures.twoLayerImage();
            try (LocalContentStore source = Fixtures.store(tmp.resolve("per-call-source"));
                 LocalContentStore first = Fixtures.store(tmp.resolve("per-call-first"));
                 LocalContentStore second = Fixtures.store(tmp.resolve("per-call-second"));
                 RegistryClient client = RegistryClient.builder().credentials(Credentials.none()).build()) {
                Fixtures.load(source, image);
                client.push(ref("berth/per-call:v1"), image.descriptor(),
                        PushOptions.builder().contentStore(source).build());

                client.pull(ref("berth/per-call:v1"), PullOptions.builder().contentStore(first).build());
                PullResult again = client.pull(ref("berth/per-call:v1"),
                        PullOptions.builder().contentStore(second).build());

                for (Digest d : image.blobs().keySet()) {
                    assertThat(first.verify(d).size()).isEqualTo(image.blobs().get(d).length);
                    assertThat(second.verify(d).size()).isEqualTo(image.blobs().get(d).length);
                }
                assertThat(again.bytesFetched()).as("the second store lacked every blob")
                        .isEqualTo(Fixtures.totalSize(image));
            }
        }

        @Test
        void chunkedPushIsPulledBackIntact() {
            TestImage image = Fixtures.twoLayerImage();
            LocalContentStore source = Fixtures.store(tmp.resolve("source"));
            Fixtures.load(source, image);
            try (RegistryClient client = Fixtures.client(source).build()) {
                client.push(ref("berth/chunked:v1"), image.descriptor(),
                        PushOptions.builder().chunkSize(256 << 10).build());
            }
            try (LocalContentStore dest = Fixtures.store(tmp.resolve("dest"));
                 RegistryClient client = Fixtures.client(dest).build()) {
                client.pull(ref("berth/chunked:v1"), PullOptions.defaults());
                assertThat(dest.verify(Fixtures.bigLayer(image).digest()).size())
                        .isEqualTo(Fixtures.bigLayer(image).size());
            }
        }

        @Test
        void dockerMediaTypesRoundTrip() {
            TestImage image = Busybox.imageBuilder(Busybox.layer()).dockerMediaTypes().build();
            pushed("berth/docker:v1", image);
            try (LocalContentStore dest = Fixtures.store(tmp.resolve("dest"));
                 RegistryClient client = Fixtures.client(dest).build()) {
                Resolved resolved = client.resolve(ref("berth/docker:v1"));
                assertThat(resolved.target().mediaType()).isEqualTo(MediaTypes.DOCKER_MANIFEST);
                PullResult result = client.pull(ref("berth/docker:v1"), PullOptions.defaults());
                assertThat(result.target().digest()).isEqualTo(image.descriptor().digest());
                assertThat(Fixtures.has(dest, image.config().digest())).isTrue();
            }
        }
    }

    @Nested
    class Resolve {
        @Test
        void tagResolvesToTheManifestDescriptor() {
            TestImage image = Busybox.image();
            pushed("berth/resolve:v1", image);
            try (LocalContentStore store = Fixtures.store(tmp.resolve("s"));
                 RegistryClient client = Fixtures.client(store).build()) {
                Resolved r = client.resolve(ref("berth/resolve:v1"));
                assertThat(r.target()).isEqualTo(new Descriptor(MediaTypes.OCI_MANIFEST, image.descriptor().digest(),
                        image.descriptor().size()));
                assertThat(r.name()).isEqualTo(ref("berth/resolve:v1"));
            }
        }

        @Test
        void digestReferenceResolvesAndPulls() {
            TestImage image = Busybox.image();
            pushed("berth/bydigest:v1", image);
            String byDigest = ref("berth/bydigest@" + image.descriptor().digest());
            try (LocalContentStore store = Fixtures.store(tmp.resolve("s"));
                 RegistryClient client = Fixtures.client(store).build()) {
                assertThat(client.resolve(byDigest).target().digest()).isEqualTo(image.descriptor().digest());
                PullResult result = client.pull(byDigest, PullOptions.defaults());
                assertThat(result.name()).isEqualTo(byDigest);
            }
        }

        @Test
        void missingTagIsNotFoundNamingTheReference() {
            pushed("berth/tags:v1", Busybox.image());
            try (LocalContentStore store = Fixtures.store(tmp.resolve("s"));
                 RegistryClient client = Fixtures.client(store).build()) {
                assertThatThrownBy(() -> client.pull(ref("berth/tags:nope"), PullOptions.defaults()))
                        .isInstanceOf(NotFoundException.class)
                        .hasMessageContaining(ref("berth/tags:nope"));
                assertThatThrownBy(() -> client.resolve(ref("berth/never-pushed:latest")))
                        .isInstanceOf(NotFoundException.class)
                        .hasMessageContaining(ref("berth/never-pushed:latest"));
                assertThat(store.list()).isEmpty();
            }
        }
    }

    @Nested
    class Platforms {
        @Test
        void indexPullFetchesOnlyTheHostPlatformByDefault() {
            TestIndex index = Busybox.multiPlatformIndex();
            pushed("berth/multi:v1", index);
            TestImage host = index.images().get(0);
            TestImage foreign = index.images().get(1);
            try (LocalContentStore store = Fixtures.store(tmp.resolve("s"));
                 RegistryClient client = Fixtures.client(store).build()) {
                PullResult result = client.pull(ref("berth/multi:v1"), PullOptions.defaults());

                assertThat(result.target().mediaType()).isEqualTo(MediaTypes.OCI_INDEX);
                assertThat(result.manifests()).extracting(Descriptor::digest)
                        .containsExactly(host.descriptor().digest());
                assertThat(Fixtures.has(store, host.layers().get(0).digest())).isTrue();
                assertThat(Fixtures.has(store, foreign.descriptor().digest())).isFalse();
                assertThat(Fixtures.has(store, foreign.layers().get(0).digest())).isFalse();
            }
        }

        @Test
        void allPlatformsFetchesEveryEntry() {
            TestIndex index = Busybox.multiPlatformIndex();
            pushed("berth/multi-all:v1", index);
            try (LocalContentStore store = Fixtures.store(tmp.resolve("s"));
                 RegistryClient client = Fixtures.client(store).build()) {
                PullResult result = client.pull(ref("berth/multi-all:v1"),
                        PullOptions.builder().allPlatforms().build());
                assertThat(result.manifests()).hasSize(2);
                for (TestImage image : index.images()) {
                    assertThat(Fixtures.has(store, image.layers().get(0).digest())).isTrue();
                }
            }
        }

        @Test
        void unmatchedPlatformIsNotFoundListingWhatIsOffered() {
            TestIndex index = Busybox.multiPlatformIndex();
            pushed("berth/multi-none:v1", index);
            try (LocalContentStore store = Fixtures.store(tmp.resolve("s"));
                 RegistryClient client = Fixtures.client(store).build()) {
                assertThatThrownBy(() -> client.pull(ref("berth/multi-none:v1"), PullOptions.builder()
                        .platforms(PlatformMatcher.onlyStrict(new Platform("windows", "amd64"))).build()))
                        .isInstanceOf(NotFoundException.class)
                        .hasMessageContaining("linux/");
            }
        }
    }

    @Nested
    class SharedBlobs {
        @Test
        void aLayerListedTwiceIsFetchedOnce() {
            TestLayer layer = LayerBuilder.create().file("same", "x".repeat(10000)).build();
            TestImage image = TestImageBuilder.create().layer(layer).layer(layer).build();
            pushed("berth/twice:v1", image);
            try (LocalContentStore store = Fixtures.store(tmp.resolve("s"));
                 RegistryClient client = Fixtures.client(store).build()) {
                RecordingListener listener = new RecordingListener();
                PullResult result = client.pull(ref("berth/twice:v1"),
                        PullOptions.builder().progress(listener).build());
                assertThat(listener.startsOf(layer.digest())).hasSize(1);
                assertThat(result.bytesFetched()).isEqualTo(image.bytes().length + image.configBytes().length
                        + layer.blob().length);
            }
        }

        @Test
        void concurrentPullsOfOneImageDownloadEachBlobOnce() throws Exception {
            TestImage image = Fixtures.twoLayerImage();
            pushed("berth/concurrent:v1", image);
            try (LocalContentStore store = Fixtures.store(tmp.resolve("s"));
                 RegistryClient client = Fixtures.client(store).build()) {
                ExecutorService pool = Executors.newFixedThreadPool(3);
                List<Future<PullResult>> futures = new ArrayList<>();
                for (int i = 0; i < 3; i++) {
                    futures.add(pool.submit(() -> client.pull(ref("berth/concurrent:v1"), PullOptions.defaults())));
                }
                long total = 0;
                for (Future<PullResult> f : futures) {
                    total += f.get().bytesFetched();
                }
                pool.shutdown();
                long manifestBytes = image.bytes().length;
                // every pull may read the small manifest before another commits it; blobs move once
                assertThat(total - Fixtures.totalSize(image)).isBetween(0L, 2 * manifestBytes);
                assertThat(store.listStatuses()).isEmpty();
            }
        }
    }

    @Nested
    class LabelsAndMounts {
        @Test
        void pullLabelsParentsWithChildrenAndBlobsWithTheirSource() {
            TestImage image = Fixtures.twoLayerImage();
            pushed("berth/labels:v1", image);
            LabelledStore store = new LabelledStore(Fixtures.store(tmp.resolve("s")));
            try (store; RegistryClient client = Fixtures.client(store).build()) {
                client.pull(ref("berth/labels:v1"), PullOptions.defaults());

                var manifestLabels = store.labels(image.descriptor().digest());
                assertThat(manifestLabels).containsEntry(Labels.GC_REF_CONTENT + ".config",
                        image.config().digest().toString());
                for (int i = 0; i < image.layers().size(); i++) {
                    assertThat(manifestLabels).containsEntry(Labels.GC_REF_CONTENT + ".l." + i,
                            image.layers().get(i).digest().toString());
                }
                for (Digest d : image.blobs().keySet()) {
                    assertThat(store.labels(d)).containsEntry(Labels.DISTRIBUTION_SOURCE + registry.host(),
                            "berth/labels");
                }
            }
        }

        @Test
        void indexGetsManifestLabels() {
            TestIndex index = Busybox.multiPlatformIndex();
            pushed("berth/index-labels:v1", index);
            LabelledStore store = new LabelledStore(Fixtures.store(tmp.resolve("s")));
            try (store; RegistryClient client = Fixtures.client(store).build()) {
                client.pull(ref("berth/index-labels:v1"), PullOptions.defaults());
                assertThat(store.labels(index.descriptor().digest()))
                        .containsEntry(Labels.GC_REF_CONTENT + ".m.0", index.manifests().get(0).digest().toString())
                        .containsEntry(Labels.GC_REF_CONTENT + ".m.1", index.manifests().get(1).digest().toString());
            }
        }

        @Test
        void pushToAnotherRepositoryMountsInsteadOfUploading() {
            TestImage image = Fixtures.twoLayerImage();
            pushed("berth/mount-source:v1", image);
            LabelledStore store = new LabelledStore(Fixtures.store(tmp.resolve("s")));
            try (store; RegistryClient client = Fixtures.client(store).build()) {
                client.pull(ref("berth/mount-source:v1"), PullOptions.defaults());
                RecordingListener listener = new RecordingListener();
                client.push(ref("berth/mount-target:v1"), image.descriptor(),
                        PushOptions.builder().progress(listener).build());

                for (TestLayer layer : image.layers()) {
                    assertThat(listener.startsOf(layer.digest())).as("layer %s uploaded", layer.digest()).isEmpty();
                    assertThat(listener.events).contains("verified " + layer.digest());
                }
                PullResult back = client.pull(ref("berth/mount-target:v1"), PullOptions.defaults());
                assertThat(back.target().digest()).isEqualTo(image.descriptor().digest());
            }
        }
    }

    @Nested
    class Progress {
        @Test
        void eventsCoverEveryBlobAndEndWithDone() {
            TestImage image = Fixtures.twoLayerImage();
            pushed("berth/progress:v1", image);
            Digest big = Fixtures.bigLayer(image).digest();
            RecordingListener listener = new RecordingListener(big);
            try (LocalContentStore store = Fixtures.store(tmp.resolve("s"));
                 RegistryClient client = Fixtures.client(store).progress(listener).build()) {
                client.pull(ref("berth/progress:v1"), PullOptions.defaults());
            }
            assertThat(listener.events.get(0)).isEqualTo("resolved " + image.descriptor().digest());
            assertThat(listener.events.get(listener.events.size() - 1))
                    .isEqualTo("finished " + image.descriptor().digest());
            for (Digest d : image.blobs().keySet()) {
                assertThat(listener.events).contains("started " + d + " 0", "done " + d, "verified " + d);
                assertThat(listener.events.indexOf("done " + d)).isLessThan(listener.events.indexOf("verified " + d));
            }
            assertThat(listener.progressOfBig).isSorted().last().isEqualTo(Fixtures.bigLayer(image).size());
        }
    }

    @Nested
    class Corruption {
        @Test
        void blobThatDoesNotMatchItsDigestIsRejectedAndNotStored() throws Exception {
            TestLayer layer = LayerBuilder.create().file("corrupt-me", "payload ".repeat(5000)).build();
            TestImage image = TestImageBuilder.create().layer(layer).build();
            pushed("berth/corrupt:v1", image);
            Path data = registry.blobData(layer.digest());
            byte[] bytes = Files.readAllBytes(data);
            bytes[bytes.length / 2] ^= 0x55;
            Files.write(data, bytes);
            try (LocalContentStore store = Fixtures.store(tmp.resolve("s"));
                 RegistryClient client = Fixtures.client(store).build()) {
                assertThatThrownBy(() -> client.pull(ref("berth/corrupt:v1"), PullOptions.defaults()))
                        .isInstanceOf(FailedPreconditionException.class)
                        .hasMessageContaining(layer.digest().toString());
                assertThat(Fixtures.has(store, layer.digest())).isFalse();
                assertThat(store.listStatuses()).isEmpty();
            } finally {
                bytes[bytes.length / 2] ^= 0x55;
                Files.write(data, bytes);
            }
        }
    }

}

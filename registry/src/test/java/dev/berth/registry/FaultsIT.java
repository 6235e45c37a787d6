package dev.berth.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.berth.api.CanceledException;
import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.NotFoundException;
import dev.berth.api.UnavailableException;
import dev.berth.api.content.Status;
import dev.berth.api.oci.image.OciJson;
import dev.berth.content.Content;
import dev.berth.content.LocalContentStore;
import dev.berth.testing.TestImage;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** Broken connections, a registry that goes away, stalls: pulls fail clearly and resume. */
class FaultsIT extends ThroughFaultProxy {
    @Override
    String repository() {
        return "berth/faults:v1";
    }

    @Test
    void connectionCutMidBlobIsResumedWithRangeAndVerified() {
        proxy.arm(FaultProxy.Fault.CUT, big.size() / 2, 2);
        RecordingListener listener = new RecordingListener(big.digest());
        try (LocalContentStore store = Fixtures.store(tmp.resolve("dest"));
             RegistryClient client = Fixtures.client(store).maxConcurrentDownloads(1).build()) {
            PullResult result = client.pull(viaProxy(), PullOptions.builder().progress(listener).build());

            assertThat(store.verify(big.digest()).size()).isEqualTo(big.size());
            assertThat(result.target().digest()).isEqualTo(image.descriptor().digest());
            List<String> starts = listener.startsOf(big.digest());
            assertThat(starts).hasSizeGreaterThanOrEqualTo(2);
            assertThat(starts.get(0)).endsWith(" 0");
            assertThat(starts.get(1)).doesNotEndWith(" 0");
            assertThat(proxy.requestHeads()).anyMatch(h -> h.contains("/blobs/" + big.digest())
                    && h.toLowerCase().contains("range: bytes="));
            // bytes before the cut are not downloaded twice
            assertThat(result.bytesFetched()).isLessThan(Fixtures.totalSize(image) + big.size() / 2);
        }
    }

    @Test
    void registryStoppedMidPullFailsClearlyCommitsNothingAndTheRerunResumes() throws Exception {
        proxy.arm(FaultProxy.Fault.CUT, big.size() / 2, 1).onFault(() -> {
            try {
                registry.stop();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        Path storeDir = tmp.resolve("dest");
        try (LocalContentStore store = Fixtures.store(storeDir);
             RegistryClient client = Fixtures.client(store).retries(2).maxConcurrentDownloads(1).build()) {
            assertThatThrownBy(() -> client.pull(viaProxy(), PullOptions.defaults()))
                    .isInstanceOf(UnavailableException.class)
                    .hasMessageContaining(big.digest().toString())
                    .hasMessageContaining(proxy.host());
            assertThat(Fixtures.has(store, big.digest())).isFalse();
            List<Status> ingests = store.listStatuses();
            assertThat(ingests).extracting(Status::ref).contains("layer-" + big.digest());
            long kept = ingests.stream().filter(s -> s.ref().equals("layer-" + big.digest())).findFirst()
                    .orElseThrow().offset();
            assertThat(kept).isPositive().isLessThan(big.size());
        }
        registry.start();
        try (LocalContentStore store = Fixtures.store(storeDir);
             RegistryClient client = Fixtures.client(store).build()) {
            RecordingListener listener = new RecordingListener();
            PullResult rerun = client.pull(viaProxy(), PullOptions.builder().progress(listener).build());
            assertThat(store.verify(big.digest()).size()).isEqualTo(big.size());
            assertThat(listener.startsOf(big.digest())).singleElement().asString().doesNotEndWith(" 0");
            assertThat(rerun.bytesFetched()).isLessThan(Fixtures.totalSize(image));
            assertThat(store.listStatuses()).isEmpty();
        }
    }

    @Test
    void stalledBlobIsAbortedWithATypedErrorAndTheNextPullResumes() {
        proxy.arm(FaultProxy.Fault.STALL, big.size() / 3, 1);
        Path storeDir = tmp.resolve("dest");
        try (LocalContentStore store = Fixtures.store(storeDir);
             RegistryClient client = Fixtures.client(store).stallTimeout(Duration.ofMillis(700)).build()) {
            assertThatThrownBy(() -> client.pull(viaProxy(), PullOptions.defaults()))
                    .isInstanceOfSatisfying(TransferStalledException.class, e -> {
                        assertThat(e.blob()).isEqualTo(big.digest());
                        assertThat(e.stalledFor()).isGreaterThanOrEqualTo(Duration.ofMillis(700));
                    })
                    .hasMessageContaining(big.digest().toString())
                    .hasMessageContaining("700 ms");
            assertThat(Fixtures.has(store, big.digest())).isFalse();

            PullResult again = client.pull(viaProxy(), PullOptions.defaults());
            assertThat(store.verify(big.digest()).size()).isEqualTo(big.size());
            assertThat(again.bytesFetched()).isLessThan(big.size());
        }
    }

    @Test
    void layersAreUnpackedWhileLaterOnesDownloadAndAFailedDownloadIsWhatThePullReports() throws Exception {
        assertThat(image.layerDescriptors().indexOf(big)).as("the big layer is the top one").isEqualTo(1);
        Descriptor base = image.layerDescriptors().get(0);
        proxy.arm(FaultProxy.Fault.STALL, big.size() / 3, 1);
        try (LocalContentStore store = Fixtures.store(tmp.resolve("dest"));
             RegistryClient client = Fixtures.client(store).stallTimeout(Duration.ofSeconds(4)).build()) {
            // an unpacker that "applies" a layer by reading its blob once the gate lets it
            List<Digest> applied = new CopyOnWriteArrayList<>();
            PullUnpacker unpacker = (name, manifest, layers, layerUnpacked) -> {
                for (Descriptor layer : OciJson.parseManifest(Content.readBlob(store, manifest)).layers()) {
                    try {
                        layers.await(layer);
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                        throw new CanceledException("unpack interrupted", e);
                    }
                    assertThat(store.verify(layer.digest()).size()).isEqualTo(layer.size());
                    applied.add(layer.digest());
                    layerUnpacked.accept(layer);
                }
            };
            PullOptions options = PullOptions.builder().unpacker(unpacker).build();
            CompletableFuture<PullResult> pull = CompletableFuture.supplyAsync(() -> client.pull(viaProxy(), options));

            // the top layer's download is held by the proxy, yet the layer below it gets applied
            await().atMost(Duration.ofSeconds(30)).until(() -> !applied.isEmpty() || pull.isDone());
            assertThat(applied).as("base layer applied while the top layer downloads").containsExactly(base.digest());
            assertThat(Fixtures.has(store, big.digest())).isFalse();

            assertThatThrownBy(pull::join).hasCauseInstanceOf(TransferStalledException.class)
                    .hasMessageContaining(big.digest().toString());
            assertThat(applied).containsExactly(base.digest());

            applied.clear();
            client.pull(viaProxy(), options);
            assertThat(applied).containsExactly(base.digest(), big.digest());
        }
    }
}

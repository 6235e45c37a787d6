package dev.berth.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.CanceledException;
import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.Digester;
import dev.berth.api.UnavailableException;
import dev.berth.api.content.Status;
import dev.berth.api.oci.image.OciJson;
import dev.berth.content.Content;
import dev.berth.content.LocalContentStore;
import dev.berth.testing.TestImage;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/**
 * The layer streams a pull with an unpacker offers ({@link dev.berth.api.image.LayerGate#stream}): they
 * carry the blob's exact bytes across a connection cut and the resume that follows, and a pull that
 * breaks mid-layer hands the unpack a failure, not an end; the next pull resumes.
 */
class StreamedLayersIT extends ThroughFaultProxy {
    @Override
    String repository() {
        return "berth/streamed:v1";
    }

    /** What an unpack read of each layer: the digest of the streamed bytes, or the stream's failure. */
    private static final class Reading implements PullUnpacker {
        final LocalContentStore store;
        final Map<Digest, Object> streamed = new ConcurrentHashMap<>();
        /** Counted down once the big layer's stream was asked for. */
        final CountDownLatch bigAsked = new CountDownLatch(1);
        final Digest bigDigest;

        Reading(LocalContentStore store, Digest bigDigest) {
            this.store = store;
            this.bigDigest = bigDigest;
        }

        @Override
        public void unpack(String name, Descriptor manifest, dev.berth.api.image.LayerGate layers,
                           java.util.function.Consumer<Descriptor> layerUnpacked) {
            try {
                for (Descriptor layer : OciJson.parseManifest(Content.readBlob(store, manifest)).layers()) {
                    InputStream stream = layers.stream(layer);
                    if (layer.digest().equals(bigDigest)) {
                        bigAsked.countDown();
                    }
                    try (InputStream in = stream) {
                        if (in != null) {
                            Digester d = Digester.of(layer.digest().algorithm());
                            byte[] buf = new byte[1 << 16];
                            for (int n; (n = in.read(buf)) >= 0; ) {
                                d.update(buf, 0, n);
                            }
                            streamed.put(layer.digest(), d.digest());
                        }
                    } catch (IOException e) {
                        streamed.put(layer.digest(), e);
                    }
                    layers.await(layer); // the download's own failure, if any
                    layerUnpacked.accept(layer);
                }
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new CanceledException("interrupted", e);
            }
        }
    }

    /** The proxy cuts only once the unpack has asked for the big layer's stream (so it is attached). */
    private void cutAfterAsked(Reading unpack, int times) {
        proxy.arm(FaultProxy.Fault.CUT, big.size() / 2, times).onFault(() -> {
            try {
                unpack.bigAsked.await(60, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
    }

    @Test
    void aLayerCutMidBlobIsStreamedWholeAcrossTheResume() {
        try (LocalContentStore store = Fixtures.store(tmp.resolve("dest"));
             RegistryClient client = Fixtures.client(store).build()) {
            Reading unpack = new Reading(store, big.digest());
            cutAfterAsked(unpack, 1);
            client.pull(viaProxy(), PullOptions.builder().unpacker(unpack).build());

            assertThat(proxy.requestHeads()).anyMatch(h -> h.contains("/blobs/" + big.digest())
                    && h.toLowerCase().contains("range: bytes="));
            assertThat(unpack.streamed).as("streamed bytes of the cut layer").containsEntry(big.digest(), big.digest());
            for (Descriptor layer : image.layerDescriptors()) {
                // a small layer that arrived before the unpack asked for it is not streamed (LayerGate.stream
                // is null for a stored blob): what it streamed of the others is exact
                if (unpack.streamed.containsKey(layer.digest())) {
                    assertThat(unpack.streamed).as("streamed bytes of " + layer.digest())
                            .containsEntry(layer.digest(), layer.digest());
                } else {
                    assertThat(store.verify(layer.digest()).size()).isEqualTo(layer.size());
                }
            }
            assertThat(store.verify(big.digest()).size()).isEqualTo(big.size());
            assertThat(store.listStatuses()).isEmpty();
        }
    }

    @Test
    void aPullBrokenMidLayerFailsTheStreamAndTheNextPullResumesIt() {
        try (LocalContentStore store = Fixtures.store(tmp.resolve("dest"));
             RegistryClient client = Fixtures.client(store).retries(1).build()) {
            Reading broken = new Reading(store, big.digest());
            cutAfterAsked(broken, 2);
            assertThatThrownBy(() -> client.pull(viaProxy(), PullOptions.builder().unpacker(broken).build()))
                    .isInstanceOf(UnavailableException.class)
                    .hasMessageContaining(big.digest().toString());
            assertThat(broken.streamed.get(big.digest())).as("what the unpack read of the broken layer")
                    .isInstanceOf(IOException.class);
            assertThat(Fixtures.has(store, big.digest())).isFalse();
            long kept = store.listStatuses().stream().filter(s -> s.ref().equals("layer-" + big.digest()))
                    .mapToLong(Status::offset).findFirst().orElseThrow();
            assertThat(kept).isPositive().isLessThan(big.size());

            Reading resumed = new Reading(store, big.digest());
            PullResult again = client.pull(viaProxy(), PullOptions.builder().unpacker(resumed).build());

            assertThat(again.bytesFetched()).isLessThan(big.size());
            // resumed at an offset: a stream, if one is given, reads the kept start from the committed blob
            assertThat(resumed.streamed.getOrDefault(big.digest(), big.digest())).isEqualTo(big.digest());
            assertThat(store.verify(big.digest()).size()).isEqualTo(big.size());
            assertThat(store.listStatuses()).isEmpty();
        }
    }
}

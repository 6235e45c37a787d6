package dev.berth.metadata.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.berth.GcPolicy;
import dev.berth.GcResult;
import dev.berth.LeaseScope;
import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.Labels;
import dev.berth.api.MediaTypes;
import dev.berth.api.NotFoundException;
import dev.berth.api.container.ContainerRecord;
import dev.berth.api.content.Info;
import dev.berth.api.content.Writer;
import dev.berth.api.image.Image;
import dev.berth.api.lease.LeaseResource;
import dev.berth.api.snapshot.SnapshotInfo;
import dev.berth.content.Content;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class GarbageCollectionTest {
    @TempDir
    Path tmp;
    Fixture f;
    NamespacedMetadata ns;

    @BeforeEach
    void open() {
        f = Fixture.open(tmp);
        ns = f.ns("default");
    }

    @AfterEach
    void close() {
        f.close();
    }

    private Descriptor blob(String text, Map<String, String> labels) {
        byte[] bytes = text.getBytes(StandardCharsets.UTF_8);
        Descriptor d = Descriptor.of("application/octet-stream", bytes);
        try (Writer w = ns.content().writer("ref-" + d.digest().hex(), d)) {
            w.write(ByteBuffer.wrap(bytes));
            w.commit(d.size(), d.digest(), labels);
        }
        return d;
    }

    private boolean visible(Digest d) {
        try {
            ns.content().info(d);
            return true;
        } catch (NotFoundException e) {
            return false;
        }
    }

    private boolean snapshotExists(String key) {
        try {
            ns.snapshotter("native").stat(key);
            return true;
        } catch (NotFoundException e) {
            return false;
        }
    }

    /** An image as pull leaves it: index -> manifest -> config + layers, config -> top snapshot of a chain. */
    private record Graph(Descriptor index, Descriptor manifest, Descriptor config, List<Descriptor> layers) {
        List<Digest> digests() {
            List<Digest> out = new ArrayList<>(List.of(index.digest(), manifest.digest(), config.digest()));
            layers.forEach(l -> out.add(l.digest()));
            return out;
        }
    }

    private Graph pulledImage(String tag) {
        MetaSnapshotter sn = ns.snapshotter("native");
        sn.prepare("extract-a " + tag + "-L0", null);
        sn.commit(tag + "-L0", "extract-a " + tag + "-L0");
        sn.prepare("extract-b " + tag + "-L1", tag + "-L0");
        sn.commit(tag + "-L1", "extract-b " + tag + "-L1");
        Descriptor l0 = blob(tag + " layer 0", Map.of());
        Descriptor l1 = blob(tag + " layer 1", Map.of());
        Descriptor config = blob(tag + " config", Map.of(Labels.GC_REF_SNAPSHOT + "native", tag + "-L1"));
        Descriptor manifest = blob(tag + " manifest", Map.of(
                Labels.GC_REF_CONTENT + ".config", config.digest().toString(),
                Labels.GC_REF_CONTENT + ".l.0", l0.digest().toString(),
                Labels.GC_REF_CONTENT + ".l.1", l1.digest().toString()));
        Descriptor index = blob(tag + " index", Map.of(Labels.GC_REF_CONTENT + ".m.0", manifest.digest().toString()));
        return new Graph(index.withMediaType(MediaTypes.OCI_INDEX), manifest, config, List.of(l0, l1));
    }

    @Nested
    class Roots {
        @Test
        void anImageKeepsItsWholeGraphThroughGcRefLabels() {
            Graph g;
            Descriptor stray;
            try (LeaseScope lease = ns.withTemporaryLease(Duration.ofHours(1))) {
                g = pulledImage("img");
                stray = blob("nobody wants me", Map.of());
                ns.snapshotter("native").prepare("stray-active", null);
                ns.images().create(new Image("example.com/img:1", g.index()));
            }
            GcResult r = f.md.gc();
            assertThat(r.contentRecords()).isEqualTo(1);
            assertThat(r.snapshotRecords()).isEqualTo(1);
            assertThat(r.blobs()).isEqualTo(1);
            assertThat(r.backendSnapshots()).isEqualTo(1);
            assertThat(g.digests()).allSatisfy(d -> {
                assertThat(visible(d)).as("%s visible", d).isTrue();
                assertThat(f.onDisk(d)).as("%s on disk", d).isTrue();
            });
            assertThat(snapshotExists("img-L0")).isTrue();
            assertThat(snapshotExists("img-L1")).isTrue();
            assertThat(visible(stray.digest())).isFalse();
            assertThat(f.onDisk(stray.digest())).isFalse();
            assertThat(snapshotExists("stray-active")).isFalse();

            ns.images().delete("example.com/img:1", true);
            assertThat(g.digests()).allSatisfy(d -> assertThat(f.onDisk(d)).isFalse());
            assertThat(ns.snapshotter("native").list()).isEmpty();
            assertThat(f.snapshotter.list()).isEmpty();
        }

        @Test
        void aContainerKeepsItsSnapshotAndTheChainBelowIt() {
            MetaSnapshotter sn = ns.snapshotter("native");
            sn.prepare("x", null);
            sn.commit("base", "x");
            sn.prepare("ctr-rootfs", "base");
            ns.containers().create(new ContainerRecord("ctr", Map.of(), "img", new ContainerRecord.Runtime("io.containerd.runc.v2"),
                    new byte[0], "native", "ctr-rootfs", null, null, null));
            f.md.gc();
            assertThat(snapshotExists("ctr-rootfs")).isTrue();
            assertThat(snapshotExists("base")).isTrue();
            ns.containers().delete("ctr");
            f.md.gc();
            assertThat(sn.list()).isEmpty();
            assertThat(f.snapshotter.list()).isEmpty();
        }

        @Test
        void containerLabelsReferenceContent() {
            Descriptor d = blob("checkpoint", Map.of());
            ns.containers().create(new ContainerRecord("ctr", Map.of(Labels.GC_REF_CONTENT + "/checkpoint",
                    d.digest().toString()), "", new ContainerRecord.Runtime("r"), new byte[0], "", "", null, null, null));
            f.md.gc();
            assertThat(visible(d.digest())).isTrue();
        }

        @Test
        void gcRootLabelKeepsContentAndSnapshots() {
            Descriptor root = blob("root", Map.of(Labels.GC_ROOT, "x"));
            MetaSnapshotter sn = ns.snapshotter("native");
            sn.prepare("pinned", null, Map.of(Labels.GC_ROOT, "x"));
            Descriptor loose = blob("loose", Map.of());
            f.md.gc();
            assertThat(visible(root.digest())).isTrue();
            assertThat(snapshotExists("pinned")).isTrue();
            assertThat(visible(loose.digest())).isFalse();
        }

        @Test
        void liveIngestsSurviveAndTheirExpectedBlobToo() throws Exception {
            Descriptor shared = Fixture.blob(f.ns("other").content(), "shared");
            try (Writer w = ns.content().writer("resumable", null)) {
                w.write(ByteBuffer.wrap("part".getBytes(StandardCharsets.UTF_8)));
            }
            ns.content().writer("shared-ingest", shared).close();
            f.ns("other").content().delete(shared.digest());
            f.md.gc();
            assertThat(ns.content().status("resumable").offset()).isEqualTo(4);
            assertThat(f.onDisk(shared.digest())).as("expected blob of a live ingest").isTrue();
            // age the ingests past their 24 h expiry
            f.md.db().write(tx -> tx.update("UPDATE ingests SET expire_at_ns = 1"));
            GcResult r = f.md.gc();
            assertThat(r.ingestRecords()).isEqualTo(2);
            assertThat(r.abortedIngests()).isEqualTo(1);
            assertThat(ns.content().listStatuses()).isEmpty();
            assertThat(f.content.listStatuses()).isEmpty();
            assertThat(f.onDisk(shared.digest())).isFalse();
        }

        @Test
        void orphansOnDiskFromACrashAreCollected() {
            Descriptor orphan = Fixture.blob(f.content, "written behind the metadata's back");
            f.snapshotter.prepare("default/999/orphan", null);
            GcResult r = f.md.gc();
            assertThat(r.blobs()).isEqualTo(1);
            assertThat(r.backendSnapshots()).isEqualTo(1);
            assertThat(f.onDisk(orphan.digest())).isFalse();
            assertThat(f.snapshotter.list()).isEmpty();
        }
    }

    @Nested
    class LeasesAsRoots {
        @Test
        void contentUnderALeaseSurvivesUntilTheLeaseGoes() {
            ns.leases().create("hold", Map.of(), Duration.ofHours(1));
            Descriptor d = blob("held", Map.of());
            ns.leases().addResource("hold", LeaseResource.content(d.digest()));
            f.md.gc();
            assertThat(visible(d.digest())).isTrue();
            ns.leases().delete("hold", true);
            assertThat(visible(d.digest())).isFalse();
            assertThat(f.onDisk(d.digest())).isFalse();
        }

        @Test
        void anExpiredLeaseHoldsNothingAndIsDeleted() {
            ns.leases().create("old", Map.of(Labels.GC_EXPIRE,
                    MetaLeases.formatExpiry(Instant.now().minusSeconds(5))), null);
            Descriptor d = blob("was held", Map.of());
            ns.leases().addResource("old", LeaseResource.content(d.digest()));
            GcResult r = f.md.gc();
            assertThat(r.leases()).isEqualTo(1);
            assertThat(ns.leases().list()).isEmpty();
            assertThat(visible(d.digest())).isFalse();
        }

        @Test
        void aFlatLeaseHoldsOnlyTheNamedResources() {
            Descriptor child = blob("child", Map.of());
            Descriptor parent = blob("parent", Map.of(Labels.GC_REF_CONTENT, child.digest().toString()));
            ns.leases().create("flat", Map.of(Labels.GC_FLAT, "true"), null);
            ns.leases().addResource("flat", LeaseResource.content(parent.digest()));
            f.md.gc();
            assertThat(visible(parent.digest())).isTrue();
            assertThat(visible(child.digest())).isFalse();

            Descriptor child2 = blob("child2", Map.of());
            Descriptor parent2 = blob("parent2", Map.of(Labels.GC_REF_CONTENT, child2.digest().toString()));
            ns.leases().create("deep", Map.of(), null);
            ns.leases().addResource("deep", LeaseResource.content(parent2.digest()));
            f.md.gc();
            assertThat(visible(child2.digest())).isTrue();
        }

        @Test
        void temporaryLeaseScopeCollectsWhatTheThreadCreated() {
            Descriptor d;
            String leaseId;
            try (LeaseScope scope = ns.withTemporaryLease(Duration.ofHours(24))) {
                leaseId = scope.leaseId();
                d = blob("scoped", Map.of());
                ns.snapshotter("native").prepare("scoped-snap", null);
                f.md.gc();
                assertThat(visible(d.digest())).isTrue();
                assertThat(snapshotExists("scoped-snap")).isTrue();
                assertThat(ns.leases().listResources(leaseId)).contains(LeaseResource.content(d.digest()),
                        LeaseResource.snapshot("native", "scoped-snap"));
                assertThat(f.ns("other").currentLease()).isEmpty();
            }
            assertThat(ns.currentLease()).isEmpty();
            assertThat(ns.leases().list()).isEmpty();
            f.md.gc();
            assertThat(visible(d.digest())).isFalse();
            assertThat(snapshotExists("scoped-snap")).isFalse();
        }

        @Test
        void aBoundViewAddsToItsLeaseFromAnyThread() throws Exception {
            ns.leases().create("bound", Map.of(), null);
            NamespacedMetadata leased = ns.withLease("bound");
            AtomicReference<Descriptor> d = new AtomicReference<>();
            Thread t = new Thread(() -> d.set(Fixture.blob(leased.content(), "from another thread")));
            t.start();
            t.join();
            assertThat(ns.leases().listResources("bound")).containsExactly(LeaseResource.content(d.get().digest()));
        }

        @Test
        void creatingUnderADeletedLeaseFails() {
            try (LeaseScope scope = ns.withTemporaryLease(Duration.ofHours(1))) {
                ns.leases().delete(scope.leaseId(), false);
                assertThatThrownBy(() -> ns.snapshotter("native").prepare("k", null))
                        .isInstanceOf(NotFoundException.class).hasMessageContaining(scope.leaseId());
                assertThat(snapshotExists("k")).isFalse();
            }
        }
    }

    @Test
    void aConcurrentWriterNeverLosesCommittedAndReferencedContent() throws Exception {
        AtomicBoolean stop = new AtomicBoolean();
        List<Image> committed = new CopyOnWriteArrayList<>();
        List<Digest> scratch = new CopyOnWriteArrayList<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread writer = new Thread(() -> {
            try {
                for (int i = 0; !stop.get() && i < 400; i++) {
                    try (LeaseScope lease = ns.withTemporaryLease(Duration.ofHours(1))) {
                        Descriptor layer = blob("layer " + i, Map.of());
                        Descriptor manifest = blob("manifest " + i, Map.of(Labels.GC_REF_CONTENT + ".l.0",
                                layer.digest().toString()));
                        scratch.add(blob("scratch " + i, Map.of()).digest());
                        // the lease must hold everything until the image exists
                        assertThat(Content.readBlob(ns.content(), layer)).isNotEmpty();
                        committed.add(ns.images().create(new Image("img-" + i, manifest)));
                    }
                }
            } catch (Throwable t) {
                failure.set(t);
            }
        }, "importer");
        writer.start();
        int collections = 0;
        while (writer.isAlive() && collections < 200) {
            f.md.gc();
            collections++;
            for (Image img : committed) {
                Info manifest = ns.content().info(img.target().digest());
                Digest layer = Digest.parse(manifest.labels().get(Labels.GC_REF_CONTENT + ".l.0"));
                assertThat(f.onDisk(img.target().digest())).isTrue();
                assertThat(f.onDisk(layer)).as("layer of %s", img.name()).isTrue();
            }
        }
        stop.set(true);
        writer.join();
        assertThat(failure.get()).isNull();
        assertThat(collections).isGreaterThan(1);
        f.md.gc();
        assertThat(committed).allSatisfy(img -> assertThat(Content.readBlob(ns.content(), img.target())).isNotEmpty());
        assertThat(scratch).allSatisfy(d -> assertThat(f.onDisk(d)).as("unreferenced %s", d).isFalse());
    }

    @Test
    void theSchedulerCollectsAfterADeletion() {
        f.close();
        f = Fixture.open(tmp.resolve("scheduled"), GcPolicy.defaults());
        NamespacedMetadata n = f.ns("default");
        Descriptor d;
        // The scheduler may collect at any moment: the blob is leased until the image references it.
        try (LeaseScope lease = n.withTemporaryLease(Duration.ofHours(1))) {
            d = Fixture.blob(n.content(), "short-lived");
            n.images().create(new Image("x", d));
        }
        await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5))
                .untilAsserted(() -> assertThat(f.onDisk(d.digest())).isTrue());
        n.images().delete("x");
        await().atMost(Duration.ofSeconds(30)).untilAsserted(() -> assertThat(f.onDisk(d.digest())).isFalse());
    }

    @Test
    void refLabelsParseLikeContainerd() {
        String d = Digest.sha256(new byte[0]).toString();
        assertThat(GarbageCollector.refOf("n", "containerd.io/gc.ref.content", d)).isNotNull();
        assertThat(GarbageCollector.refOf("n", "containerd.io/gc.ref.content.l.0", d)).isNotNull();
        assertThat(GarbageCollector.refOf("n", "containerd.io/gc.ref.content/x", d)).isNotNull();
        assertThat(GarbageCollector.refOf("n", "containerd.io/gc.ref.contentx", d)).isNull();
        assertThat(GarbageCollector.refOf("n", "containerd.io/gc.ref.content", "junk")).isNull();
        assertThat(GarbageCollector.refOf("n", "containerd.io/gc.ref.snapshot.overlayfs", "k"))
                .isEqualTo(GarbageCollector.Node.snapshot("n", "overlayfs", "k"));
        assertThat(GarbageCollector.refOf("n", "containerd.io/gc.ref.snapshot.overlayfs/1", "k"))
                .isEqualTo(GarbageCollector.Node.snapshot("n", "overlayfs", "k"));
        assertThat(GarbageCollector.refOf("n", "other", d)).isNull();
    }

    @Test
    void snapshotInfoSurvivesReopen() {
        ns.snapshotter("native").prepare("persist", null, Map.of("a", "b"));
        f.close();
        f = Fixture.open(tmp);
        SnapshotInfo i = f.ns("default").snapshotter("native").stat("persist");
        assertThat(i.labels()).containsEntry("a", "b");
    }
}

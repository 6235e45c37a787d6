package dev.berth.metadata.internal;

import dev.berth.GcPolicy;
import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.NotFoundException;
import dev.berth.api.content.ContentStore;
import dev.berth.api.event.Envelope;
import dev.berth.api.snapshot.Snapshotter;
import dev.berth.content.Content;
import dev.berth.content.LocalContentStore;
import dev.berth.events.EventExchange;
import dev.berth.snapshot.Snapshotters;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;

/** A root with a real content store, a native snapshotter, an event exchange and the metadata over them. */
final class Fixture implements AutoCloseable {
    final Path root;
    final LocalContentStore content;
    final Snapshotter snapshotter;
    final EventExchange events;
    final Metadata md;
    final List<Envelope> published = new CopyOnWriteArrayList<>();

    private Fixture(Path root, Snapshotter snapshotter, GcPolicy policy) {
        this(root, snapshotter, policy, false);
    }

    private Fixture(Path root, Snapshotter snapshotter, GcPolicy policy, boolean deferredSnapshotRemoval) {
        this.root = root;
        this.content = LocalContentStore.open(root.resolve("content"));
        this.snapshotter = snapshotter;
        this.events = EventExchange.create();
        events.subscribe(published::add);
        this.md = Metadata.builder(root.resolve("meta.db"))
                .content(content)
                .snapshotter(snapshotter)
                .events(events)
                .gcPolicy(policy)
                .deferredSnapshotRemoval(deferredSnapshotRemoval)
                .build();
    }

    static Fixture open(Path root) {
        return new Fixture(root, Snapshotters.nativeSnapshotter(root.resolve("snapshots/native")), GcPolicy.manual());
    }

    static Fixture open(Path root, GcPolicy policy) {
        return new Fixture(root, Snapshotters.nativeSnapshotter(root.resolve("snapshots/native")), policy);
    }

    static Fixture open(Path root, GcPolicy policy, boolean deferredSnapshotRemoval) {
        return new Fixture(root, Snapshotters.nativeSnapshotter(root.resolve("snapshots/native")), policy,
                deferredSnapshotRemoval);
    }

    static Fixture open(Path root, Snapshotter snapshotter) {
        return new Fixture(root, snapshotter, GcPolicy.manual());
    }

    NamespacedMetadata ns(String name) {
        return md.namespace(name);
    }

    /** Stores {@code text} as a blob in {@code ns} (with labels) and returns its descriptor. */
    static Descriptor blob(ContentStore store, String text) {
        return Content.writeBlob(store, "ref-" + UUID.randomUUID(), "application/octet-stream",
                text.getBytes(StandardCharsets.UTF_8));
    }

    boolean onDisk(Digest d) {
        try {
            content.info(d);
            return true;
        } catch (NotFoundException e) {
            return false;
        }
    }

    List<String> topics() {
        return published.stream().map(Envelope::topic).toList();
    }

    @Override
    public void close() {
        md.close();
        snapshotter.close();
        content.close();
        events.close();
    }
}

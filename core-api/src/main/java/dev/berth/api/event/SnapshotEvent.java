package dev.berth.api.event;

/** {@code /snapshot/*} events (containerd spells the topic prefix in the singular). */
public sealed interface SnapshotEvent extends Event {
    String key();

    record Prepare(String key, String parent, String snapshotter) implements SnapshotEvent {
        public String topic() { return "/snapshot/prepare"; }
    }

    record Commit(String key, String name, String snapshotter) implements SnapshotEvent {
        public String topic() { return "/snapshot/commit"; }
    }

    record Remove(String key, String snapshotter) implements SnapshotEvent {
        public String topic() { return "/snapshot/remove"; }
    }
}

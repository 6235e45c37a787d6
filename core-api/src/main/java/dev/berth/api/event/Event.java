package dev.berth.api.event;

/**
 * Every event Berth publishes or receives. The hierarchy is closed: containerd's topic list, plus
 * {@link UnknownEvent} for payloads Berth cannot decode (a third-party shim's own event types).
 */
public sealed interface Event
        permits ContainerEvent, ContentEvent, ImageEvent, NamespaceEvent, SnapshotEvent, TaskEvent, UnknownEvent {

    /** The topic this event is published on by default. */
    String topic();
}

package dev.berth.api.event;

import java.time.Instant;
import java.util.Objects;

/** An event as delivered: when, in which namespace, on which topic. */
public record Envelope(Instant timestamp, String namespace, String topic, Event event) {
    public Envelope {
        Objects.requireNonNull(timestamp, "timestamp");
        Objects.requireNonNull(namespace, "namespace");
        Objects.requireNonNull(topic, "topic");
        Objects.requireNonNull(event, "event");
    }
}

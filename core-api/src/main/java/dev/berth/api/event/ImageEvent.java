package dev.berth.api.event;

import java.util.Map;

/** {@code /images/*} events. */
public sealed interface ImageEvent extends Event {
    String name();

    record Create(String name, Map<String, String> labels) implements ImageEvent {
        public String topic() { return "/images/create"; }
    }

    record Update(String name, Map<String, String> labels) implements ImageEvent {
        public String topic() { return "/images/update"; }
    }

    record Delete(String name) implements ImageEvent {
        public String topic() { return "/images/delete"; }
    }
}

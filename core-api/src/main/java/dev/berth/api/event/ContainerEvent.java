package dev.berth.api.event;

import java.util.Map;

/** {@code /containers/*} events. */
public sealed interface ContainerEvent extends Event {
    String id();

    record Create(String id, String image, String runtime) implements ContainerEvent {
        public String topic() { return "/containers/create"; }
    }

    record Update(String id, String image, Map<String, String> labels, String snapshotKey) implements ContainerEvent {
        public String topic() { return "/containers/update"; }
    }

    record Delete(String id) implements ContainerEvent {
        public String topic() { return "/containers/delete"; }
    }
}

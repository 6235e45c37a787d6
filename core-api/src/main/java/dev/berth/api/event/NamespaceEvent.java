package dev.berth.api.event;

import java.util.Map;

/** {@code /namespaces/*} events. */
public sealed interface NamespaceEvent extends Event {
    String name();

    record Create(String name, Map<String, String> labels) implements NamespaceEvent {
        public String topic() { return "/namespaces/create"; }
    }

    record Update(String name, Map<String, String> labels) implements NamespaceEvent {
        public String topic() { return "/namespaces/update"; }
    }

    record Delete(String name) implements NamespaceEvent {
        public String topic() { return "/namespaces/delete"; }
    }
}

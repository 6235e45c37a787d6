package dev.berth.api.event;

import dev.berth.api.Digest;

/** {@code /content/*} events. */
public sealed interface ContentEvent extends Event {
    record Delete(Digest digest) implements ContentEvent {
        public String topic() { return "/content/delete"; }
    }
}

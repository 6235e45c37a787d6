package dev.berth.api.event;

/** An event whose payload type Berth does not know; kept as the protobuf {@code Any} it arrived as. */
public record UnknownEvent(String topic, String typeUrl, byte[] value) implements Event {
}

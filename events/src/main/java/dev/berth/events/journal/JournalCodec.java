package dev.berth.events.journal;

import com.fasterxml.jackson.core.JsonGenerator;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.databind.DeserializationContext;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonDeserializer;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.JsonSerializer;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializerProvider;
import com.fasterxml.jackson.databind.module.SimpleModule;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.api.Digest;
import dev.berth.api.event.Envelope;
import dev.berth.api.event.Event;
import java.io.IOException;
import java.time.Instant;

/**
 * A journal record's payload: the envelope as one JSON object, {@code {"w":writer,"ts":..,"ns":..,"topic":..,
 * "type":"TaskEvent$Exit","event":{..}}}. The event type is the record's class below {@code dev.berth.api.event}.
 */
final class JournalCodec {
    private static final String EVENT_PACKAGE = "dev.berth.api.event.";
    static final ObjectMapper JSON = new ObjectMapper()
            .disable(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
            .registerModule(new SimpleModule("berth-journal")
                    .addSerializer(Instant.class, new JsonSerializer<>() {
                        @Override
                        public void serialize(Instant v, JsonGenerator g, SerializerProvider p) throws IOException {
                            g.writeString(v.toString());
                        }
                    })
                    .addDeserializer(Instant.class, new JsonDeserializer<>() {
                        @Override
                        public Instant deserialize(JsonParser p, DeserializationContext c) throws IOException {
                            return Instant.parse(p.getValueAsString());
                        }
                    })
                    .addSerializer(Digest.class, new JsonSerializer<>() {
                        @Override
                        public void serialize(Digest v, JsonGenerator g, SerializerProvider p) throws IOException {
                            g.writeString(v.toString());
                        }
                    })
                    .addDeserializer(Digest.class, new JsonDeserializer<>() {
                        @Override
                        public Digest deserialize(JsonParser p, DeserializationContext c) throws IOException {
                            return Digest.parse(p.getValueAsString());
                        }
                    }));

    private JournalCodec() {
    }

    /** A decoded record: the envelope and the id of the journal writer (process) that appended it. */
    record Entry(String writer, Envelope envelope) {
    }

    /**
     * How every payload {@link #encode} writes for {@code writer} begins ({@code {"w":"<writer>",}), so a
     * reader can pass over one writer's records without parsing them.
     */
    static byte[] writerPrefix(String writer) {
        try {
            return ("{\"w\":" + JSON.writeValueAsString(writer) + ",")
                    .getBytes(java.nio.charset.StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new IllegalArgumentException("cannot encode writer id " + writer, e);
        }
    }

    static byte[] encode(String writer, Envelope e) {
        ObjectNode node = JSON.createObjectNode();
        node.put("w", writer);
        node.put("ts", e.timestamp().toString());
        node.put("ns", e.namespace());
        node.put("topic", e.topic());
        String type = e.event().getClass().getName();
        node.put("type", type.startsWith(EVENT_PACKAGE) ? type.substring(EVENT_PACKAGE.length()) : type);
        node.set("event", JSON.valueToTree(e.event()));
        try {
            return JSON.writeValueAsBytes(node);
        } catch (IOException ex) {
            throw new IllegalArgumentException("cannot encode " + e.topic() + " event for the journal: " + ex, ex);
        }
    }

    /** @throws IOException if the payload is not a journal record this version understands */
    static Entry decode(byte[] payload) throws IOException {
        JsonNode node = JSON.readTree(payload);
        String type = node.path("type").asText("");
        if (type.isEmpty() || type.contains(".")) {
            throw new IOException("journal record has no known event type: '" + type + "'");
        }
        Class<?> c;
        try {
            c = Class.forName(EVENT_PACKAGE + type, false, Event.class.getClassLoader());
        } catch (ClassNotFoundException e) {
            throw new IOException("journal record names unknown event type " + type, e);
        }
        if (!Event.class.isAssignableFrom(c) || !c.isRecord()) {
            throw new IOException("journal record names " + type + ", which is no event record");
        }
        Event event = (Event) JSON.treeToValue(node.get("event"), c);
        Envelope envelope = new Envelope(Instant.parse(node.path("ts").asText()), node.path("ns").asText(),
                node.path("topic").asText(), event);
        return new Entry(node.path("w").asText(""), envelope);
    }
}

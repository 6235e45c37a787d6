package dev.berth.metadata.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.api.BerthException;
import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.Platform;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/** How values are stored in the metadata columns: label maps as JSON objects, times as epoch nanoseconds. */
final class Codec {
    /**
     * Made on first use: building an ObjectMapper loads some hundreds of classes, which was a fifth of a
     * short CLI call ({@code berth images ls}) that only reads times or empty label maps.
     */
    private static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper();
    }

    private static final TypeReference<TreeMap<String, String>> STRING_MAP = new TypeReference<>() {
    };
    private static final String EMPTY = "{}";

    private Codec() {
    }

    static String labels(Map<String, String> labels) {
        if (labels == null || labels.isEmpty()) {
            return EMPTY;
        }
        try {
            return Json.MAPPER.writeValueAsString(new TreeMap<>(labels));
        } catch (JsonProcessingException e) {
            throw new BerthException("cannot encode labels: " + e.getMessage(), e);
        }
    }

    static Map<String, String> labels(String json) {
        if (json == null || json.isEmpty() || json.equals(EMPTY)) {
            return Map.of();
        }
        try {
            return Json.MAPPER.readValue(json, STRING_MAP);
        } catch (JsonProcessingException e) {
            throw new BerthException("corrupt label column in the metadata database: " + e.getMessage(), e);
        }
    }

    static String extensions(Map<String, byte[]> extensions) {
        Map<String, String> encoded = new TreeMap<>();
        extensions.forEach((k, v) -> encoded.put(k, Base64.getEncoder().encodeToString(v)));
        return labels(encoded);
    }

    static Map<String, byte[]> extensions(String json) {
        Map<String, byte[]> out = new LinkedHashMap<>();
        labels(json).forEach((k, v) -> out.put(k, Base64.getDecoder().decode(v)));
        return out;
    }

    /**
     * The parts of a descriptor that have no column of their own: urls, annotations, platform, and OCI
     * 1.1's artifactType and embedded data.
     */
    static String targetExtra(Descriptor d) {
        ObjectNode o = Json.MAPPER.createObjectNode();
        if (!d.urls().isEmpty()) {
            ArrayNode urls = o.putArray("urls");
            d.urls().forEach(urls::add);
        }
        if (!d.annotations().isEmpty()) {
            ObjectNode a = o.putObject("annotations");
            new TreeMap<>(d.annotations()).forEach(a::put);
        }
        Platform p = d.platform();
        if (p != null) {
            ObjectNode po = o.putObject("platform");
            po.put("os", p.os());
            po.put("architecture", p.architecture());
            if (!p.variant().isEmpty()) {
                po.put("variant", p.variant());
            }
            if (!p.osVersion().isEmpty()) {
                po.put("os.version", p.osVersion());
            }
            if (!p.osFeatures().isEmpty()) {
                ArrayNode f = po.putArray("os.features");
                p.osFeatures().forEach(f::add);
            }
        }
        if (d.artifactType() != null) {
            o.put("artifactType", d.artifactType());
        }
        if (d.data() != null) {
            o.put("data", Base64.getEncoder().encodeToString(d.data()));
        }
        return o.toString();
    }

    static Descriptor target(String mediaType, String digest, long size, String extraJson) {
        try {
            JsonNode o = Json.MAPPER.readTree(extraJson == null || extraJson.isEmpty() ? "{}" : extraJson);
            List<String> urls = new ArrayList<>();
            o.path("urls").forEach(n -> urls.add(n.asText()));
            Map<String, String> annotations = new TreeMap<>();
            o.path("annotations").properties().forEach(e -> annotations.put(e.getKey(), e.getValue().asText()));
            Platform platform = null;
            JsonNode p = o.get("platform");
            if (p != null) {
                List<String> features = new ArrayList<>();
                p.path("os.features").forEach(n -> features.add(n.asText()));
                platform = new Platform(p.path("os").asText(), p.path("architecture").asText(),
                        p.path("variant").asText(""), p.path("os.version").asText(""), features);
            }
            JsonNode artifactType = o.get("artifactType");
            JsonNode data = o.get("data");
            return new Descriptor(mediaType, Digest.parse(digest), size, urls, annotations, platform,
                    artifactType == null ? null : artifactType.asText(),
                    data == null ? null : Base64.getDecoder().decode(data.asText()));
        } catch (JsonProcessingException e) {
            throw new BerthException("corrupt image target in the metadata database: " + e.getMessage(), e);
        }
    }

    static long nanos(Instant t) {
        return t.getEpochSecond() * 1_000_000_000L + t.getNano();
    }

    static Instant instant(long nanos) {
        return Instant.ofEpochSecond(Math.floorDiv(nanos, 1_000_000_000L), Math.floorMod(nanos, 1_000_000_000L));
    }
}

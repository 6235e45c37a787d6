package dev.berth.testing.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.api.Descriptor;
import dev.berth.api.Platform;
import java.util.Map;
import java.util.TreeMap;

/** Compact, deterministic JSON for manifests, indexes and configs (Jackson tree model). */
public final class Json {
    public static final ObjectMapper MAPPER = new ObjectMapper();

    private Json() {
    }

    public static ObjectNode object() {
        return MAPPER.createObjectNode();
    }

    public static ArrayNode array() {
        return MAPPER.createArrayNode();
    }

    /** Object with the entries sorted by key (Berth's maps have no stable order). */
    public static ObjectNode sortedMap(Map<String, String> map) {
        ObjectNode node = object();
        new TreeMap<>(map).forEach(node::put);
        return node;
    }

    /** An OCI descriptor object: mediaType, digest, size, then urls, annotations, platform if set. */
    public static ObjectNode descriptor(Descriptor d) {
        ObjectNode node = object();
        node.put("mediaType", d.mediaType());
        node.put("digest", d.digest().toString());
        node.put("size", d.size());
        if (!d.urls().isEmpty()) {
            ArrayNode urls = node.putArray("urls");
            d.urls().forEach(urls::add);
        }
        if (!d.annotations().isEmpty()) {
            node.set("annotations", sortedMap(d.annotations()));
        }
        if (d.platform() != null) {
            node.set("platform", platform(d.platform()));
        }
        return node;
    }

    public static ObjectNode platform(Platform p) {
        ObjectNode node = object();
        node.put("architecture", p.architecture());
        node.put("os", p.os());
        if (!p.osVersion().isEmpty()) {
            node.put("os.version", p.osVersion());
        }
        if (!p.osFeatures().isEmpty()) {
            ArrayNode features = node.putArray("os.features");
            p.osFeatures().forEach(features::add);
        }
        if (!p.variant().isEmpty()) {
            node.put("variant", p.variant());
        }
        return node;
    }

    public static byte[] bytes(JsonNode node) {
        try {
            return MAPPER.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("serializing JSON failed", e);
        }
    }
}

package dev.berth.api.oci.image.internal;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.StreamReadFeature;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.cfg.JsonNodeFeature;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.api.BerthException;
import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.MediaTypes;
import dev.berth.api.Platform;
import dev.berth.api.oci.image.ImageConfig;
import dev.berth.api.oci.image.Index;
import dev.berth.api.oci.image.Manifest;
import dev.berth.api.oci.image.RawJson;
import java.io.IOException;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;

/**
 * Reads and writes the OCI image-spec documents with Jackson's tree model. Reading validates types
 * field by field and reports the JSON path of the first bad value; writing follows the image-spec's Go
 * structs (field order, omitted empty fields, map keys sorted as Go's encoder does) and appends unknown
 * fields in their original order.
 */
public final class OciCodec {
    static final ObjectMapper MAPPER = JsonMapper.builder()
            .enable(StreamReadFeature.STRICT_DUPLICATE_DETECTION)
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(DeserializationFeature.USE_BIG_DECIMAL_FOR_FLOATS)
            .disable(JsonNodeFeature.STRIP_TRAILING_BIGDECIMAL_ZEROES)
            .nodeFactory(JsonNodeFactory.withExactBigDecimals(true))
            .build();
    private static final JsonNodeFactory NODES = JsonNodeFactory.withExactBigDecimals(true);

    private OciCodec() {
    }

    // ---------------------------------------------------------------- reading

    public static Manifest readManifest(byte[] json) {
        Reader r = new Reader("image manifest");
        ObjectNode o = r.root(json);
        String mediaType = r.text(o, "mediaType", "mediaType");
        if (mediaType != null && !MediaTypes.isManifest(mediaType)) {
            throw r.error("mediaType", "media type \"" + mediaType + "\" is not an image manifest type");
        }
        if (o.has("manifests")) {
            throw r.error("manifests", "a manifest has no manifests field (is this an image index?)");
        }
        int schemaVersion = r.schemaVersion(o);
        JsonNode config = o.get("config");
        if (config == null || config.isNull()) {
            throw r.error("config", "missing config descriptor");
        }
        return new Manifest(schemaVersion, mediaType, r.text(o, "artifactType", "artifactType"),
                r.descriptor(config, "config"), r.descriptors(o, "layers"), r.optionalDescriptor(o, "subject"),
                r.stringMap(o, "annotations", "annotations"), r.extras(o, manifestFields(), ""), RawJson.of(json));
    }

    public static Index readIndex(byte[] json) {
        Reader r = new Reader("image index");
        ObjectNode o = r.root(json);
        String mediaType = r.text(o, "mediaType", "mediaType");
        if (mediaType != null && !MediaTypes.isIndex(mediaType)) {
            throw r.error("mediaType", "media type \"" + mediaType + "\" is not an image index type");
        }
        if (o.has("config") || o.has("layers")) {
            throw r.error(o.has("config") ? "config" : "layers",
                    "an index has no config or layers (is this an image manifest?)");
        }
        int schemaVersion = r.schemaVersion(o);
        return new Index(schemaVersion, mediaType, r.text(o, "artifactType", "artifactType"),
                r.descriptors(o, "manifests"), r.optionalDescriptor(o, "subject"),
                r.stringMap(o, "annotations", "annotations"), r.extras(o, indexFields(), ""), RawJson.of(json));
    }

    public static ImageConfig readImageConfig(byte[] json) {
        Reader r = new Reader("image config");
        ObjectNode o = r.root(json);
        String architecture = r.text(o, "architecture", "architecture");
        String os = r.text(o, "os", "os");
        if (architecture == null || architecture.isEmpty()) {
            throw r.error("architecture", "missing architecture");
        }
        if (os == null || os.isEmpty()) {
            throw r.error("os", "missing os");
        }
        ImageConfig.Config config = ImageConfig.Config.EMPTY;
        JsonNode c = o.get("config");
        if (c != null && !c.isNull()) {
            config = r.execConfig(r.object(c, "config"));
        }
        ImageConfig.RootFs rootfs = null;
        JsonNode rf = o.get("rootfs");
        if (rf != null && !rf.isNull()) {
            ObjectNode ro = r.object(rf, "rootfs");
            String type = r.text(ro, "type", "rootfs.type");
            List<Digest> diffIds = new ArrayList<>();
            int i = 0;
            for (String s : r.stringList(ro, "diff_ids", "rootfs.diff_ids")) {
                diffIds.add(r.digest(s, "rootfs.diff_ids[" + i++ + "]"));
            }
            rootfs = new ImageConfig.RootFs(type == null ? "" : type, diffIds,
                    r.extras(ro, Set.of("type", "diff_ids"), "rootfs."));
        }
        List<ImageConfig.History> history = new ArrayList<>();
        JsonNode h = o.get("history");
        if (h != null && !h.isNull()) {
            ArrayNode arr = r.array(h, "history");
            for (int i = 0; i < arr.size(); i++) {
                String p = "history[" + i + "]";
                ObjectNode e = r.object(arr.get(i), p);
                history.add(new ImageConfig.History(r.time(e, "created", p + ".created"),
                        r.text(e, "created_by", p + ".created_by"), r.text(e, "author", p + ".author"),
                        r.text(e, "comment", p + ".comment"), r.bool(e, "empty_layer", p + ".empty_layer"),
                        r.extras(e, Set.of("created", "created_by", "author", "comment", "empty_layer"), p + ".")));
            }
        }
        return new ImageConfig(r.time(o, "created", "created"), r.text(o, "author", "author"), architecture, os,
                r.text(o, "os.version", "os.version"), r.stringList(o, "os.features", "os.features"),
                r.text(o, "variant", "variant"), config, rootfs, history, r.extras(o, configFields(), ""),
                RawJson.of(json));
    }

    public static Descriptor readDescriptor(byte[] json) {
        Reader r = new Reader("descriptor");
        return r.descriptor(r.root(json), "");
    }

    private static Set<String> manifestFields() {
        return Set.of("schemaVersion", "mediaType", "artifactType", "config", "layers", "subject", "annotations");
    }

    private static Set<String> indexFields() {
        return Set.of("schemaVersion", "mediaType", "artifactType", "manifests", "subject", "annotations");
    }

    private static Set<String> configFields() {
        return Set.of("created", "author", "architecture", "os", "os.version", "os.features", "variant", "config",
                "rootfs", "history");
    }

    /** Field-by-field reader that names the document and JSON path in every error. */
    private static final class Reader {
        private final String what;

        Reader(String what) {
            this.what = what;
        }

        InvalidArgumentException error(String path, String message) {
            return new InvalidArgumentException("invalid " + what + (path.isEmpty() ? "" : " at " + path) + ": "
                    + message);
        }

        ObjectNode root(byte[] json) {
            if (json == null) {
                throw new InvalidArgumentException("invalid " + what + ": no bytes");
            }
            JsonNode node;
            try {
                node = MAPPER.readTree(json);
            } catch (JsonProcessingException e) {
                String detail = e.getOriginalMessage();
                var loc = e.getLocation();
                throw new InvalidArgumentException("invalid " + what + ": malformed JSON"
                        + (loc == null ? "" : " at line " + loc.getLineNr() + " column " + loc.getColumnNr())
                        + ": " + detail, e);
            } catch (IOException e) {
                throw new InvalidArgumentException("invalid " + what + ": " + e.getMessage(), e);
            }
            if (node == null || node.isMissingNode()) {
                throw new InvalidArgumentException("invalid " + what + ": empty document");
            }
            return object(node, "");
        }

        ObjectNode object(JsonNode node, String path) {
            if (!(node instanceof ObjectNode o)) {
                throw error(path, "expected a JSON object but found " + kind(node));
            }
            return o;
        }

        ArrayNode array(JsonNode node, String path) {
            if (!(node instanceof ArrayNode a)) {
                throw error(path, "expected a JSON array but found " + kind(node));
            }
            return a;
        }

        /** A string field; null when absent or JSON null. */
        String text(ObjectNode o, String field, String path) {
            JsonNode n = o.get(field);
            if (n == null || n.isNull()) {
                return null;
            }
            if (!n.isTextual()) {
                throw error(path, "expected a string but found " + kind(n));
            }
            return n.textValue();
        }

        boolean bool(ObjectNode o, String field, String path) {
            JsonNode n = o.get(field);
            if (n == null || n.isNull()) {
                return false;
            }
            if (!n.isBoolean()) {
                throw error(path, "expected true or false but found " + kind(n));
            }
            return n.booleanValue();
        }

        int schemaVersion(ObjectNode o) {
            JsonNode n = o.get("schemaVersion");
            if (n == null || n.isNull()) {
                throw error("schemaVersion", "missing schemaVersion");
            }
            if (!n.isIntegralNumber() || !n.canConvertToInt()) {
                throw error("schemaVersion", "expected an integer but found " + kind(n));
            }
            if (n.intValue() != 2) {
                throw error("schemaVersion", "unsupported schemaVersion " + n.intValue() + " (expected 2)");
            }
            return 2;
        }

        List<String> stringList(ObjectNode o, String field, String path) {
            JsonNode n = o.get(field);
            if (n == null || n.isNull()) {
                return null;
            }
            ArrayNode a = array(n, path);
            List<String> out = new ArrayList<>(a.size());
            for (int i = 0; i < a.size(); i++) {
                JsonNode e = a.get(i);
                if (!e.isTextual()) {
                    throw error(path + "[" + i + "]", "expected a string but found " + kind(e));
                }
                out.add(e.textValue());
            }
            return out;
        }

        Map<String, String> stringMap(ObjectNode o, String field, String path) {
            JsonNode n = o.get(field);
            if (n == null || n.isNull()) {
                return null;
            }
            ObjectNode m = object(n, path);
            Map<String, String> out = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = m.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!e.getValue().isTextual()) {
                    throw error(path + "." + e.getKey(), "expected a string but found " + kind(e.getValue()));
                }
                out.put(e.getKey(), e.getValue().textValue());
            }
            return out;
        }

        /** Keys of an object whose values are ignored (Docker's {@code {"80/tcp": {}}} sets). */
        Set<String> keySet(ObjectNode o, String field, String path) {
            JsonNode n = o.get(field);
            if (n == null || n.isNull()) {
                return null;
            }
            Set<String> out = new LinkedHashSet<>();
            object(n, path).fieldNames().forEachRemaining(out::add);
            return out;
        }

        Instant time(ObjectNode o, String field, String path) {
            String s = text(o, field, path);
            if (s == null) {
                return null;
            }
            try {
                return OffsetDateTime.parse(s).toInstant();
            } catch (DateTimeParseException e) {
                throw error(path, "\"" + s + "\" is not an RFC 3339 time");
            }
        }

        Digest digest(String s, String path) {
            try {
                return Digest.parse(s);
            } catch (BerthException e) {
                throw error(path, e.getMessage());
            }
        }

        Descriptor optionalDescriptor(ObjectNode o, String field) {
            JsonNode n = o.get(field);
            return n == null || n.isNull() ? null : descriptor(n, field);
        }

        List<Descriptor> descriptors(ObjectNode o, String field) {
            JsonNode n = o.get(field);
            if (n == null || n.isNull()) {
                return List.of();
            }
            ArrayNode a = array(n, field);
            List<Descriptor> out = new ArrayList<>(a.size());
            for (int i = 0; i < a.size(); i++) {
                out.add(descriptor(a.get(i), field + "[" + i + "]"));
            }
            return out;
        }

        Descriptor descriptor(JsonNode node, String path) {
            ObjectNode o = object(node, path);
            String p = path.isEmpty() ? "" : path + ".";
            String mediaType = text(o, "mediaType", p + "mediaType");
            if (mediaType == null || mediaType.isEmpty()) {
                throw error(p + "mediaType", "missing mediaType");
            }
            String digest = text(o, "digest", p + "digest");
            if (digest == null) {
                throw error(p + "digest", "missing digest");
            }
            JsonNode size = o.get("size");
            if (size == null || size.isNull()) {
                throw error(p + "size", "missing size");
            }
            if (!size.isIntegralNumber() || !size.canConvertToLong() || size.longValue() < 0) {
                throw error(p + "size", "expected a non-negative integer but found " + size);
            }
            Platform platform = null;
            JsonNode pn = o.get("platform");
            if (pn != null && !pn.isNull()) {
                platform = platform(object(pn, p + "platform"), p + "platform");
            }
            byte[] data = null;
            String encoded = text(o, "data", p + "data");
            if (encoded != null) {
                try {
                    // Go's encoding/json decodes []byte with the standard alphabet and skips \r and \n
                    data = java.util.Base64.getDecoder().decode(encoded.replace("\r", "").replace("\n", ""));
                } catch (IllegalArgumentException e) {
                    throw error(p + "data", "not valid base64: " + e.getMessage());
                }
            }
            return new Descriptor(mediaType, digest(digest, p + "digest"), size.longValue(),
                    stringList(o, "urls", p + "urls"), stringMap(o, "annotations", p + "annotations"), platform,
                    text(o, "artifactType", p + "artifactType"), data);
        }

        Platform platform(ObjectNode o, String path) {
            String architecture = text(o, "architecture", path + ".architecture");
            String os = text(o, "os", path + ".os");
            if (architecture == null) {
                throw error(path + ".architecture", "missing architecture");
            }
            if (os == null) {
                throw error(path + ".os", "missing os");
            }
            return new Platform(os, architecture, text(o, "variant", path + ".variant"),
                    text(o, "os.version", path + ".os.version"), stringList(o, "os.features", path + ".os.features"));
        }

        ImageConfig.Config execConfig(ObjectNode o) {
            return new ImageConfig.Config(text(o, "User", "config.User"),
                    keySet(o, "ExposedPorts", "config.ExposedPorts"), stringList(o, "Env", "config.Env"),
                    stringList(o, "Entrypoint", "config.Entrypoint"), stringList(o, "Cmd", "config.Cmd"),
                    keySet(o, "Volumes", "config.Volumes"), text(o, "WorkingDir", "config.WorkingDir"),
                    stringMap(o, "Labels", "config.Labels"), text(o, "StopSignal", "config.StopSignal"),
                    extras(o, Set.of("User", "ExposedPorts", "Env", "Entrypoint", "Cmd", "Volumes", "WorkingDir",
                            "Labels", "StopSignal"), "config."));
        }

        Map<String, Object> extras(ObjectNode o, Set<String> known, String path) {
            Map<String, Object> out = new LinkedHashMap<>();
            for (Iterator<Map.Entry<String, JsonNode>> it = o.fields(); it.hasNext(); ) {
                Map.Entry<String, JsonNode> e = it.next();
                if (!known.contains(e.getKey())) {
                    try {
                        out.put(e.getKey(), MAPPER.treeToValue(e.getValue(), Object.class));
                    } catch (JsonProcessingException ex) {
                        throw error(path + e.getKey(), ex.getOriginalMessage());
                    }
                }
            }
            return out;
        }

        private static String kind(JsonNode n) {
            if (n == null || n.isMissingNode()) {
                return "nothing";
            }
            return switch (n.getNodeType()) {
                case ARRAY -> "an array";
                case OBJECT, POJO -> "an object";
                case STRING -> "a string";
                case NUMBER -> "a number";
                case BOOLEAN -> "a boolean";
                case NULL -> "null";
                default -> n.getNodeType().toString().toLowerCase();
            };
        }
    }

    // ---------------------------------------------------------------- writing

    public static byte[] write(Manifest m) {
        ObjectNode o = NODES.objectNode();
        o.put("schemaVersion", m.schemaVersion());
        putText(o, "mediaType", m.mediaType());
        putText(o, "artifactType", m.artifactType());
        o.set("config", descriptorNode(m.config()));
        ArrayNode layers = o.putArray("layers");
        m.layers().forEach(d -> layers.add(descriptorNode(d)));
        if (m.subject() != null) {
            o.set("subject", descriptorNode(m.subject()));
        }
        putStringMap(o, "annotations", m.annotations());
        putExtras(o, m.extraFields());
        return bytes(o);
    }

    public static byte[] write(Index index) {
        ObjectNode o = NODES.objectNode();
        o.put("schemaVersion", index.schemaVersion());
        putText(o, "mediaType", index.mediaType());
        putText(o, "artifactType", index.artifactType());
        ArrayNode manifests = o.putArray("manifests");
        index.manifests().forEach(d -> manifests.add(descriptorNode(d)));
        if (index.subject() != null) {
            o.set("subject", descriptorNode(index.subject()));
        }
        putStringMap(o, "annotations", index.annotations());
        putExtras(o, index.extraFields());
        return bytes(o);
    }

    public static byte[] write(ImageConfig c) {
        ObjectNode o = NODES.objectNode();
        if (c.created() != null) {
            o.put("created", formatTime(c.created()));
        }
        putText(o, "author", c.author());
        o.put("architecture", c.architecture());
        o.put("os", c.os());
        putText(o, "os.version", c.osVersion());
        putStringList(o, "os.features", c.osFeatures());
        putText(o, "variant", c.variant());
        o.set("config", execConfigNode(c.config()));
        ObjectNode rootfs = o.putObject("rootfs");
        rootfs.put("type", c.rootfs().type());
        ArrayNode diffIds = rootfs.putArray("diff_ids");
        c.rootfs().diffIds().forEach(d -> diffIds.add(d.toString()));
        putExtras(rootfs, c.rootfs().extraFields());
        if (!c.history().isEmpty()) {
            ArrayNode history = o.putArray("history");
            for (ImageConfig.History h : c.history()) {
                ObjectNode e = history.addObject();
                if (h.created() != null) {
                    e.put("created", formatTime(h.created()));
                }
                putText(e, "created_by", h.createdBy());
                putText(e, "author", h.author());
                putText(e, "comment", h.comment());
                if (h.emptyLayer()) {
                    e.put("empty_layer", true);
                }
                putExtras(e, h.extraFields());
            }
        }
        putExtras(o, c.extraFields());
        return bytes(o);
    }

    public static byte[] write(Descriptor d) {
        return bytes(descriptorNode(d));
    }

    private static ObjectNode execConfigNode(ImageConfig.Config c) {
        ObjectNode o = NODES.objectNode();
        putText(o, "User", c.user());
        putKeySet(o, "ExposedPorts", c.exposedPorts());
        putStringList(o, "Env", c.env());
        putStringList(o, "Entrypoint", c.entrypoint());
        putStringList(o, "Cmd", c.cmd());
        putKeySet(o, "Volumes", c.volumes());
        putText(o, "WorkingDir", c.workingDir());
        putStringMap(o, "Labels", c.labels());
        putText(o, "StopSignal", c.stopSignal());
        putExtras(o, c.extraFields());
        return o;
    }

    static ObjectNode descriptorNode(Descriptor d) {
        ObjectNode o = NODES.objectNode();
        o.put("mediaType", d.mediaType());
        o.put("digest", d.digest().toString());
        o.put("size", d.size());
        putStringList(o, "urls", d.urls());
        putStringMap(o, "annotations", d.annotations());
        byte[] data = d.data();
        if (data != null && data.length > 0) { // Go's omitempty drops an empty []byte as well as nil
            o.put("data", java.util.Base64.getEncoder().encodeToString(data));
        }
        Platform p = d.platform();
        if (p != null) {
            ObjectNode po = o.putObject("platform");
            po.put("architecture", p.architecture());
            po.put("os", p.os());
            putText(po, "os.version", p.osVersion());
            putStringList(po, "os.features", p.osFeatures());
            putText(po, "variant", p.variant());
        }
        putText(o, "artifactType", d.artifactType());
        return o;
    }

    private static void putText(ObjectNode o, String field, String value) {
        if (value != null && !value.isEmpty()) {
            o.put(field, value);
        }
    }

    private static void putStringList(ObjectNode o, String field, List<String> values) {
        if (!values.isEmpty()) {
            ArrayNode a = o.putArray(field);
            values.forEach(a::add);
        }
    }

    /** Go's encoder writes map keys sorted. */
    private static void putStringMap(ObjectNode o, String field, Map<String, String> values) {
        if (!values.isEmpty()) {
            ObjectNode m = o.putObject(field);
            new TreeMap<>(values).forEach(m::put);
        }
    }

    private static void putKeySet(ObjectNode o, String field, Set<String> keys) {
        if (!keys.isEmpty()) {
            ObjectNode m = o.putObject(field);
            keys.stream().sorted().forEach(k -> m.putObject(k));
        }
    }

    private static void putExtras(ObjectNode o, Map<String, Object> extras) {
        extras.forEach((k, v) -> o.set(k, MAPPER.valueToTree(v)));
    }

    /** RFC 3339 in UTC with trailing zeros of the fraction dropped, as Go's {@code time.RFC3339Nano}. */
    static String formatTime(Instant t) {
        OffsetDateTime odt = t.atOffset(ZoneOffset.UTC);
        StringBuilder sb = new StringBuilder(String.format("%04d-%02d-%02dT%02d:%02d:%02d", odt.getYear(),
                odt.getMonthValue(), odt.getDayOfMonth(), odt.getHour(), odt.getMinute(), odt.getSecond()));
        int nanos = odt.getNano();
        if (nanos != 0) {
            String frac = String.format("%09d", nanos);
            int end = frac.length();
            while (frac.charAt(end - 1) == '0') {
                end--;
            }
            sb.append('.').append(frac, 0, end);
        }
        return sb.append('Z').toString();
    }

    private static byte[] bytes(JsonNode node) {
        try {
            return MAPPER.writeValueAsBytes(node);
        } catch (JsonProcessingException e) {
            throw new IllegalStateException("cannot serialize JSON", e);
        }
    }
}

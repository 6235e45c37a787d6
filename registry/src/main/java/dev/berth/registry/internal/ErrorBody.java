package dev.berth.registry.internal;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/** Renders a registry error response body ({@code {"errors":[{"code","message","detail"}]}}) for messages. */
final class ErrorBody {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final int MAX_TEXT = 300;

    private ErrorBody() {
    }

    /** {@code CODE: message (detail); ...}, else the body as text (shortened), else empty. */
    static String describe(byte[] body) {
        if (body == null || body.length == 0) {
            return "";
        }
        try {
            JsonNode root = JSON.readTree(body);
            JsonNode errors = root == null ? null : root.get("errors");
            if (errors != null && errors.isArray() && !errors.isEmpty()) {
                List<String> parts = new ArrayList<>();
                for (JsonNode e : errors) {
                    StringBuilder sb = new StringBuilder();
                    sb.append(e.path("code").asText("UNKNOWN"));
                    String message = e.path("message").asText("");
                    if (!message.isEmpty()) {
                        sb.append(": ").append(message);
                    }
                    JsonNode detail = e.get("detail");
                    if (detail != null && !detail.isNull() && !(detail.isContainerNode() && detail.isEmpty())) {
                        String d = detail.isTextual() ? detail.asText() : detail.toString();
                        sb.append(" (").append(shorten(d)).append(')');
                    }
                    parts.add(sb.toString());
                }
                return String.join("; ", parts);
            }
        } catch (IOException e) {
            // not JSON
        }
        return shorten(new String(body, StandardCharsets.UTF_8).strip());
    }

    private static String shorten(String s) {
        return s.length() <= MAX_TEXT ? s : s.substring(0, MAX_TEXT) + "...";
    }
}

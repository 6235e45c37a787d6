package dev.berth;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.container.ContainerRecord;
import dev.berth.api.task.RuncOptions;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Keeps a container's runc shim options in its record. The record holds them as a typed blob like
 * containerd's {@code Any}; Berth's type is JSON, so the metadata stays readable with {@code sqlite3}.
 */
final class RuncOptionsCodec {
    static final String TYPE = "dev.berth.api.task.RuncOptions+json";
    private static final ObjectMapper JSON = new ObjectMapper();

    private RuncOptionsCodec() {
    }

    static ContainerRecord.Runtime encode(String runtime, RuncOptions o) {
        if (o.equals(RuncOptions.defaults())) {
            return new ContainerRecord.Runtime(runtime);
        }
        ObjectNode n = JSON.createObjectNode();
        n.put("binaryName", o.binaryName());
        o.root().ifPresent(r -> n.put("root", r.toString()));
        n.put("systemdCgroup", o.systemdCgroup());
        n.put("noPivotRoot", o.noPivotRoot());
        n.put("noNewKeyring", o.noNewKeyring());
        n.put("shimCgroup", o.shimCgroup());
        n.put("ioUid", o.ioUid());
        n.put("ioGid", o.ioGid());
        n.put("criuPath", o.criuPath());
        try {
            return new ContainerRecord.Runtime(runtime, TYPE, JSON.writeValueAsBytes(n));
        } catch (IOException e) {
            throw new IllegalStateException("cannot encode runc options", e);
        }
    }

    static RuncOptions decode(ContainerRecord.Runtime runtime) {
        if (runtime.optionsTypeUrl().isEmpty()) {
            return RuncOptions.defaults();
        }
        if (!runtime.optionsTypeUrl().equals(TYPE)) {
            throw new InvalidArgumentException("runtime options of type " + runtime.optionsTypeUrl()
                    + " are not supported (expected " + TYPE + ")");
        }
        try {
            JsonNode n = JSON.readTree(runtime.options());
            RuncOptions.Builder b = RuncOptions.builder()
                    .binaryName(n.path("binaryName").asText(""))
                    .systemdCgroup(n.path("systemdCgroup").asBoolean())
                    .noPivotRoot(n.path("noPivotRoot").asBoolean())
                    .noNewKeyring(n.path("noNewKeyring").asBoolean())
                    .shimCgroup(n.path("shimCgroup").asText(""))
                    .ioOwner(n.path("ioUid").asInt(), n.path("ioGid").asInt())
                    .criuPath(n.path("criuPath").asText(""));
            if (n.hasNonNull("root")) {
                b.root(Path.of(n.get("root").asText()));
            }
            return b.build();
        } catch (IOException e) {
            throw new InvalidArgumentException("runtime options are not valid JSON: " + e.getMessage());
        }
    }
}

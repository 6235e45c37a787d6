package dev.berth.api.oci.runtime;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonMappingException;
import dev.berth.api.BerthException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.IoFailureException;
import dev.berth.api.oci.runtime.internal.RuntimeSpecMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/**
 * Reads and writes the runtime-spec model as OCI JSON: {@code config.json} ({@link Spec}), the process of
 * an exec ({@link Process}) and the resources of a task update ({@link LinuxResources}).
 *
 * <p>Parsing keeps fields the model does not know and writing puts them back, so
 * {@code toJson(parse(bytes))} loses nothing a runtime reads. Writing leaves out nulls and empty lists and
 * maps. All methods are thread-safe.
 */
public final class RuntimeSpecJson {
    private RuntimeSpecJson() {
    }

    /**
     * Parses a {@code config.json}.
     *
     * @throws InvalidArgumentException if {@code json} is not a JSON object of the spec's shape; the
     *     message names the field and position
     */
    public static Spec parse(byte[] json) {
        return read(json, Spec.class, "OCI runtime spec");
    }

    /** Reads and parses the {@code config.json} at {@code file}. */
    public static Spec read(Path file) throws IOException {
        return parse(Files.readAllBytes(file));
    }

    /** Parses the JSON of an OCI {@code Process} (the spec of an exec). */
    public static Process parseProcess(byte[] json) {
        return read(json, Process.class, "OCI process");
    }

    /** Parses the JSON of OCI {@code LinuxResources} (the payload of a task update). */
    public static LinuxResources parseResources(byte[] json) {
        return read(json, LinuxResources.class, "OCI Linux resources");
    }

    /**
     * Parses an OCI {@code LinuxSeccomp} object, the {@code linux.seccomp} of a spec (the format of Docker's
     * and containerd's seccomp profile files).
     */
    public static LinuxSeccomp parseSeccomp(byte[] json) {
        return read(json, LinuxSeccomp.class, "OCI seccomp profile");
    }

    /** The compact UTF-8 JSON of {@code seccomp}. */
    public static byte[] toJson(LinuxSeccomp seccomp) {
        return write(seccomp);
    }

    /** The compact UTF-8 JSON of {@code spec}. */
    public static byte[] toJson(Spec spec) {
        return write(spec);
    }

    /** The compact UTF-8 JSON of {@code process}. */
    public static byte[] toJson(Process process) {
        return write(process);
    }

    /** The compact UTF-8 JSON of {@code resources}. */
    public static byte[] toJson(LinuxResources resources) {
        return write(resources);
    }

    /** Indented JSON of {@code spec}, for people reading it. */
    public static String toPrettyJson(Spec spec) {
        Objects.requireNonNull(spec, "spec");
        try {
            return RuntimeSpecMapper.MAPPER.writerWithDefaultPrettyPrinter().writeValueAsString(spec);
        } catch (JsonProcessingException e) {
            throw new BerthException("cannot write a runtime spec as JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static byte[] write(Object value) {
        Objects.requireNonNull(value, "value");
        try {
            return RuntimeSpecMapper.MAPPER.writeValueAsBytes(value);
        } catch (JsonProcessingException e) {
            // The model holds only JSON-representable values, so this is a bug rather than bad input.
            throw new BerthException("cannot write a runtime spec as JSON: " + e.getOriginalMessage(), e);
        }
    }

    private static <T> T read(byte[] json, Class<T> type, String what) {
        Objects.requireNonNull(json, "json");
        try {
            T value = RuntimeSpecMapper.MAPPER.readValue(json, type);
            if (value == null) {
                throw new InvalidArgumentException("invalid " + what + ": JSON null");
            }
            return value;
        } catch (JsonMappingException e) {
            throw new InvalidArgumentException("invalid " + what + ", field " + fieldPath(e) + location(e) + ": "
                    + e.getOriginalMessage(), e);
        } catch (JsonProcessingException e) {
            throw new InvalidArgumentException("invalid " + what + " JSON" + location(e) + ": "
                    + e.getOriginalMessage(), e);
        } catch (IOException e) {
            throw IoFailureException.of("cannot read " + what, e);
        }
    }

    /** The JSON path of the failing value, e.g. {@code process.rlimits[0].hard}. */
    private static String fieldPath(JsonMappingException e) {
        StringBuilder path = new StringBuilder();
        for (JsonMappingException.Reference ref : e.getPath()) {
            if (ref.getFieldName() != null) {
                path.append(path.length() == 0 ? "" : ".").append(ref.getFieldName());
            } else if (ref.getIndex() >= 0) {
                path.append('[').append(ref.getIndex()).append(']');
            }
        }
        return path.length() == 0 ? "(top level)" : path.toString();
    }

    private static String location(JsonProcessingException e) {
        JsonLocation loc = e.getLocation();
        return loc == null ? "" : " (line " + loc.getLineNr() + ", column " + loc.getColumnNr() + ")";
    }
}

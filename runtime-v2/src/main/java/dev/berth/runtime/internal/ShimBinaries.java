package dev.berth.runtime.internal;

import dev.berth.api.InvalidArgumentException;
import dev.berth.api.NotFoundException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Finds the shim binary for a runtime name the way containerd does: {@code io.containerd.runc.v2} means
 * {@code containerd-shim-runc-v2} (the last two dotted parts), looked up in the search path; an absolute
 * path is used as is. Found paths are cached per binary name.
 */
public final class ShimBinaries {
    private final List<Path> searchPath;
    private final Map<String, Path> cache = new ConcurrentHashMap<>();

    public ShimBinaries(List<Path> searchPath) {
        this.searchPath = List.copyOf(searchPath);
    }

    /** The binary name for a runtime name, e.g. {@code containerd-shim-runc-v2}. */
    public static String binaryName(String runtime) {
        String[] parts = runtime.split("\\.", -1);
        if (parts.length < 2 || parts[0].isEmpty() || parts[parts.length - 2].isEmpty()
                || parts[parts.length - 1].isEmpty()) {
            throw new InvalidArgumentException("invalid runtime name \"" + runtime
                    + "\": expected <prefix>.<name>.<version> such as io.containerd.runc.v2, or an absolute path");
        }
        return "containerd-shim-" + parts[parts.length - 2] + "-" + parts[parts.length - 1];
    }

    /**
     * @throws NotFoundException naming the runtime and every place searched
     * @throws InvalidArgumentException for a malformed runtime name
     */
    public Path resolve(String runtime) {
        if (runtime.startsWith("/")) {
            Path path = Path.of(runtime);
            if (!Files.isRegularFile(path) || !Files.isExecutable(path)) {
                throw new NotFoundException("runtime " + runtime + ": shim binary " + path
                        + " does not exist or is not executable");
            }
            return path;
        }
        String binary = binaryName(runtime);
        Path cached = cache.get(binary);
        if (cached != null && Files.isExecutable(cached)) {
            return cached;
        }
        List<String> searched = new ArrayList<>();
        for (Path dir : searchPath) {
            Path candidate = dir.resolve(binary);
            searched.add(candidate.toString());
            if (Files.isRegularFile(candidate) && Files.isExecutable(candidate)) {
                cache.put(binary, candidate);
                return candidate;
            }
        }
        throw new NotFoundException("runtime " + runtime + ": shim binary " + binary + " not found; searched "
                + (searched.isEmpty() ? "nothing (empty search path)" : String.join(", ", searched))
                + (binary.startsWith("containerd-shim-runc-") ? "; it comes with containerd (Debian/Ubuntu:"
                        + " apt-get install containerd)" : ""));
    }

    /**
     * What to install when a shim reports that it cannot find the OCI runtime it runs (runc's shim says
     * {@code exec: "runc": executable file not found in $PATH}); empty when the message is about something else.
     */
    public static String missingRuntimeHint(String shimMessage) {
        if (shimMessage == null || !shimMessage.contains("executable file not found")) {
            return "";
        }
        if (shimMessage.contains("\"runc\"") || shimMessage.contains("runc: ")) {
            return " (runc is not installed or not on the shim's PATH; Debian/Ubuntu: apt-get install runc)";
        }
        return " (the OCI runtime binary is not installed or not on the shim's PATH)";
    }
}

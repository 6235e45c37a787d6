package dev.berth.cri.internal;

import dev.berth.Namespace;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.NotFoundException;
import dev.berth.image.LayerContent;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * The sandbox image, built here and never pulled: Debian's static {@code catatonit} as {@code /pause},
 * run as {@code /pause -P}, its pause mode (sleeps forever, reaps children, exits on SIGTERM/SIGINT).
 */
final class PauseImage {
    static final String NAME = "berth.dev/pause:catatonit";
    static final List<Path> CANDIDATES = List.of(Path.of("/usr/bin/catatonit"), Path.of("/usr/libexec/catatonit/catatonit"),
            Path.of("/usr/libexec/podman/catatonit"));

    private PauseImage() {
    }

    /** Builds the image into {@code ns} unless it is there; only a build is serialized, not the look-up. */
    static String ensure(Namespace ns) {
        try {
            ns.images().get(NAME);
            return NAME;
        } catch (NotFoundException missing) {
            return build(ns);
        }
    }

    private static synchronized String build(Namespace ns) {
        try {
            ns.images().get(NAME);
            return NAME;
        } catch (NotFoundException missing) {
            // build it below
        }
        Path binary = CANDIDATES.stream().filter(Files::isExecutable).findFirst()
                .orElseThrow(() -> new FailedPreconditionException("pod sandboxes need catatonit, looked for in "
                        + CANDIDATES + " (apt-get install catatonit)"));
        LayerContent layer = LayerContent.builder().copy(binary, "pause").build();
        ns.images().build(NAME, b -> b.layer(layer).entrypoint("/pause", "-P"));
        return NAME;
    }
}

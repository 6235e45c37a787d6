package dev.berth.bench.cri;

import dev.berth.api.Platform;
import dev.berth.testing.Busybox;
import dev.berth.testing.LayerBuilder;
import dev.berth.testing.OciLayout;
import dev.berth.testing.TestImageBuilder;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Writes the two images both sides import before the run, so neither pulls: busybox as
 * {@value CriBench#BUSYBOX} and the pause image as {@value #PAUSE}, which is what Berth's CRI server builds
 * for itself (Debian's static catatonit as {@code /pause}, run as {@code /pause -P}); containerd gets the
 * same one as its {@code sandbox_image}. Usage: {@code PrepareImages <dir>} writes busybox.tar and pause.tar.
 */
public final class PrepareImages {
    static final String PAUSE = "berth.dev/pause:catatonit";
    static final Path CATATONIT = Path.of("/usr/bin/catatonit");

    private PrepareImages() {
    }

    public static void main(String[] args) throws IOException {
        if (args.length != 1) {
            throw new IllegalArgumentException("usage: PrepareImages <dir>");
        }
        Path dir = Files.createDirectories(Path.of(args[0]));
        OciLayout.builder().image(CriBench.BUSYBOX, Busybox.image()).writeTar(dir.resolve("busybox.tar"));
        if (!Files.isExecutable(CATATONIT)) {
            throw new IllegalStateException(CATATONIT + " is missing: apt-get install catatonit");
        }
        var pause = TestImageBuilder.create().platform(Platform.host())
                .layer(LayerBuilder.create().file("pause", Files.readAllBytes(CATATONIT), 0755).build())
                .entrypoint("/pause", "-P").build();
        OciLayout.builder().image(PAUSE, pause).writeTar(dir.resolve("pause.tar"));
    }
}

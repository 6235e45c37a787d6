package dev.berth.junit;

import dev.berth.testing.Busybox;
import dev.berth.api.Platform;
import dev.berth.testing.OciLayout;
import dev.berth.testing.TestImage;
import dev.berth.testing.TestImageBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/** The busybox image the tests run, as an OCI layout tar written once per JVM by the test kit. */
final class TestImages {
    static final String BUSYBOX = "docker.io/library/busybox:latest";
    /** A busybox httpd serving "hello" on 8080. */
    static final String[] WEB = {"sh", "-c", "mkdir -p /www && echo hello > /www/index.html && exec httpd -f -p 8080 -h /www"};
    private static volatile Path archive;

    private TestImages() {
    }

    static synchronized ImageSource busybox() {
        if (archive == null) {
            try {
                Path a = Files.createTempFile("berth-junit-busybox-", ".tar");
                a.toFile().deleteOnExit();
                // like Docker Hub's busybox: no entrypoint, Cmd ["sh"], so withCommand gives the whole argv
                TestImage image = TestImageBuilder.create().platform(Platform.host()).layer(Busybox.layer())
                        .cmd("sh").env(Busybox.PATH).build();
                OciLayout.builder().image(BUSYBOX, image).writeTar(a);
                archive = a;
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            }
        }
        return ImageSource.archive(archive);
    }
}

package dev.berth.junit.internal;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.Namespace;
import dev.berth.api.Platform;
import dev.berth.junit.ImageSource;
import dev.berth.testing.Busybox;
import dev.berth.testing.OciLayout;
import dev.berth.testing.TestImageBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.util.UUID;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ImageResolverIT {

    @Test
    void anArchiveImportedOnceIsKnownToLaterJvmsUntilTheFileChanges(@TempDir Path dir) throws Exception {
        Namespace ns = SharedBerth.get().namespace();
        String name = "berth.dev/junit-resolver-" + UUID.randomUUID().toString().substring(0, 8) + ":latest";
        Path archive = dir.resolve("busybox.tar");
        OciLayout.builder().image(name, TestImageBuilder.create().platform(Platform.host()).layer(Busybox.layer())
                .cmd("sh").env(Busybox.PATH).build()).writeTar(archive);
        try {
            assertThat(ImageResolver.resolve(ns, ImageSource.archive(archive, name))).isEqualTo(name);

            String stamp = ImageResolver.stamp(archive, Files.readAttributes(archive, BasicFileAttributes.class));
            assertThat(ns.images().get(name).labels()).containsEntry(ImageResolver.ARCHIVE_LABEL, stamp);
            assertThat(ImageResolver.importedBefore(ns, name, stamp)).isTrue();

            Files.setLastModifiedTime(archive, FileTime.fromMillis(Files.getLastModifiedTime(archive).toMillis() + 5_000));
            String changed = ImageResolver.stamp(archive, Files.readAttributes(archive, BasicFileAttributes.class));
            assertThat(ImageResolver.importedBefore(ns, name, changed)).isFalse();
            assertThat(ImageResolver.importedBefore(ns, name + "-other", stamp)).isFalse();
        } finally {
            ns.images().delete(name);
        }
    }
}

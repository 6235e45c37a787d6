package dev.berth.snapshot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.Mount;
import dev.berth.snapshot.mount.Mounted;
import dev.berth.snapshot.mount.Mounts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.io.TempDir;

/** Gives each test a private temp dir and proves afterwards that nothing is left mounted below it. */
abstract class MountingTestBase {
    @TempDir
    Path tmp;

    private final AtomicInteger mountDirs = new AtomicInteger();

    @AfterEach
    void nothingLeftMounted() {
        List<Path> left = Mounts.mountPointsUnder(tmp);
        List<Path> reversed = new ArrayList<>(left);
        Collections.reverse(reversed);
        for (Path p : reversed) {
            Mounts.unmountAll(p);
        }
        assertThat(left).as("mounts left behind under " + tmp).isEmpty();
    }

    /** A fresh empty directory to mount on. */
    Path newMountPoint() {
        try {
            return Files.createDirectory(tmp.resolve("mnt" + mountDirs.incrementAndGet()));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    interface MountedWork {
        void run(Path root) throws Exception;
    }

    /** Mounts {@code mounts} on a fresh directory, runs {@code work} there and unmounts again. */
    void withMounted(List<Mount> mounts, MountedWork work) throws Exception {
        try (Mounted m = Mounts.mountAll(mounts, newMountPoint())) {
            work.run(m.target());
        }
    }
}

package dev.berth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.Mount;
import dev.berth.snapshot.mount.Mounted;
import dev.berth.snapshot.mount.Mounts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

/** What a process killed while reading an image's users left mounted under tmpmounts. */
class LeftoverMountsIT {
    @Test
    void openUnmountsAndRemovesWhatADeadProcessLeftButNotALiveOnes() throws Exception {
        try (TestRoots roots = new TestRoots()) {
            Process gone = new ProcessBuilder("true").start();
            gone.waitFor();
            Path tmpmounts = Files.createDirectories(roots.root.resolve("tmpmounts"));
            Path deadOnes = Files.createDirectory(tmpmounts.resolve(gone.pid() + "-left"));
            Path liveOnes = Files.createDirectory(tmpmounts.resolve(ProcessHandle.current().pid() + "-busy"));
            Mounts.mount(new Mount("tmpfs", "tmpfs", List.of("size=1m")), deadOnes); // never closed: left behind
            Mounted live = Mounts.mount(new Mount("tmpfs", "tmpfs", List.of("size=1m")), liveOnes);
            try {
                roots.open().close();

                assertThat(Mounts.mountPointsUnder(deadOnes)).isEmpty();
                assertThat(deadOnes).doesNotExist();
                assertThat(Mounts.mountPointsUnder(liveOnes)).containsExactly(liveOnes);
            } finally {
                live.close();
                Files.deleteIfExists(liveOnes);
                Mounts.unmountAll(deadOnes);
            }
        }
    }
}

package dev.berth.cri.internal;

import dev.berth.api.IoFailureException;
import dev.berth.api.oci.runtime.Mount;
import dev.berth.snapshot.mount.Mounts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/**
 * A pod's {@code /dev/shm}, one for the sandbox and all its containers as in containerd's CRI: the pod shares an
 * IPC namespace, so its POSIX shared memory ({@code shm_open}, files in {@code /dev/shm}) is shared too. A
 * tmpfs mounted on the host in the pod's directory ({@code <sandbox dir>/shm}, 64 MiB, {@code nosuid,nodev,noexec},
 * mode 1777) and bound into each; with the host's IPC namespace, the host's {@code /dev/shm}. Unmounted when
 * the pod stops.
 */
final class PodShm {
    static final String DIR = "shm";
    private static final Path HOST_SHM = Path.of("/dev/shm");
    private static final dev.berth.api.Mount TMPFS = new dev.berth.api.Mount("tmpfs", "shm",
            List.of("nosuid", "nodev", "noexec", "mode=1777", "size=65536k"));

    private PodShm() {
    }

    /** Mounts the pod's tmpfs (none for a pod in the host's IPC namespace); returns what to bind as /dev/shm. */
    static Path create(Path podDir, boolean hostIpc) {
        if (hostIpc) {
            return HOST_SHM;
        }
        Path shm = podDir.resolve(DIR);
        try {
            Files.createDirectories(shm);
        } catch (IOException e) {
            throw IoFailureException.of("cannot make the pod's /dev/shm at " + shm, e);
        }
        Mounts.mount(TMPFS, shm); // stays until release(): the handle is not kept
        return shm;
    }

    /**
     * What a container of the pod binds as /dev/shm: the pod's, or empty for a pod made before pods had one
     * (the container then keeps a tmpfs of its own).
     */
    static Optional<Path> of(Path podDir, boolean hostIpc) {
        if (hostIpc) {
            return Optional.of(HOST_SHM);
        }
        Path shm = podDir.resolve(DIR);
        return Files.isDirectory(shm) ? Optional.of(shm) : Optional.empty();
    }

    /** The bind of {@code source} at /dev/shm: read-only for the sandbox's pause process, as containerd has it. */
    static Mount mount(Path source, boolean readOnly) {
        return new Mount("/dev/shm", "bind", source.toString(),
                List.of("rbind", "rprivate", readOnly ? "ro" : "rw", "nosuid", "nodev", "noexec"));
    }

    /** Unmounts the pod's tmpfs if it is mounted; repeatable. */
    static void release(Path podDir) {
        Mounts.unmount(podDir.resolve(DIR)); // false when not mounted: released before, or never made
    }
}

package dev.berth.snapshot.mount;

import dev.berth.api.Mount;
import dev.berth.snapshot.internal.LinuxMounter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;

/**
 * Performs the {@link Mount}s snapshotters return, with mount(2) and umount2(2). Needs
 * {@code CAP_SYS_ADMIN}.
 *
 * <p>Options are fstab-style: flags ({@code ro}, {@code rw}, {@code bind}, {@code rbind}, {@code nosuid},
 * {@code nodev}, {@code noexec}, {@code remount}, {@code noatime}, ...) and propagation
 * ({@code private}, {@code rprivate}, {@code shared}, {@code slave}, ...) become mount flags; everything
 * else is passed to the file system as its data string. A read-only bind mount is remounted read-only,
 * since Linux ignores {@code ro} on the initial bind. When an overlay's option string is longer than
 * mount(2) accepts (deep layer chains), the mount is made with the new mount API instead, passing each
 * lower directory separately ({@code fsconfig lowerdir+}, Linux 6.8+).
 *
 * <p>All methods are thread-safe; mounts are per process, so they are visible to every thread.
 * Failures throw {@link MountException} naming the errno, the call and the paths.
 */
public final class Mounts {
    private Mounts() {
    }

    /**
     * Mounts each of {@code mounts} in order at {@code target} (joined with the mount's own relative
     * target, if any). If one fails, the ones already made are unmounted before the error is thrown.
     * Entries that only change an existing mount ({@code remount}, a bare propagation option such as
     * {@code rprivate}) are applied but not undone by {@code close()}.
     *
     * @return a handle whose {@code close()} unmounts them all
     * @throws dev.berth.api.InvalidArgumentException if a mount's target would escape {@code target}
     * @throws dev.berth.api.NotImplementedException for {@code loop} mounts
     */
    public static Mounted mountAll(List<Mount> mounts, Path target) {
        Objects.requireNonNull(mounts, "mounts");
        Path root = target.toAbsolutePath().normalize();
        List<Path> done = new ArrayList<>();
        try {
            for (Mount m : mounts) {
                Path t = LinuxMounter.targetOf(m, root);
                if (LinuxMounter.mount(m, t)) {
                    done.add(t);
                }
            }
        } catch (RuntimeException e) {
            for (int i = done.size() - 1; i >= 0; i--) {
                try {
                    LinuxMounter.unmount(done.get(i));
                } catch (MountException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            throw e;
        }
        return new Mounted(root, done);
    }

    /** Mounts one mount at {@code target}; the returned handle unmounts it. */
    public static Mounted mount(Mount mount, Path target) {
        return mountAll(List.of(mount), target);
    }

    /**
     * Unmounts the topmost mount at {@code target}, retrying while it is busy and finally detaching it
     * ({@code MNT_DETACH}).
     *
     * @return false if nothing was mounted there
     */
    public static boolean unmount(Path target) {
        return LinuxMounter.unmount(target.toAbsolutePath().normalize());
    }

    /** Unmounts every mount stacked at {@code target}; returns how many there were. */
    public static int unmountAll(Path target) {
        return LinuxMounter.unmountAll(target.toAbsolutePath().normalize());
    }

    /** This process's mount points at or below {@code dir}, from {@code /proc/self/mountinfo}. */
    public static List<Path> mountPointsUnder(Path dir) {
        return LinuxMounter.mountPointsUnder(dir);
    }
}

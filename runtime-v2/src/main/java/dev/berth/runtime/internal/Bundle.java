package dev.berth.runtime.internal;

import dev.berth.api.IoFailureException;

import dev.berth.api.AlreadyExistsException;
import dev.berth.sys.FileTrees;
import dev.berth.sys.MountInfo;
import dev.berth.sys.Syscalls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Optional;

/**
 * A task's bundle directory {@code <state>/tasks/<ns>/<id>}: {@code config.json}, {@code rootfs/}
 * (0711, where the shim mounts the rootfs), the {@code log} FIFO the shim writes its own log to,
 * {@code shim-binary-path} and, written by the shim, {@code address}. The directory is named after the
 * task id because the runc shim derives the id from it.
 */
public final class Bundle {
    private static final String PRIVATE_CGROUP2 = "berth-private-cgroup2";
    private static final String SHARED_SHIM = "berth-shared-shim";
    private static final String SPARE_SHIM = "berth-spare-shim";
    private static final String SERVED_TASK = "berth-served-task";
    private static final String GROUP_SHIM = "berth-group-shim";
    private static final java.util.concurrent.atomic.AtomicLong RETIRED = new java.util.concurrent.atomic.AtomicLong();

    private final Path dir;
    private final String id;

    private Bundle(Path dir, String id) {
        this.dir = dir;
        this.id = id;
    }

    /** Opens an existing bundle directory. */
    public static Bundle at(Path dir) {
        return new Bundle(dir, dir.getFileName().toString());
    }

    /**
     * Creates the bundle with {@code spec} as {@code config.json}.
     *
     * @throws AlreadyExistsException if the directory exists
     */
    public static Bundle create(Path tasksDir, String namespace, String id, byte[] spec) {
        Path nsDir = tasksDir.resolve(namespace);
        Path dir = nsDir.resolve(id);
        try {
            createDirs(nsDir, "rwx--x--x");
            try {
                Files.createDirectory(dir);
            } catch (FileAlreadyExistsException e) {
                throw new AlreadyExistsException("task " + namespace + "/" + id + " already exists (bundle " + dir + ")");
            }
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwx------"));
            Bundle bundle = new Bundle(dir, id);
            try {
                Path rootfs = Files.createDirectory(bundle.rootfs());
                Files.setPosixFilePermissions(rootfs, PosixFilePermissions.fromString("rwx--x--x"));
                Files.write(bundle.configJson(), spec);
                Syscalls.get().mkfifo(bundle.log(), 0700);
            } catch (IOException | RuntimeException e) {
                bundle.delete();
                throw e;
            }
            return bundle;
        } catch (IOException e) {
            throw IoFailureException.of("cannot create bundle " + dir, e);
        }
    }

    private static void createDirs(Path dir, String perms) throws IOException {
        if (Files.isDirectory(dir)) {
            return;
        }
        Path parent = dir.getParent();
        if (parent != null) {
            createDirs(parent, perms);
        }
        try {
            Files.createDirectory(dir);
            Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString(perms));
        } catch (FileAlreadyExistsException e) {
            // another task created it concurrently
        }
    }

    public Path dir() {
        return dir;
    }

    public Path rootfs() {
        return dir.resolve("rootfs");
    }

    public Path configJson() {
        return dir.resolve("config.json");
    }

    public Path log() {
        return dir.resolve("log");
    }

    public void writeShimBinaryPath(Path shim) throws IOException {
        writeAtomically(dir.resolve("shim-binary-path"), shim.toString());
    }

    /** The shim binary recorded by {@link #writeShimBinaryPath}, if any. */
    public Optional<Path> shimBinaryPath() {
        try {
            String path = Files.readString(dir.resolve("shim-binary-path"), StandardCharsets.UTF_8).trim();
            return path.isEmpty() ? Optional.empty() : Optional.of(Path.of(path));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw IoFailureException.of("cannot read " + dir.resolve("shim-binary-path"), e);
        }
    }

    /** Records that the shim runs in a private cgroup2 mount namespace, so its cleanup does too. */
    public void markPrivateCgroup2() throws IOException {
        writeAtomically(dir.resolve(PRIVATE_CGROUP2), "");
    }

    public boolean privateCgroup2() {
        return Files.exists(dir.resolve(PRIVATE_CGROUP2));
    }

    /** Records the shim group the task's spec puts it in ({@link ShimGroup}), before its shim starts. */
    public void writeShimGroup(String group) throws IOException {
        writeAtomically(dir.resolve(ShimGroup.FILE), group);
    }

    /** The shim group recorded by {@link #writeShimGroup}, if any. */
    public Optional<String> shimGroup() {
        try {
            String group = Files.readString(dir.resolve(ShimGroup.FILE), StandardCharsets.UTF_8);
            return group.isEmpty() ? Optional.empty() : Optional.of(group);
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw IoFailureException.of("cannot read " + dir.resolve(ShimGroup.FILE), e);
        }
    }

    /**
     * Records that the task is served by the shared shim living in {@code home} at {@code socket}: the
     * {@code address} file the shim would have written had it been started here, and where its home is.
     */
    public void writeSharedShim(Path home, Path socket) throws IOException {
        writeAtomically(dir.resolve(SHARED_SHIM), home.toString());
        writeAtomically(dir.resolve("address"), "unix://" + socket);
    }

    /** Records the shim's socket as the shim's {@code start} would have (a task joining its group's shim). */
    public void writeAddress(Path socket) throws IOException {
        writeAtomically(dir.resolve("address"), "unix://" + socket);
    }

    /**
     * Records that the shim in {@link #sharedShim()} serves this task alone (a spare it took): another
     * live runtime may reach it directly, as a shim of the task's own.
     */
    public void markSpareShim() throws IOException {
        writeAtomically(dir.resolve(SPARE_SHIM), "");
    }

    public boolean spareShim() {
        return Files.exists(dir.resolve(SPARE_SHIM));
    }

    /**
     * In a shim's home: records that the spare became the shim of the task whose bundle is {@code taskBundle}.
     * From then on the shim belongs to that task, as a shim of its own: a later runtime reaches it through
     * the task's bundle and leaves the home alone while the task is there.
     */
    public void writeServedTask(Path taskBundle) throws IOException {
        writeAtomically(dir.resolve(SERVED_TASK), taskBundle.toString());
    }

    /**
     * In a shim's home: records that the spare became the shim of the shim group named after it (tasks that
     * name the group reach it through the shim's {@code start}); a later runtime leaves it to those tasks.
     */
    public void markGroupShim() throws IOException {
        writeAtomically(dir.resolve(GROUP_SHIM), "");
    }

    public boolean groupShim() {
        return Files.exists(dir.resolve(GROUP_SHIM));
    }

    /** In a shim's home: the bundle of the task the spare became the shim of, if it did. */
    public Optional<Path> servedTask() {
        try {
            String task = Files.readString(dir.resolve(SERVED_TASK), StandardCharsets.UTF_8).trim();
            return task.isEmpty() ? Optional.empty() : Optional.of(Path.of(task));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw IoFailureException.of("cannot read " + dir.resolve(SERVED_TASK), e);
        }
    }

    /** The home of the shared shim serving the task, if it has no shim of its own. */
    public Optional<Path> sharedShim() {
        try {
            String home = Files.readString(dir.resolve(SHARED_SHIM), StandardCharsets.UTF_8).trim();
            return home.isEmpty() ? Optional.empty() : Optional.of(Path.of(home));
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw IoFailureException.of("cannot read " + dir.resolve(SHARED_SHIM), e);
        }
    }

    /** The shim's socket path, from the {@code unix://} address in the {@code address} file. */
    public Optional<Path> socket() {
        return address().filter(a -> a.startsWith("unix://")).map(a -> Path.of(a.substring("unix://".length())));
    }

    /** The shim's socket address from the {@code address} file it writes, if present. */
    public Optional<String> address() {
        try {
            return Optional.of(Files.readString(dir.resolve("address"), StandardCharsets.UTF_8).trim());
        } catch (NoSuchFileException e) {
            return Optional.empty();
        } catch (IOException e) {
            throw IoFailureException.of("cannot read " + dir.resolve("address"), e);
        }
    }

    private void writeAtomically(Path target, String content) throws IOException {
        Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp");
        Files.writeString(tmp, content, StandardCharsets.UTF_8);
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    /**
     * Unmounts whatever is still mounted under {@code rootfs}, renames the bundle to {@code .<id>} (so a
     * half-deleted bundle is never mistaken for a live one) and removes it. Idempotent.
     */
    public void delete() throws IOException {
        Path doomed = retire();
        if (doomed != null) {
            removeRecursively(doomed);
        }
        Path legacy = dir.resolveSibling("." + id);
        if (Files.exists(legacy)) {
            removeRecursively(legacy);
        }
    }

    /**
     * The first half of {@link #delete()}: unmounts what is left under {@code rootfs} and renames the bundle
     * to a unique {@code .<id>.<n>} name, so the id is free and nothing mistakes it for a live bundle; the
     * caller removes the returned directory (null if there was no bundle). A runtime opening the state
     * directory removes such directories left behind.
     */
    public Path retire() throws IOException {
        List<Path> mounts = mountsUnder(dir);
        if (!mounts.isEmpty()) {
            Path rootfs = rootfs();
            for (Path mount : mounts) {
                if (mount.startsWith(rootfs)) {
                    Syscalls.get().umount2(mount.toString(), Syscalls.MNT_DETACH);
                }
            }
            // Removing files through a mount would delete the mounted (image or host) data itself.
            List<Path> left = mountsUnder(dir);
            if (!left.isEmpty()) {
                throw new IOException("bundle " + dir + " still has mounts " + left + "; not removing it");
            }
        }
        if (!Files.exists(dir)) {
            return null;
        }
        Path doomed = dir.resolveSibling("." + id + "." + RETIRED.incrementAndGet());
        while (true) {
            try {
                Files.move(dir, doomed, StandardCopyOption.ATOMIC_MOVE);
                return doomed;
            } catch (FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException taken) {
                // left by an earlier process with the same counter value
                doomed = dir.resolveSibling("." + id + "." + System.nanoTime());
            }
        }
    }

    /** Mount points at or below {@code root}, deepest first. */
    static List<Path> mountsUnder(Path root) {
        return MountInfo.mountPointsUnder(root);
    }

    /** Deletes {@code root} and everything below it; never follows a symlink or crosses a mount point. */
    public static void removeRecursively(Path root) throws IOException {
        FileTrees.deleteTree(root);
    }
}

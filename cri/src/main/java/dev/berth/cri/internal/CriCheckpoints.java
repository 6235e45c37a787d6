package dev.berth.cri.internal;

import dev.berth.api.BerthException;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.IoFailureException;
import dev.berth.api.NotImplementedException;
import dev.berth.api.task.CheckpointConfig;
import dev.berth.api.task.Task;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * CheckpointContainer: CRIU images of the running container's task, written as a tar archive at the
 * requested location. Where CRIU cannot run ({@code criu check} fails, e.g. a kernel its version does not
 * know), the RPC answers UNIMPLEMENTED naming CRIU's complaint instead of a runc error from deep inside.
 */
final class CriCheckpoints {
    private static volatile String criuProblem;

    private CriCheckpoints() {
    }

    /** Why CRIU cannot checkpoint here, or empty when it can ({@code criu check}, asked once per JVM). */
    static String criuProblem() {
        String p = criuProblem;
        if (p == null) {
            try {
                Process check = new ProcessBuilder("criu", "check").redirectErrorStream(true).start();
                List<String> lines = new String(check.getInputStream().readAllBytes(), StandardCharsets.UTF_8)
                        .lines().filter(l -> l.startsWith("Error")).limit(2).toList();
                p = check.waitFor() == 0 && lines.isEmpty() ? "" : "criu check failed: " + String.join("; ", lines);
            } catch (IOException e) {
                p = "criu is not runnable: " + e.getMessage();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return "interrupted while asking criu check";
            }
            criuProblem = p;
        }
        return p;
    }

    /** Checkpoints {@code task} (left running) into a tar archive at {@code location}, next to which it works. */
    static void checkpoint(String containerId, Task task, String location) {
        if (location.isEmpty()) {
            throw new InvalidArgumentException("checkpoint location must be given");
        }
        Path archive = Path.of(location);
        if (!archive.isAbsolute()) {
            throw new InvalidArgumentException("checkpoint location must be absolute: " + location);
        }
        if (task == null || !task.isAlive()) {
            throw new FailedPreconditionException("container " + containerId + " is not running");
        }
        String problem = criuProblem();
        if (!problem.isEmpty()) {
            throw new NotImplementedException("cannot checkpoint container " + containerId + ": CRIU does not work on"
                    + " this host (" + problem + ")");
        }
        Path dir = archive.toAbsolutePath().getParent();
        Path images;
        try {
            Files.createDirectories(dir);
            images = Files.createTempDirectory(dir, ".berth-checkpoint-",
                    PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwx------")));
        } catch (IOException e) {
            throw IoFailureException.of("cannot prepare a checkpoint next to " + archive, e);
        }
        Path partial = dir.resolve(archive.getFileName() + ".partial");
        try {
            try {
                task.checkpoint(CheckpointConfig.to(images.resolve("checkpoint")));
            } catch (BerthException e) {
                throw new FailedPreconditionException("cannot checkpoint container " + containerId + ": " + e.getMessage());
            }
            try (OutputStream out = Files.newOutputStream(partial);
                 TarArchiveOutputStream tar = new TarArchiveOutputStream(out)) {
                tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
                tar.setBigNumberMode(TarArchiveOutputStream.BIGNUMBER_POSIX);
                try (Stream<Path> files = Files.walk(images).sorted()) {
                    for (Path f : (Iterable<Path>) files::iterator) {
                        if (f.equals(images)) {
                            continue;
                        }
                        TarArchiveEntry entry = new TarArchiveEntry(f, images.relativize(f).toString());
                        tar.putArchiveEntry(entry);
                        if (Files.isRegularFile(f)) {
                            Files.copy(f, tar);
                        }
                        tar.closeArchiveEntry();
                    }
                }
            }
            Files.setPosixFilePermissions(partial, PosixFilePermissions.fromString("rw-------"));
            Files.move(partial, archive, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            throw IoFailureException.of("cannot write the checkpoint archive " + archive, e);
        } finally {
            deleteQuietly(images);
            deleteQuietly(partial);
        }
    }

    private static void deleteQuietly(Path p) {
        try (Stream<Path> all = Files.walk(p)) {
            all.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        } catch (IOException e) {
            // already gone
        }
    }
}

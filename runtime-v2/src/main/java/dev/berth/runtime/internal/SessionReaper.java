package dev.berth.runtime.internal;

import dev.berth.api.IoFailureException;

import dev.berth.api.BerthException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Testcontainers' Ryuk without a sidecar container: a tiny {@code /bin/sh} watcher, in its own session,
 * whose stdin is a pipe only this JVM writes to. The kernel closes that pipe whenever the JVM goes away
 * - {@link #close()}, a normal exit, a crash, SIGKILL - and the watcher then kills and removes every task
 * registered in its session directory {@code <state>/reaper/<session>/} with the shim's own
 * {@code delete} action, without needing the JVM. Registrations are plain files, so a session whose
 * watcher died as well is still reaped by the next runtime on the same state directory
 * ({@link #reapOrphans}).
 *
 * <p>A task registered while its shim was still starting is reaped as long as the shim got as far as
 * its serving process; a JVM killed during those few milliseconds can leave that one shim behind.
 */
public final class SessionReaper implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(SessionReaper.class);
    private static final String SCRIPT = loadScript();
    private static final long CLOSE_TIMEOUT_MS = 60_000;

    /**
     * What the watcher needs to remove one task; one line each in its registration file.
     * {@code privateCgroup2}: the shim's delete action must run in a private cgroup2 mount namespace too.
     */
    public record Target(String namespace, String id, Path bundle, Path shimBinary, String address, Path fifoDir,
                         boolean privateCgroup2) {
        public Target {
            Objects.requireNonNull(namespace, "namespace");
            Objects.requireNonNull(id, "id");
            Objects.requireNonNull(bundle, "bundle");
            Objects.requireNonNull(shimBinary, "shimBinary");
            Objects.requireNonNull(address, "address");
            Objects.requireNonNull(fifoDir, "fifoDir");
            for (String s : List.of(namespace, id, bundle.toString(), shimBinary.toString(), address, fifoDir.toString())) {
                if (s.indexOf('\n') >= 0) {
                    throw new IllegalArgumentException("reaper target field contains a newline: " + s);
                }
            }
        }
    }

    private final Path session;
    private final Process watcher;
    private final OutputStream pipe;
    private boolean closed;

    private SessionReaper(Path session, Process watcher) {
        this.session = session;
        this.watcher = watcher;
        this.pipe = watcher.getOutputStream();
    }

    /** Starts a watcher for a new session under {@code <stateDir>/reaper}. */
    public static SessionReaper start(Path stateDir) {
        String name = UUID.randomUUID().toString();
        Path session = reaperDir(stateDir).resolve(name);
        // Assembled under a dot name that reapOrphans ignores, and published only once it names its
        // watcher: no other runtime can mistake a session being born for an orphan.
        Path staging = reaperDir(stateDir).resolve("." + name);
        try {
            Files.createDirectories(staging);
            Process p = launch(session, false);
            try {
                Files.writeString(staging.resolve("watcher"), Long.toString(p.pid()));
                Files.move(staging, session, StandardCopyOption.ATOMIC_MOVE);
            } catch (IOException e) {
                p.destroyForcibly();
                Bundle.removeRecursively(staging);
                throw e;
            }
            return new SessionReaper(session, p);
        } catch (IOException e) {
            throw IoFailureException.of("cannot start the session reaper in " + session, e);
        }
    }

    static Path reaperDir(Path stateDir) {
        return stateDir.resolve("reaper");
    }

    /**
     * {@code setsid} keeps the watcher out of the JVM's process group and session, so signals aimed at
     * those (Ctrl-C, a harness killing the group) do not take it down with the JVM. Its output goes to a
     * log file, never to a pipe that dies with the JVM.
     */
    private static Process launch(Path session, boolean runNow) throws IOException {
        Path logFile = session.resolveSibling(session.getFileName() + ".log");
        ProcessBuilder pb = new ProcessBuilder("setsid", "-w", "/bin/sh", "-c", SCRIPT, "berth-session-reaper",
                session.toString())
                .redirectOutput(ProcessBuilder.Redirect.appendTo(logFile.toFile()))
                .redirectErrorStream(true);
        if (runNow) {
            pb.redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")));
        }
        return pb.start();
    }

    public Path session() {
        return session;
    }

    /** Whether the watcher is still waiting for this JVM. */
    public boolean isAlive() {
        return watcher.isAlive();
    }

    /** The watcher's pid (for tests). */
    public long pid() {
        return watcher.pid();
    }

    /** Adds a task to the session. Written atomically: the watcher never reads half a registration. */
    public synchronized void register(Target t) {
        if (closed) {
            throw new dev.berth.api.FailedPreconditionException("session reaper " + session + " is closed");
        }
        String content = String.join("\n", t.namespace(), t.id(), t.bundle().toString(), t.shimBinary().toString(),
                t.address(), t.fifoDir().toString(), t.privateCgroup2() ? "1" : "0") + "\n";
        Path file = file(t.namespace(), t.id());
        Path tmp = session.resolve("." + file.getFileName() + ".tmp");
        try {
            Files.writeString(tmp, content, StandardCharsets.UTF_8);
            Files.move(tmp, file, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw IoFailureException.of("cannot register " + t.namespace() + "/" + t.id() + " with the session reaper", e);
        }
    }

    /** Takes a task out of the session (it was deleted normally). */
    public void unregister(String namespace, String id) {
        try {
            Files.deleteIfExists(file(namespace, id));
        } catch (IOException e) {
            log.warn("cannot unregister {}/{} from the session reaper: {}", namespace, id, e.toString());
        }
    }

    private Path file(String namespace, String id) {
        return session.resolve(namespace + "@" + id + ".task");
    }

    /** Takes a deleted task out of every session on the state directory (another runtime may have registered it). */
    static void unregisterEverywhere(Path stateDir, String namespace, String id) {
        Path dir = reaperDir(stateDir);
        if (!Files.isDirectory(dir)) {
            return;
        }
        try (DirectoryStream<Path> sessions = Files.newDirectoryStream(dir, Files::isDirectory)) {
            for (Path session : sessions) {
                Files.deleteIfExists(session.resolve(namespace + "@" + id + ".task"));
            }
        } catch (IOException e) {
            log.warn("cannot unregister {}/{} from the session reapers in {}: {}", namespace, id, dir, e.toString());
        }
    }

    /** Whether {@code namespace/id} is registered in this session. */
    public boolean isRegistered(String namespace, String id) {
        return Files.exists(file(namespace, id));
    }

    /**
     * Ends the session: the watcher reaps every task still registered. Waits for it to finish.
     * Idempotent.
     */
    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            pipe.close();
        } catch (IOException e) {
            log.debug("closing the reaper pipe: {}", e.toString());
        }
        try {
            if (!watcher.waitFor(CLOSE_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                log.warn("session reaper {} still running after {} ms; leaving it to finish", session, CLOSE_TIMEOUT_MS);
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Reaps the sessions under {@code stateDir} whose watcher is gone (killed along with its JVM, or the
     * machine rebooted with a persistent state directory) and returns how many it reaped. Live sessions
     * of other runtimes are left alone.
     */
    public static int reapOrphans(Path stateDir) {
        Path dir = reaperDir(stateDir);
        if (!Files.isDirectory(dir)) {
            return 0;
        }
        List<Path> orphans = new ArrayList<>();
        try (DirectoryStream<Path> sessions = Files.newDirectoryStream(dir,
                p -> Files.isDirectory(p) && !p.getFileName().toString().startsWith("."))) {
            for (Path s : sessions) {
                if (!watcherAlive(s)) {
                    orphans.add(s);
                }
            }
        } catch (IOException e) {
            throw IoFailureException.of("cannot list " + dir, e);
        }
        for (Path s : orphans) {
            log.info("reaping the tasks of orphaned session {}", s);
            try {
                Process p = launch(s, true);
                if (!p.waitFor(CLOSE_TIMEOUT_MS, TimeUnit.MILLISECONDS)) {
                    throw new BerthException("reaping orphaned session " + s + " did not finish");
                }
            } catch (IOException e) {
                throw IoFailureException.of("cannot reap orphaned session " + s, e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new dev.berth.api.CanceledException("interrupted while reaping " + s);
            }
        }
        return orphans.size();
    }

    /** A session names its watcher's pid; the watcher is alive if that process still names the session. */
    private static boolean watcherAlive(Path session) {
        String pid;
        try {
            pid = Files.readString(session.resolve("watcher")).trim();
        } catch (NoSuchFileException e) {
            return false;
        } catch (IOException e) {
            return true;
        }
        try {
            byte[] cmdline = Files.readAllBytes(Path.of("/proc", pid, "cmdline"));
            return new String(cmdline, StandardCharsets.UTF_8).contains(session.toString());
        } catch (IOException e) {
            return false;
        }
    }

    private static String loadScript() {
        try (InputStream in = SessionReaper.class.getResourceAsStream("session-reaper.sh")) {
            if (in == null) {
                throw new IllegalStateException("session-reaper.sh missing from the classpath");
            }
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw IoFailureException.of("cannot read session-reaper.sh from the classpath", e);
        }
    }
}

package dev.berth.network.internal;

import dev.berth.api.IoFailureException;
import dev.berth.api.FailedPreconditionException;
import dev.berth.sys.ErrnoException;
import dev.berth.sys.Syscalls;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * Persistent network namespaces as files under one directory, as {@code ip netns} keeps them under
 * {@code /run/netns}: the directory is bind-mounted onto itself and made private (a namespace file
 * cannot be bound on a shared mount). A namespace is made by a thread started for it alone: it unshares
 * its network namespace, binds {@code /proc/thread-self/ns/net} to the file, brings {@code lo} up and ends,
 * so no thread that runs anything else ever changes namespace, and no process is started per namespace
 * (two, {@code unshare} and {@code ip}, cost a pod ~5 ms of CPU and the JVM a spawn each). Where that
 * fails {@code unshare --net=<file>} does it. Callers serialize through {@link HostLock}.
 */
public final class NetnsFiles {
    private final Path dir;

    public NetnsFiles(Path dir) {
        this.dir = dir;
    }

    public Path dir() {
        return dir;
    }

    /** iproute2's {@code ip}, if installed: run by {@code unshare} in the new namespace to bring up {@code lo}. */
    private static final Path IP = Stream.of("/usr/sbin/ip", "/sbin/ip", "/usr/bin/ip", "/bin/ip").map(Path::of)
            .filter(Files::isExecutable).findFirst().orElse(null);

    /** Set once the directory was seen bind-mounted and private; cleared when this object unmounts it. */
    private volatile boolean privateMountSeen;

    /**
     * Creates a new network namespace bound to {@code file} (under {@link #dir()}) and returns whether its
     * {@code lo} is up (else the caller brings it up, e.g. with the {@code loopback} plugin): always in
     * process, and from the {@code unshare} fallback when iproute2 is installed.
     */
    public boolean create(Path file) {
        ensurePrivateMount();
        try {
            Files.createDirectories(file.getParent());
            if (isMountPoint(file)) {
                throw new FailedPreconditionException("network namespace " + file + " already exists");
            }
            Files.deleteIfExists(file);
            Files.createFile(file);
        } catch (IOException e) {
            throw IoFailureException.of("cannot create " + file, e);
        }
        String inProcess = createInProcess(file);
        if (inProcess == null) {
            return true;
        }
        if (isMountPoint(file)) {
            remove(file); // bound, but lo could not be brought up: the fallback starts afresh
            try {
                Files.createFile(file);
            } catch (IOException e) {
                throw IoFailureException.of("cannot create " + file, e);
            }
        }
        List<String> inside = IP != null ? List.of(IP.toString(), "link", "set", "lo", "up") : List.of("true");
        List<String> cmd = new java.util.ArrayList<>(List.of("unshare", "--net=" + file));
        cmd.addAll(inside);
        Commands.Result r = Commands.run(cmd);
        if (r.exit() != 0) {
            try {
                Files.deleteIfExists(file);
            } catch (IOException ignored) {
                // reported below
            }
            if (isMountPoint(file)) {
                remove(file); // bound, but lo could not be brought up
            }
            throw new FailedPreconditionException("cannot create network namespace " + file + ": " + r.output()
                    + " (in process: " + inProcess + ")");
        }
        return IP != null;
    }

    /**
     * Makes the namespace from a thread of its own (see the class comment); null on success, else why not.
     * A bind that fails on a directory this object thought private checks the directory again and retries
     * once (another process may have unmounted it when it held no namespaces).
     */
    private String createInProcess(Path file) {
        String[] failure = {"the namespace thread ended early"}; // an Error ends it before it reports
        Thread t = new Thread(() -> {
            Syscalls sys = Syscalls.get();
            try {
                sys.unshare(Syscalls.CLONE_NEWNET);
                try {
                    sys.mount("/proc/thread-self/ns/net", file.toString(), null, MS_BIND, null);
                } catch (ErrnoException e) {
                    privateMountSeen = false;
                    ensurePrivateMount();
                    sys.mount("/proc/thread-self/ns/net", file.toString(), null, MS_BIND, null);
                }
                sys.linkUp("lo");
                failure[0] = null;
            } catch (ErrnoException | RuntimeException e) {
                failure[0] = e.getMessage();
            }
        }, "berth-netns");
        t.setDaemon(true);
        t.start();
        boolean interrupted = false;
        while (true) {
            try {
                t.join();
                break;
            } catch (InterruptedException e) {
                interrupted = true; // the thread's work is short and must be seen through
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
        return failure[0];
    }

    /**
     * Unbinds and removes {@code file}; nothing happens if it is gone. umount2(2) from this JVM (unmounting
     * changes no namespace of the calling thread), so no {@code umount} process per container.
     */
    public void remove(Path file) {
        if (isMountPoint(file)) {
            Syscalls sys = Syscalls.get();
            int err = sys.tryUmount2(file.toString(), 0);
            if (err != 0 && isMountPoint(file)) {
                err = sys.tryUmount2(file.toString(), Syscalls.MNT_DETACH);
                if (err != 0 && isMountPoint(file)) {
                    throw new FailedPreconditionException("cannot unmount network namespace " + file + ": errno "
                            + (-err));
                }
            }
        }
        try {
            Files.deleteIfExists(file);
        } catch (IOException e) {
            throw IoFailureException.of("cannot remove " + file, e);
        }
    }

    /**
     * Binds the namespace of {@code from} (a namespace file under {@link #dir()}) to {@code to} as well, a
     * bind mount made from this JVM (mount(2) changes no namespace of the calling thread).
     */
    public void bind(Path from, Path to) {
        try {
            Files.createDirectories(to.getParent());
            if (isMountPoint(to)) {
                throw new FailedPreconditionException("network namespace " + to + " already exists");
            }
            if (!Files.exists(to)) {
                Files.createFile(to);
            }
            Syscalls.get().mount(from.toString(), to.toString(), null, MS_BIND, null);
        } catch (IOException e) {
            throw IoFailureException.of("cannot bind network namespace " + from + " to " + to, e);
        }
    }

    private static final long MS_BIND = 4096;

    public boolean exists(Path file) {
        return isMountPoint(file);
    }

    /** Unmounts the directory's own bind mount when no namespace file is left under it. */
    public void releaseIfEmpty() {
        if (!isListedMountPoint(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            if (s.filter(p -> !p.equals(dir)).anyMatch(NetnsFiles::isMountPoint)) {
                return;
            }
        } catch (IOException e) {
            return;
        }
        privateMountSeen = false;
        Commands.run(List.of("umount", dir.toString()));
    }

    private void ensurePrivateMount() {
        if (privateMountSeen) {
            return;
        }
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw IoFailureException.of("cannot create " + dir, e);
        }
        String propagation = propagationOf(dir);
        if (propagation == null) {
            Commands.check(List.of("mount", "--bind", dir.toString(), dir.toString()));
            propagation = propagationOf(dir);
        }
        if (propagation == null || !propagation.isEmpty()) { // made private once, not per namespace
            Commands.check(List.of("mount", "--make-private", dir.toString()));
        }
        privateMountSeen = true;
    }

    /**
     * The optional (propagation) fields of the mount at {@code p}, empty for a private mount; null if
     * {@code p} is not a mount point.
     */
    static String propagationOf(Path p) {
        String target = p.toAbsolutePath().normalize().toString();
        String found = null;
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"), StandardCharsets.UTF_8)) {
                String[] f = line.split(" ");
                if (f.length > 6 && unescape(f[4]).equals(target)) {
                    StringBuilder optional = new StringBuilder();
                    for (int i = 6; i < f.length && !f[i].equals("-"); i++) {
                        optional.append(optional.length() == 0 ? "" : " ").append(f[i]);
                    }
                    found = optional.toString(); // the last mount on a point is the one seen there
                }
            }
            return found;
        } catch (IOException e) {
            throw IoFailureException.of("cannot read /proc/self/mountinfo", e);
        }
    }

    /**
     * Whether namespace file {@code p} is bound: a bound one is on nsfs, so its device differs from its
     * directory's (one stat each instead of reading the mount table, which grows with every container).
     */
    static boolean isMountPoint(Path p) {
        try {
            Object dev = Files.getAttribute(p, "unix:dev", LinkOption.NOFOLLOW_LINKS);
            return !dev.equals(Files.getAttribute(p.toAbsolutePath().getParent(), "unix:dev"));
        } catch (NoSuchFileException e) {
            return false;
        } catch (IOException | UnsupportedOperationException e) {
            return isListedMountPoint(p);
        }
    }

    /** Whether {@code p} is a mount point in this process's mount namespace, from the mount table. */
    static boolean isListedMountPoint(Path p) {
        String target = p.toAbsolutePath().normalize().toString();
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/mountinfo"), StandardCharsets.UTF_8)) {
                String[] f = line.split(" ", 6);
                if (f.length > 4 && unescape(f[4]).equals(target)) {
                    return true;
                }
            }
            return false;
        } catch (IOException e) {
            throw IoFailureException.of("cannot read /proc/self/mountinfo", e);
        }
    }

    private static String unescape(String s) {
        return s.replace("\\040", " ").replace("\\011", "\t").replace("\\012", "\n").replace("\\134", "\\");
    }
}

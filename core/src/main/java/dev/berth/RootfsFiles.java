package dev.berth;

import dev.berth.api.InvalidArgumentException;
import dev.berth.api.IoFailureException;
import dev.berth.api.NotFoundException;
import dev.berth.sys.Errno;
import dev.berth.sys.ErrnoException;
import dev.berth.sys.Stat;
import dev.berth.sys.Syscalls;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads and writes regular files inside a container's root file system from the host. Every name is
 * resolved by the kernel with the root directory as {@code /} (openat2's {@code RESOLVE_IN_ROOT}): a
 * symlink in the container, absolute or full of {@code ..}, is followed inside the rootfs, never on the
 * host, and magic links ({@code /proc/self/root}) are refused; so a hostile image or a running container
 * swapping links cannot make the host write or read its own files.
 */
final class RootfsFiles {
    private static final long RESOLVE = Syscalls.RESOLVE_IN_ROOT | Syscalls.RESOLVE_NO_MAGICLINKS;

    private RootfsFiles() {
    }

    /** The path's components; it must be absolute, name a file, and have no {@code ..}. */
    static List<String> components(String path) {
        if (path == null || !path.startsWith("/")) {
            throw new InvalidArgumentException("container path must be absolute, not \"" + path + "\"");
        }
        List<String> parts = new ArrayList<>();
        for (String part : path.split("/")) {
            if (part.equals("..")) {
                throw new InvalidArgumentException("container path " + path + " has a \"..\" component; a path"
                        + " must stay inside the container's root file system");
            }
            if (!part.isEmpty() && !part.equals(".")) {
                parts.add(part);
            }
        }
        if (parts.isEmpty()) {
            throw new InvalidArgumentException("container path " + path + " names the root directory, not a file");
        }
        return parts;
    }

    /**
     * Writes {@code content} to {@code path} under {@code root} with {@code mode} and owner {@code uid:gid}
     * (exactly, whatever the umask), creating missing parent directories (0755, root-owned).
     */
    static void write(Path root, String path, InputStream content, int mode, int uid, int gid) {
        List<String> parts = components(path);
        Syscalls sys = Syscalls.get();
        int rootFd = openRoot(root);
        try {
            for (int i = 1; i < parts.size(); i++) {
                ensureDirectory(sys, rootFd, parts.subList(0, i), path);
            }
            String rel = String.join("/", parts);
            int fd;
            try {
                fd = sys.openat2(rootFd, rel, Syscalls.O_WRONLY | Syscalls.O_CREAT | Syscalls.O_TRUNC
                        | Syscalls.O_NONBLOCK | Syscalls.O_CLOEXEC, mode & 07777, RESOLVE);
            } catch (ErrnoException e) {
                throw failure("cannot create", path, e);
            }
            try {
                Stat st = sys.fstat(fd, path);
                if (!st.isRegular()) {
                    throw new InvalidArgumentException(path + " in the container is not a regular file");
                }
                sys.fchown(fd, uid, gid, path);
                sys.fchmod(fd, mode & 07777, path); // after chown, which clears set-id bits
                try (OutputStream out = Files.newOutputStream(Path.of(Syscalls.procPath(fd, "")),
                        StandardOpenOption.WRITE)) {
                    content.transferTo(out);
                }
            } catch (ErrnoException e) {
                throw failure("cannot write", path, e);
            } catch (IOException e) {
                throw new IoFailureException("cannot write " + path + " in the container: " + e.getMessage(), e);
            } finally {
                sys.close(fd);
            }
        } finally {
            sys.close(rootFd);
        }
    }

    /** What {@link #read} found: the file's permission bits and owner. */
    record FileInfo(int mode, int uid, int gid, long size) {
    }

    /** Copies the regular file {@code path} under {@code root} to {@code out}. */
    static FileInfo read(Path root, String path, OutputStream out) {
        String rel = String.join("/", components(path));
        Syscalls sys = Syscalls.get();
        int rootFd = openRoot(root);
        try {
            int fd;
            try {
                fd = sys.openat2(rootFd, rel, Syscalls.O_RDONLY | Syscalls.O_NONBLOCK | Syscalls.O_CLOEXEC, RESOLVE);
            } catch (ErrnoException e) {
                throw failure("cannot open", path, e);
            }
            try {
                Stat st = sys.fstat(fd, path);
                if (!st.isRegular()) {
                    throw new InvalidArgumentException(path + " in the container is not a regular file");
                }
                try (InputStream in = Files.newInputStream(Path.of(Syscalls.procPath(fd, "")))) {
                    in.transferTo(out);
                }
                return new FileInfo(st.permissions(), st.uid(), st.gid(), st.size());
            } catch (ErrnoException e) {
                throw failure("cannot read", path, e);
            } catch (IOException e) {
                throw new IoFailureException("cannot read " + path + " in the container: " + e.getMessage(), e);
            } finally {
                sys.close(fd);
            }
        } finally {
            sys.close(rootFd);
        }
    }

    private static void ensureDirectory(Syscalls sys, int rootFd, List<String> parts, String path) {
        String rel = String.join("/", parts);
        try {
            sys.close(sys.openat2(rootFd, rel, Syscalls.O_PATH | Syscalls.O_DIRECTORY | Syscalls.O_CLOEXEC, RESOLVE));
            return;
        } catch (ErrnoException e) {
            if (!e.is(Errno.ENOENT)) {
                throw failure("cannot open directory /" + rel + " for", path, e);
            }
        }
        int parent = rootFd;
        try {
            if (parts.size() > 1) {
                parent = sys.openat2(rootFd, String.join("/", parts.subList(0, parts.size() - 1)),
                        Syscalls.O_PATH | Syscalls.O_DIRECTORY | Syscalls.O_CLOEXEC, RESOLVE);
            }
            String name = parts.get(parts.size() - 1);
            int rc = sys.tryMkdirat(parent, name, 0755);
            if (rc != 0 && rc != -Errno.EEXIST) {
                throw failure("cannot create directory /" + rel + " for", path, new ErrnoException("mkdirat", rel, -rc));
            }
            if (rc == 0) {
                sys.fchmodat(parent, name, 0755);
            }
        } catch (ErrnoException e) {
            throw failure("cannot create directory /" + rel + " for", path, e);
        } finally {
            if (parent != rootFd) {
                sys.close(parent);
            }
        }
    }

    private static int openRoot(Path root) {
        try {
            return Syscalls.get().openat(Syscalls.AT_FDCWD, root.toString(), Syscalls.O_PATH | Syscalls.O_DIRECTORY, 0);
        } catch (ErrnoException e) {
            throw new IoFailureException("cannot open the container's root file system " + root + ": "
                    + e.getMessage(), e);
        }
    }

    private static RuntimeException failure(String what, String path, ErrnoException e) {
        if (e.is(Errno.ENOENT)) {
            return new NotFoundException(what + " " + path + " in the container: no such file or directory");
        }
        if (e.is(Errno.ENOSYS)) {
            return new dev.berth.api.NotImplementedException("copying files needs openat2(2) (Linux 5.6 or later)");
        }
        return new IoFailureException(what + " " + path + " in the container: " + e.getMessage(), e);
    }
}

package dev.berth.snapshot.archive.internal;

import static dev.berth.snapshot.archive.internal.MergedTree.UPPER;
import static dev.berth.snapshot.archive.internal.MergedTree.join;
import static dev.berth.sys.Syscalls.AT_SYMLINK_NOFOLLOW;
import static dev.berth.sys.Syscalls.O_CREAT;
import static dev.berth.sys.Syscalls.O_EXCL;
import static dev.berth.sys.Syscalls.O_NOFOLLOW;
import static dev.berth.sys.Syscalls.O_RDONLY;
import static dev.berth.sys.Syscalls.O_WRONLY;

import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveStructSparse;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import dev.berth.snapshot.archive.internal.MergedTree.DirNode;
import dev.berth.snapshot.archive.internal.MergedTree.Lookup;
import dev.berth.snapshot.archive.internal.MergedTree.Resolved;
import dev.berth.sys.Errno;
import dev.berth.sys.ErrnoException;
import dev.berth.sys.Stat;
import dev.berth.sys.Syscalls;

/**
 * Applies tar entries, one at a time, to a {@link MergedTree} with the OCI changeset semantics: entries
 * replace what is there (directories merge), {@code .wh.<name>} hides a lower path, {@code .wh..wh..opq}
 * hides a directory's lower content; both only affect what lower layers contributed, never what this
 * layer wrote (in whatever order the entries come). On an overlay target the result is expressed as
 * overlay whiteouts and opaque directories in the upper directory.
 *
 * <p>Not thread-safe; one instance per apply.
 */
public final class EntryApplier implements MergedTree.Written {
    private static final Logger LOG = LoggerFactory.getLogger(EntryApplier.class);
    private static final String WHITEOUT_PREFIX = ".wh.";
    private static final String WHITEOUT_META_PREFIX = ".wh..wh.";
    private static final String OPAQUE_MARKER = ".wh..wh..opq";
    private static final int BUFFER = 1 << 17;
    private static final int NAME_MAX = 255;
    private static final int PATH_MAX = 4096;

    private final MergedTree tree;
    private final Syscalls sys = Syscalls.get();
    private final boolean overlay;
    private final boolean skipDevices;
    private final Set<String> written = new HashSet<>();
    private final Set<String> writtenAncestors = new HashSet<>();
    private final Map<String, long[]> dirTimes = new LinkedHashMap<>();
    private final byte[] heap = new byte[BUFFER];
    private final ByteBuffer direct = ByteBuffer.allocateDirect(BUFFER);

    public EntryApplier(MergedTree tree, boolean skipDevices) {
        this.tree = tree;
        this.overlay = tree.isOverlay();
        this.skipDevices = skipDevices;
    }

    /** Metadata of an entry, decoded once. */
    record Meta(int uid, int gid, int mode, long atimeSec, long atimeNsec, long mtimeSec, long mtimeNsec,
                Map<String, byte[]> xattrs) {
    }

    /**
     * Applies {@code e}, reading its content from {@code data} when it is a regular file.
     *
     * @throws EntryException when the entry itself is invalid (message says why)
     */
    public void apply(TarArchiveEntry e, byte typeflag, Map<String, byte[]> xattrs, InputStream data)
            throws IOException {
        String name = e.getName();
        if (name.indexOf('\0') >= 0) {
            throw new EntryException("entry name contains a NUL byte");
        }
        List<String> comps = clean(name);
        if (comps.isEmpty()) {
            LOG.debug("skipping entry {}: it is the root", name);
            return;
        }
        String base = comps.get(comps.size() - 1);
        for (int i = 0; i < comps.size() - 1; i++) {
            if (comps.get(i).startsWith(WHITEOUT_META_PREFIX)) {
                // AUFS metadata (.wh..wh.plnk/ and the like): skipped with everything below it, as Docker does
                LOG.debug("skipping entry {} below whiteout meta directory {}", name, comps.get(i));
                return;
            }
            if (comps.get(i).startsWith(WHITEOUT_PREFIX)) {
                throw new EntryException("whiteout name \"" + comps.get(i) + "\" used as a directory");
            }
        }
        checkNameLengths(comps, "entry name");
        Meta meta = meta(e, xattrs);
        if (typeflag == '3' && e.getDevMajor() == 0 && e.getDevMinor() == 0 && !base.startsWith(WHITEOUT_PREFIX)) {
            // a character device 0/0 is overlayfs' whiteout: in an overlay upper directory it could only mean
            // "deleted", so it means that in both modes (the merged views stay equal); never a device
            whiteout(comps.subList(0, comps.size() - 1), base, meta);
            return;
        }
        if (base.startsWith(WHITEOUT_PREFIX)) {
            List<String> parent = comps.subList(0, comps.size() - 1);
            if (base.equals(OPAQUE_MARKER)) {
                opaque(parent, meta);
            } else if (base.startsWith(WHITEOUT_META_PREFIX)) {
                LOG.debug("ignoring whiteout meta entry {}", name);
            } else {
                whiteout(parent, base.substring(WHITEOUT_PREFIX.length()), meta);
            }
            return;
        }
        switch (kind(typeflag, name)) {
            case DIR -> createDirectory(tree.resolve(comps, false), meta);
            case FILE -> createFile(tree.resolve(comps, false), e, data, meta);
            case SYMLINK -> createSymlink(tree.resolve(comps, false), e.getLinkName(), meta);
            case HARDLINK -> createHardlink(tree.resolve(comps, false), e.getLinkName());
            case CHAR -> createNode(tree.resolve(comps, false), Syscalls.S_IFCHR, e, meta);
            case BLOCK -> createNode(tree.resolve(comps, false), Syscalls.S_IFBLK, e, meta);
            case FIFO -> createNode(tree.resolve(comps, false), Syscalls.S_IFIFO, e, meta);
            default -> throw new EntryException("unsupported tar entry type '" + printable(typeflag) + "'");
        }
    }

    private enum Kind { DIR, FILE, SYMLINK, HARDLINK, CHAR, BLOCK, FIFO, UNSUPPORTED }

    private static Kind kind(byte typeflag, String name) {
        return switch (typeflag) {
            case '5' -> Kind.DIR;
            // only the old "regular file A" type turns into a directory by a trailing '/' (as in Go's
            // reader); a '0' entry named "x/" is file "x" with its content
            case 0 -> name.endsWith("/") ? Kind.DIR : Kind.FILE;
            case '0', '7', 'S' -> Kind.FILE;
            case '1' -> Kind.HARDLINK;
            case '2' -> Kind.SYMLINK;
            case '3' -> Kind.CHAR;
            case '4' -> Kind.BLOCK;
            case '6' -> Kind.FIFO;
            default -> Kind.UNSUPPORTED;
        };
    }

    private static String printable(byte b) {
        return b >= 32 && b < 127 ? String.valueOf((char) b) : "\\" + Integer.toOctalString(b & 0xff);
    }

    /** Sets the times of the directories this layer wrote; called once after the last entry. */
    public void finish() throws IOException {
        for (Map.Entry<String, long[]> d : dirTimes.entrySet()) {
            String path = d.getKey();
            int slash = path.lastIndexOf('/');
            String parent = slash < 0 ? "" : path.substring(0, slash);
            String name = path.substring(slash + 1);
            int dfd;
            try {
                dfd = tree.dirFd(UPPER, parent);
            } catch (ErrnoException gone) {
                continue; // replaced or removed by a later entry
            }
            long[] t = d.getValue();
            if (t[4] != tree.generation()) {
                // something was removed or replaced since: make sure this is still the directory
                Stat st = sys.lstatat(dfd, name);
                if (st == null || !st.isDirectory()) {
                    continue;
                }
            }
            sys.lutimensat(dfd, name, t[0], t[1], t[2], t[3]);
        }
    }

    // ---------------------------------------------------------------- entry kinds

    private void createDirectory(Resolved r, Meta m) throws IOException {
        if (r.isRoot() || r.name() == null) {
            return;
        }
        DirNode p = parentInUpper(r);
        String name = r.name();
        int dfd = tree.dirFd(UPPER, p.path());
        String path = join(p.path(), name);
        if (p.upperOnly()) {
            int rc = sys.tryMkdirat(dfd, name, 0700);
            if (rc == 0) {
                finishDirectory(p, name, m, new int[] {UPPER});
                return;
            }
            if (rc != -Errno.EEXIST) {
                throw new ErrnoException("mkdirat", tree.describe(path), -rc);
            }
        }
        Lookup l = tree.lookup(p, name);
        if (l.upper() != null && l.upper().isDirectory()) {
            finishDirectory(p, name, m, null); // both directories: merge metadata
            return;
        }
        boolean lowerHidden = false;
        if (l.upper() != null) {
            lowerHidden = true; // a whiteout or a non-directory of this layer hid the lower entry
            tree.removeUpper(p, name, l.upper());
            dfd = tree.dirFd(UPPER, p.path());
        } else if (l.lowerExists() && l.lower().isSymlink()) {
            tree.invalidate();
            dfd = tree.dirFd(UPPER, p.path());
        }
        sys.mkdirat(dfd, name, 0700);
        int[] layers = new int[] {UPPER};
        if (l.lowerIsDirectory()) {
            if (lowerHidden) {
                tree.setOpaque(p, name);
            } else {
                // merging with a lower directory: start from its xattrs, as overlayfs' copy-up would
                int lfd = tree.dirFd(l.lowerDirLayers[0], p.path());
                dfd = tree.dirFd(UPPER, p.path());
                tree.copyXattrs(Syscalls.procPath(lfd, name), Syscalls.procPath(dfd, name), -1);
                layers = prependUpper(l.lowerDirLayers);
            }
        }
        finishDirectory(p, name, m, layers);
    }

    private static int[] prependUpper(int[] lower) {
        int[] l = new int[lower.length + 1];
        l[0] = UPPER;
        System.arraycopy(lower, 0, l, 1, lower.length);
        return l;
    }

    private void finishDirectory(DirNode p, String name, Meta m, int[] newLayers) throws IOException {
        int dfd = tree.dirFd(UPPER, p.path());
        String path = join(p.path(), name);
        sys.fchownat(dfd, name, m.uid, m.gid, AT_SYMLINK_NOFOLLOW);
        setXattrs(-1, Syscalls.procPath(dfd, name), m, false, path);
        sys.fchmodat(dfd, name, m.mode);
        if (newLayers != null) {
            tree.register(path, newLayers);
        }
        dirTimes.put(path, new long[] {m.atimeSec, m.atimeNsec, m.mtimeSec, m.mtimeNsec, tree.generation()});
        markWritten(path);
    }

    private void createFile(Resolved r, TarArchiveEntry e, InputStream data, Meta m) throws IOException {
        if (r.name() == null) {
            return;
        }
        DirNode p = parentInUpper(r);
        String name = r.name();
        String path = join(p.path(), name);
        int fd = createExclusive(p, name, (dfd) -> sys.tryOpenat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW,
                0600), "openat");
        try {
            String where = tree.describe(path);
            writeContent(fd, e, data, path, where);
            sys.fchown(fd, m.uid, m.gid, where);
            setXattrs(fd, null, m, false, path);
            sys.fchmod(fd, m.mode, where);
            sys.futimens(fd, m.atimeSec, m.atimeNsec, m.mtimeSec, m.mtimeNsec, where);
        } finally {
            sys.close(fd);
        }
        markWritten(path);
    }

    private void writeContent(int fd, TarArchiveEntry e, InputStream data, String path, String where)
            throws IOException {
        if (e.isSparse()) {
            writeSparse(fd, e, data, path);
            return;
        }
        long size = e.getSize();
        if (data instanceof LayerTarInputStream tar && tar.canTransfer()) {
            // straight from the decompressed chunk to write(2): no copy on this thread
            long done = tar.transferContent(size, buf -> sys.writeFully(fd, buf, buf.remaining(), where));
            if (done != size) {
                throw new EntryException("truncated content");
            }
            return;
        }
        long remaining = size;
        while (remaining > 0) {
            int n = data.read(heap, 0, (int) Math.min(heap.length, remaining));
            if (n < 0) {
                throw new EntryException("truncated content");
            }
            direct.clear();
            direct.put(heap, 0, n).flip();
            sys.writeFully(fd, direct, n, where);
            remaining -= n;
        }
    }

    /** Writes only the data extents of a sparse entry, leaving holes as holes. */
    private void writeSparse(int fd, TarArchiveEntry e, InputStream data, String path) throws IOException {
        checkSparseMap(e);
        long pos = 0;
        for (TarArchiveStructSparse s : e.getOrderedSparseHeaders()) {
            if (s.getOffset() > pos) {
                skipFully(data, s.getOffset() - pos);
                pos = s.getOffset();
            }
            long remaining = s.getNumbytes();
            while (remaining > 0) {
                int n = data.read(heap, 0, (int) Math.min(heap.length, remaining));
                if (n < 0) {
                    throw new EntryException("truncated sparse content");
                }
                direct.clear();
                direct.put(heap, 0, n).flip();
                sys.pwriteFully(fd, direct, n, pos, tree.describe(path));
                pos += n;
                remaining -= n;
            }
        }
        sys.ftruncate(fd, e.getRealSize(), tree.describe(path));
    }

    /**
     * A sparse map must list its data extents in ascending order, without overlaps, inside the file's
     * real size, as Go's reader (containerd) requires: commons-compress would sort and accept such a map,
     * giving the file other content than other readers give it.
     */
    private static void checkSparseMap(TarArchiveEntry e) throws EntryException {
        long end = 0;
        long real = e.getRealSize();
        for (TarArchiveStructSparse s : e.getSparseHeaders()) {
            long off = s.getOffset();
            long len = s.getNumbytes();
            if (off < 0 || len < 0 || off > Long.MAX_VALUE - len) {
                throw new EntryException("invalid sparse map: negative or overflowing extent");
            }
            if (len == 0) {
                if (off > real) {
                    throw new EntryException("invalid sparse map: extent at " + off + " beyond the real size " + real);
                }
                continue;
            }
            if (off < end) {
                throw new EntryException("invalid sparse map: extents overlap or are out of order at offset " + off);
            }
            end = off + len;
            if (end > real) {
                throw new EntryException("invalid sparse map: extent ends at " + end + ", beyond the real size "
                        + real);
            }
        }
    }

    private static void skipFully(InputStream in, long n) throws IOException {
        long left = n;
        while (left > 0) {
            long s = in.skip(left);
            if (s <= 0) {
                if (in.read() < 0) {
                    throw new EntryException("truncated sparse content");
                }
                s = 1;
            }
            left -= s;
        }
    }

    private void createSymlink(Resolved r, String target, Meta m) throws IOException {
        if (r.name() == null) {
            return;
        }
        if (target.indexOf('\0') >= 0) {
            throw new EntryException("symlink target contains a NUL byte");
        }
        if (target.isEmpty()) {
            throw new EntryException("symlink with an empty target");
        }
        if (utf8Length(target) > PATH_MAX - 1) {
            throw new EntryException("symlink target longer than " + (PATH_MAX - 1) + " bytes");
        }
        DirNode p = parentInUpper(r);
        String name = r.name();
        String path = join(p.path(), name);
        createExclusive(p, name, (dfd) -> {
            try {
                sys.symlinkat(target, dfd, name);
                return 0;
            } catch (ErrnoException ex) {
                return -ex.errno();
            }
        }, "symlinkat");
        int dfd = tree.dirFd(UPPER, p.path());
        sys.fchownat(dfd, name, m.uid, m.gid, AT_SYMLINK_NOFOLLOW);
        setXattrs(-1, Syscalls.procPath(dfd, name), m, true, path);
        sys.lutimensat(dfd, name, m.atimeSec, m.atimeNsec, m.mtimeSec, m.mtimeNsec);
        markWritten(path);
    }

    private void createNode(Resolved r, int type, TarArchiveEntry e, Meta m) throws IOException {
        if (r.name() == null) {
            return;
        }
        if (skipDevices && type != Syscalls.S_IFIFO) {
            LOG.debug("skipping device node {} (no CAP_MKNOD in a user namespace)", e.getName());
            return;
        }
        DirNode p = parentInUpper(r);
        String name = r.name();
        String path = join(p.path(), name);
        long major = e.getDevMajor();
        long minor = e.getDevMinor();
        createExclusive(p, name, (dfd) -> {
            try {
                sys.mknodat(dfd, name, type | 0600, major, minor);
                return 0;
            } catch (ErrnoException ex) {
                return -ex.errno();
            }
        }, "mknodat");
        int dfd = tree.dirFd(UPPER, p.path());
        sys.fchownat(dfd, name, m.uid, m.gid, AT_SYMLINK_NOFOLLOW);
        setXattrs(-1, Syscalls.procPath(dfd, name), m, true, path);
        sys.fchmodat(dfd, name, m.mode);
        sys.lutimensat(dfd, name, m.atimeSec, m.atimeNsec, m.mtimeSec, m.mtimeNsec);
        markWritten(path);
    }

    private void createHardlink(Resolved r, String linkName) throws IOException {
        if (r.name() == null) {
            return;
        }
        if (linkName.indexOf('\0') >= 0) {
            throw new EntryException("hardlink target contains a NUL byte");
        }
        List<String> tcomps = clean(linkName);
        if (tcomps.isEmpty()) {
            throw new EntryException("hardlink to the root directory");
        }
        checkNameLengths(tcomps, "hardlink target");
        Resolved t = tree.resolve(tcomps, false);
        if (!t.missing().isEmpty() || t.name() == null) {
            throw new EntryException("hardlink target \"" + linkName
                    + "\" does not exist (a hardlink must come after its target)");
        }
        Lookup tl = tree.lookup(t.parent(), t.name());
        if (!tl.exists()) {
            throw new EntryException("hardlink target \"" + linkName
                    + "\" does not exist (a hardlink must come after its target)");
        }
        if (tl.stat().isDirectory()) {
            throw new EntryException("hardlink to directory \"" + linkName + "\"");
        }
        String targetPath = t.path();
        String newPath = r.path();
        if (targetPath.equals(newPath)) {
            markWritten(newPath);
            return;
        }
        if (overlay && tl.layer() != UPPER) {
            copyUp(t.parent(), t.name(), tl);
        }
        DirNode p = parentInUpper(r);
        String name = r.name();
        String targetParent = t.parent().path();
        createExclusive(p, name, (dfd) -> {
            try {
                sys.linkat(tree.dirFd(UPPER, targetParent), t.name(), tree.dirFd(UPPER, p.path()), name);
                return 0;
            } catch (ErrnoException ex) {
                if (ex.errno() == Errno.EEXIST) {
                    return -Errno.EEXIST;
                }
                throw ex;
            }
        }, "linkat");
        markWritten(join(p.path(), name));
    }

    /** Copies a non-directory that only exists in a lower layer into the upper directory (overlay). */
    private void copyUp(DirNode parent, String name, Lookup l) throws IOException {
        DirNode up = tree.ensureInUpper(parent);
        int sfd = tree.dirFd(l.layer(), parent.path());
        Stat st = l.stat();
        String srcProc = Syscalls.procPath(sfd, name);
        String path = join(up.path(), name);
        int dfd = tree.dirFd(UPPER, up.path());
        if (st.isRegular()) {
            int in = sys.openat(sfd, name, O_RDONLY | O_NOFOLLOW, 0);
            try {
                int out = sys.openat(dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW, 0600);
                try {
                    copyData(in, out, path);
                    sys.fchown(out, st.uid(), st.gid(), tree.describe(path));
                    tree.copyXattrs(srcProc, null, out);
                    sys.fchmod(out, st.permissions(), tree.describe(path));
                    sys.futimens(out, st.atimeSec(), st.atimeNsec(), st.mtimeSec(), st.mtimeNsec(),
                            tree.describe(path));
                } finally {
                    sys.close(out);
                }
            } finally {
                sys.close(in);
            }
            return;
        }
        if (st.isSymlink()) {
            sys.symlinkat(sys.readlinkat(sfd, name), dfd, name);
        } else {
            long rdev = st.rdev();
            long major = ((rdev >>> 32) & 0xfffff000L) | ((rdev >>> 8) & 0xfffL);
            long minor = ((rdev >>> 12) & 0xffffff00L) | (rdev & 0xffL);
            sys.mknodat(dfd, name, st.type() | 0600, major, minor);
        }
        sys.fchownat(dfd, name, st.uid(), st.gid(), AT_SYMLINK_NOFOLLOW);
        tree.copyXattrs(srcProc, Syscalls.procPath(dfd, name), -1);
        if (!st.isSymlink()) {
            sys.fchmodat(dfd, name, st.permissions());
        }
        sys.lutimensat(dfd, name, st.atimeSec(), st.atimeNsec(), st.mtimeSec(), st.mtimeNsec());
    }

    private void copyData(int in, int out, String path) throws IOException {
        while (true) {
            long n = sys.copyFileRange(in, out, 1L << 30);
            if (n == 0) {
                return;
            }
            if (n < 0) {
                break; // not supported between these files: plain copy
            }
        }
        while (true) {
            direct.clear();
            int n = sys.read(in, direct, direct.capacity(), tree.describe(path));
            if (n <= 0) {
                return;
            }
            sys.writeFully(out, direct, n, tree.describe(path));
        }
    }

    // ---------------------------------------------------------------- whiteouts

    private void whiteout(List<String> parent, String target, Meta m) throws IOException {
        if (target.isEmpty() || target.equals(".") || target.equals("..")) {
            throw new EntryException("invalid whiteout name");
        }
        List<String> comps = new ArrayList<>(parent);
        comps.add(target);
        Resolved r = resolveOrNull(comps, false);
        if (r == null || r.name() == null || !r.missing().isEmpty()) {
            return; // its directory does not exist: nothing to hide
        }
        DirNode p = r.parent();
        String name = r.name();
        Lookup l = tree.lookup(p, name);
        if (!overlay) {
            if (l.upper() != null) {
                tree.prune(p, name, this);
            }
            return;
        }
        if (l.upperIsWhiteout()) {
            return;
        }
        boolean left = l.upper() != null && tree.prune(p, name, this);
        if (left) {
            // this layer's own content stays; only what lower layers had there must disappear
            Stat now = tree.lookup(p, name).upper();
            if (now != null && now.isDirectory() && l.lowerIsDirectory()) {
                tree.setOpaque(tree.dirNode(p.path()), name);
            }
            return;
        }
        if (l.lowerExists()) {
            DirNode up = tree.ensureInUpper(tree.dirNode(p.path()));
            tree.createWhiteout(up, name, m.uid, m.gid);
        }
    }

    private void opaque(List<String> dirComps, Meta m) throws IOException {
        Resolved r = resolveOrNull(dirComps, true);
        if (r == null || !r.missing().isEmpty()) {
            return; // the directory does not exist: nothing to hide
        }
        DirNode d = r.parent();
        if (!overlay) {
            tree.pruneChildren(d, this);
            return;
        }
        if (d.inUpper()) {
            tree.pruneChildren(d, this);
            d = tree.dirNode(d.path());
        }
        if (d.path().isEmpty()) {
            opaqueRoot(m);
            return;
        }
        DirNode up = tree.ensureInUpper(d);
        String path = up.path();
        int slash = path.lastIndexOf('/');
        DirNode parent = tree.dirNode(slash < 0 ? "" : path.substring(0, slash));
        tree.setOpaque(parent, path.substring(slash + 1));
        tree.register(path, new int[] {UPPER});
    }

    /**
     * overlayfs ignores the opaque flag on the upper root, so an opaque root is expressed as whiteouts
     * for the lower children and opaque flags on this layer's directories that merge with lower ones.
     */
    private void opaqueRoot(Meta m) throws IOException {
        DirNode root = tree.root();
        Set<String> names = new java.util.TreeSet<>();
        for (int li : root.layers()) {
            if (li != UPPER) {
                names.addAll(tree.list(li, ""));
            }
        }
        for (String name : names) {
            Lookup l = tree.lookup(tree.root(), name);
            if (!l.lowerExists()) {
                continue;
            }
            if (l.upper() == null) {
                tree.createWhiteout(tree.root(), name, m.uid, m.gid);
            } else if (l.upper().isDirectory() && l.lowerIsDirectory()) {
                tree.setOpaque(tree.root(), name);
            }
        }
    }

    // ---------------------------------------------------------------- helpers

    /**
     * Resolves the path of a whiteout; {@code null} when it cannot exist (a file or a symlink loop on
     * the way), which makes the whiteout a no-op like any whiteout of a missing path.
     */
    private Resolved resolveOrNull(List<String> comps, boolean followFinal) throws IOException {
        try {
            return tree.resolve(comps, followFinal);
        } catch (MergedTree.PathException e) {
            LOG.debug("whiteout of {} hides nothing: {}", comps, e.getMessage());
            return null;
        }
    }

    /** The entry's parent directory, created (missing parents) or copied up (overlay) as needed. */
    private DirNode parentInUpper(Resolved r) throws IOException {
        DirNode p = tree.ensureInUpper(r.parent());
        if (!r.missing().isEmpty()) {
            p = tree.createMissing(p, r.missing());
        }
        return p;
    }

    /** Creation of a non-directory at {@code name}; returns what the creator returned (an fd or 0). */
    private interface Creator {
        int create(int dirfd) throws IOException;
    }

    /**
     * Runs {@code creator} so that it creates a fresh entry: first optimistically (a directory made of the
     * writable layer alone needs no other check), and on EEXIST, or when lower layers are merged in,
     * after removing or accounting for what is there.
     */
    private int createExclusive(DirNode p, String name, Creator creator, String syscall) throws IOException {
        if (p.upperOnly()) {
            int rc = creator.create(tree.dirFd(UPPER, p.path()));
            if (rc >= 0) {
                return rc;
            }
            if (rc != -Errno.EEXIST) {
                throw new ErrnoException(syscall, tree.describe(join(p.path(), name)), -rc);
            }
        }
        Lookup l = tree.lookup(p, name);
        if (l.upper() != null) {
            tree.removeUpper(p, name, l.upper());
        } else if (l.lowerExists() && (l.lower().isDirectory() || l.lower().isSymlink())) {
            tree.invalidate(); // the new entry shadows a lower directory or symlink
        }
        int rc = creator.create(tree.dirFd(UPPER, p.path()));
        if (rc < 0) {
            throw new ErrnoException(syscall, tree.describe(join(p.path(), name)), -rc);
        }
        return rc;
    }

    private void setXattrs(int fd, String procPath, Meta m, boolean special, String path) throws IOException {
        for (Map.Entry<String, byte[]> x : m.xattrs.entrySet()) {
            String key = x.getKey();
            if (key.indexOf('\0') >= 0) {
                throw new EntryException("xattr name contains a NUL byte");
            }
            if (MergedTree.isOverlayXattr(key)) {
                LOG.debug("ignoring overlay xattr {} on {}", key, path);
                continue;
            }
            int rc = fd >= 0 ? sys.fsetxattr(fd, key, x.getValue()) : sys.lsetxattr(procPath, key, x.getValue());
            if (rc == 0) {
                continue;
            }
            if (rc == -Errno.EOPNOTSUPP || (special && rc == -Errno.EPERM)) {
                LOG.debug("ignoring xattr {} on {}: {}", key, path, Errno.name(-rc));
                continue;
            }
            if (rc == -Errno.E2BIG || rc == -Errno.ERANGE || rc == -Errno.EINVAL) {
                // the name or value itself is bad (too long, malformed ACL, ...): the layer's fault
                throw new EntryException("xattr \"" + key + "\" rejected: " + Errno.name(-rc) + " ("
                        + sys.strerror(-rc) + ")");
            }
            throw new ErrnoException(fd >= 0 ? "fsetxattr" : "lsetxattr", tree.describe(path) + " [" + key + "]",
                    -rc);
        }
    }

    private void markWritten(String path) {
        written.add(path);
        int slash = path.lastIndexOf('/');
        while (slash > 0) {
            path = path.substring(0, slash);
            if (!writtenAncestors.add(path)) {
                break;
            }
            slash = path.lastIndexOf('/');
        }
    }

    @Override
    public boolean written(String path) {
        return written.contains(path);
    }

    @Override
    public boolean hasWrittenBelow(String dir) {
        return writtenAncestors.contains(dir);
    }

    private static Meta meta(TarArchiveEntry e, Map<String, byte[]> xattrs) throws EntryException {
        long uid = e.getLongUserId();
        long gid = e.getLongGroupId();
        if (uid < 0 || uid > 0xfffffffeL || gid < 0 || gid > 0xfffffffeL) {
            throw new EntryException("uid/gid out of range (" + uid + "/" + gid + ")");
        }
        FileTime mt = e.getLastModifiedTime();
        Instant mtime = mt == null ? Instant.EPOCH : mt.toInstant();
        FileTime at = e.getLastAccessTime();
        Instant atime = at == null || at.toInstant().isBefore(mtime) ? mtime : at.toInstant();
        return new Meta((int) uid, (int) gid, e.getMode() & 07777, atime.getEpochSecond(), atime.getNano(),
                mtime.getEpochSecond(), mtime.getNano(), xattrs);
    }

    private static void checkNameLengths(List<String> comps, String what) throws EntryException {
        for (String c : comps) {
            if (c.length() > NAME_MAX / 3 && utf8Length(c) > NAME_MAX) {
                throw new EntryException(what + " has a component longer than " + NAME_MAX + " bytes: \""
                        + c.substring(0, 32) + "...\"");
            }
        }
    }

    private static int utf8Length(String s) {
        return s.getBytes(java.nio.charset.StandardCharsets.UTF_8).length;
    }

    /**
     * Cleans a tar name lexically relative to the root: drops empty and "." components, and resolves
     * ".." without ever going above the root (so "/a", "../a" and "a/../../a" all name "a").
     */
    public static List<String> clean(String name) {
        List<String> out = new ArrayList<>();
        int i = 0;
        int n = name.length();
        while (i <= n) {
            int j = name.indexOf('/', i);
            if (j < 0) {
                j = n;
            }
            String c = name.substring(i, j);
            if (c.isEmpty() || c.equals(".")) {
                // skip
            } else if (c.equals("..")) {
                if (!out.isEmpty()) {
                    out.remove(out.size() - 1);
                }
            } else {
                out.add(c);
            }
            i = j + 1;
        }
        return out;
    }

    /** An entry that cannot be applied; the message says why. */
    public static final class EntryException extends IOException {
        private static final long serialVersionUID = 1L;

        public EntryException(String message) {
            super(message);
        }
    }
}

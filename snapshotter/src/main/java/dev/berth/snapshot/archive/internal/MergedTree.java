package dev.berth.snapshot.archive.internal;

import static dev.berth.sys.Syscalls.AT_FDCWD;
import static dev.berth.sys.Syscalls.AT_REMOVEDIR;
import static dev.berth.sys.Syscalls.AT_SYMLINK_NOFOLLOW;
import static dev.berth.sys.Syscalls.O_DIRECTORY;
import static dev.berth.sys.Syscalls.O_NOFOLLOW;
import static dev.berth.sys.Syscalls.O_PATH;
import static dev.berth.sys.Syscalls.RESOLVE_BENEATH;
import static dev.berth.sys.Syscalls.RESOLVE_NO_MAGICLINKS;
import static dev.berth.sys.Syscalls.RESOLVE_NO_SYMLINKS;

import java.io.IOException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Deque;
import java.util.HashMap;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import dev.berth.snapshot.archive.ApplyTarget;
import dev.berth.sys.Errno;
import dev.berth.sys.ErrnoException;
import dev.berth.sys.Stat;
import dev.berth.sys.Syscalls;

/**
 * The tree a layer is applied to, seen as the merged view of a writable layer (index {@link #UPPER}:
 * the naive target directory, or the overlay upper directory) over read-only lower layers (overlay
 * only, nearest first), with overlayfs' rules: a whiteout (char 0/0) hides the name, an opaque
 * directory hides the directories below it, a non-directory hides everything below it, directories
 * merge.
 *
 * <p><b>Confinement.</b> Every path handed to the kernel is either a single name relative to a
 * directory fd, or a multi-component path opened with {@code openat2(RESOLVE_BENEATH |
 * RESOLVE_NO_SYMLINKS)} (or an {@code O_NOFOLLOW} walk where openat2 is missing) from a layer root.
 * Symlinks are only ever followed by {@link #resolve}, which interprets them itself as if the root were
 * {@code /} (absolute targets restart at the root, {@code ..} stops at it), across the merged view. No
 * operation can therefore reach outside the layer roots.
 *
 * <p>Paths here are canonical: relative to the root, '/'-separated, symlink-free, {@code ""} for the
 * root. Not thread-safe: one apply at a time.
 */
public final class MergedTree implements AutoCloseable {
    public static final int UPPER = 0;
    static final int MAX_SYMLINKS = 40;
    private static final int FD_CACHE_SIZE = 64;
    private static final byte[] OPAQUE_VALUE = {'y'};

    private final Syscalls sys = Syscalls.get();
    private final boolean overlay;
    private final int[] roots;
    private final String[] rootNames;
    private final String opaqueXattr;
    private final String overlayXattrPrefix;
    private final DirNode root;
    private final Map<String, DirNode> dirs = new HashMap<>();
    private final Map<String, String> parentCache = new HashMap<>();
    private final LinkedHashMap<String, Integer> fdCache = new LinkedHashMap<>(FD_CACHE_SIZE * 2, 0.75f, true);
    private boolean closed;
    private long generation;

    /** A directory of the merged view: its canonical path and the layers it is made of, top first. */
    public record DirNode(String path, int[] layers) {
        public boolean inUpper() {
            return layers.length > 0 && layers[0] == UPPER;
        }

        /** Whether only the writable layer contributes (no lower directory is merged in). */
        public boolean upperOnly() {
            return layers.length == 1 && layers[0] == UPPER;
        }
    }

    /**
     * What is at a name in a directory: the writable layer's entry (possibly a whiteout) and the first
     * lower layer's entry as seen through the directory's merge.
     */
    public static final class Lookup {
        Stat upper;
        boolean upperOpaque;
        Stat lower;
        int lowerLayer = -1;
        int[] lowerDirLayers = new int[0];
        private final boolean overlay;

        Lookup(boolean overlay) {
            this.overlay = overlay;
        }

        public Stat upper() {
            return upper;
        }

        public boolean upperIsWhiteout() {
            return overlay && upper != null && upper.isWhiteout();
        }

        public boolean lowerExists() {
            return lower != null && !lower.isWhiteout();
        }

        public boolean lowerIsDirectory() {
            return lower != null && lower.isDirectory();
        }

        public Stat lower() {
            return lower;
        }

        public boolean exists() {
            return upper != null ? !upperIsWhiteout() : lowerExists();
        }

        /** The merged view's entry, when {@link #exists()}. */
        public Stat stat() {
            return upper != null ? upper : lower;
        }

        /** The layer the merged view's entry comes from. */
        public int layer() {
            return upper != null ? UPPER : lowerLayer;
        }

        /** For a directory of the merged view: its layers, top first. */
        int[] dirLayers() {
            if (upper != null) {
                if (!upperOpaque && lowerIsDirectory()) {
                    int[] l = new int[lowerDirLayers.length + 1];
                    l[0] = UPPER;
                    System.arraycopy(lowerDirLayers, 0, l, 1, lowerDirLayers.length);
                    return l;
                }
                return new int[] {UPPER};
            }
            return lowerDirLayers;
        }
    }

    /**
     * A resolved entry path: the deepest existing directory on its (symlink-resolved) parent path,
     * the parent components below it that do not exist yet, and the final name ({@code null} when the
     * path is the root itself).
     */
    public record Resolved(DirNode parent, List<String> missing, String name) {
        public String parentPath() {
            String p = parent.path();
            for (String m : missing) {
                p = join(p, m);
            }
            return p;
        }

        public String path() {
            return name == null ? parentPath() : join(parentPath(), name);
        }

        public boolean isRoot() {
            return name == null && missing.isEmpty() && parent.path().isEmpty();
        }
    }

    private MergedTree(boolean overlay, int[] roots, String[] rootNames, boolean userXattr) {
        this.overlay = overlay;
        this.roots = roots;
        this.rootNames = rootNames;
        this.overlayXattrPrefix = userXattr ? "user.overlay." : "trusted.overlay.";
        this.opaqueXattr = overlayXattrPrefix + "opaque";
        int[] all = new int[roots.length];
        for (int i = 0; i < all.length; i++) {
            all[i] = i;
        }
        this.root = new DirNode("", all);
        dirs.put("", root);
    }

    /** Opens the layer roots of {@code target}. */
    public static MergedTree open(ApplyTarget target) throws IOException {
        List<Path> paths = new ArrayList<>();
        boolean overlay;
        boolean userXattr = false;
        if (target instanceof ApplyTarget.Naive n) {
            overlay = false;
            paths.add(n.directory());
        } else {
            ApplyTarget.Overlay o = (ApplyTarget.Overlay) target;
            overlay = true;
            userXattr = o.userXattr();
            paths.add(o.upperDir());
            paths.addAll(o.lowerDirs());
        }
        Syscalls sys = Syscalls.get();
        int[] fds = new int[paths.size()];
        Arrays.fill(fds, -1);
        String[] names = new String[paths.size()];
        try {
            for (int i = 0; i < fds.length; i++) {
                names[i] = paths.get(i).toAbsolutePath().toString();
                fds[i] = sys.openat(AT_FDCWD, names[i], O_PATH | O_DIRECTORY, 0);
            }
        } catch (IOException e) {
            for (int fd : fds) {
                sys.close(fd);
            }
            throw e;
        }
        return new MergedTree(overlay, fds, names, userXattr);
    }

    /**
     * Counts {@link #invalidate()} calls: while it is unchanged, nothing this tree knows about was
     * removed, replaced or shadowed.
     */
    public long generation() {
        return generation;
    }

    public boolean isOverlay() {
        return overlay;
    }

    public DirNode root() {
        return root;
    }

    /** Where {@code path} (canonical) lives in the writable layer, for messages. */
    public String describe(String path) {
        return path.isEmpty() ? rootNames[UPPER] : rootNames[UPPER] + "/" + path;
    }

    /** Whether {@code xattr} is one overlayfs interprets (a layer must never set those). */
    public static boolean isOverlayXattr(String xattr) {
        return xattr.startsWith("trusted.overlay.") || xattr.startsWith("user.overlay.");
    }

    // ---------------------------------------------------------------- resolution

    /**
     * Resolves {@code components} (already cleaned: no "", ".", "..") inside the root over the merged
     * view. Symlinks among the parent components are followed (as if the root were "/"); the final
     * component is followed only if {@code followFinal}.
     *
     * @throws PathException when a parent component is not a directory or symlinks loop
     */
    public Resolved resolve(List<String> components, boolean followFinal) throws IOException {
        if (components.isEmpty()) {
            return new Resolved(root, List.of(), null);
        }
        String cacheKey = null;
        if (!followFinal) {
            cacheKey = joinAll(components, components.size() - 1);
            String cached = parentCache.get(cacheKey);
            if (cached != null) {
                return new Resolved(dirNode(cached), List.of(), components.get(components.size() - 1));
            }
            // a known directory node's path is canonical (symlink-free, every prefix a directory) until
            // the next invalidate(), so the components name exactly that directory: no walk needed
            DirNode known = dirs.get(cacheKey);
            if (known != null) {
                return new Resolved(known, List.of(), components.get(components.size() - 1));
            }
        }
        Deque<String> todo = new ArrayDeque<>(components);
        List<String> stack = new ArrayList<>();
        List<DirNode> nodes = new ArrayList<>();
        nodes.add(root);
        int existing = 0; // leading components of stack that exist (as directories)
        int links = 0;
        String finalName = null;
        while (!todo.isEmpty()) {
            String c = todo.pollFirst();
            if (c.isEmpty() || c.equals(".")) {
                continue;
            }
            if (c.equals("..")) {
                if (!stack.isEmpty()) {
                    stack.remove(stack.size() - 1);
                    if (existing > stack.size()) {
                        existing = stack.size();
                        nodes.subList(existing + 1, nodes.size()).clear();
                    }
                }
                continue;
            }
            if (todo.isEmpty() && !followFinal) {
                finalName = c;
                break;
            }
            if (existing < stack.size()) {
                stack.add(c); // below a missing directory: everything is missing
                continue;
            }
            DirNode cur = nodes.get(existing);
            Lookup l = lookup(cur, c);
            if (!l.exists()) {
                stack.add(c);
                continue;
            }
            Stat st = l.stat();
            if (st.isSymlink()) {
                if (++links > MAX_SYMLINKS) {
                    throw new PathException("too many levels of symbolic links");
                }
                String target = readlink(l.layer(), cur.path(), c);
                if (target.startsWith("/")) {
                    stack.clear();
                    existing = 0;
                    nodes.subList(1, nodes.size()).clear();
                }
                String[] parts = target.split("/");
                for (int i = parts.length - 1; i >= 0; i--) {
                    todo.addFirst(parts[i]);
                }
                continue;
            }
            if (st.isDirectory()) {
                DirNode child = child(cur, c, l);
                stack.add(c);
                nodes.add(child);
                existing++;
                continue;
            }
            throw new PathException("\"" + join(cur.path(), c) + "\" is not a directory");
        }
        DirNode parent = nodes.get(existing);
        List<String> missing = List.copyOf(stack.subList(existing, stack.size()));
        if (cacheKey != null && missing.isEmpty() && finalName != null) {
            parentCache.put(cacheKey, parent.path());
        }
        if (finalName == null && followFinal) {
            return new Resolved(parent, missing, null);
        }
        return new Resolved(parent, missing, finalName);
    }

    /** The directory node of an existing canonical directory path (looked up again if not cached). */
    public DirNode dirNode(String path) throws IOException {
        DirNode d = dirs.get(path);
        if (d != null) {
            return d;
        }
        int slash = path.lastIndexOf('/');
        DirNode parent = dirNode(slash < 0 ? "" : path.substring(0, slash));
        String name = path.substring(slash + 1);
        Lookup l = lookup(parent, name);
        if (!l.exists() || !l.stat().isDirectory()) {
            throw new PathException("\"" + path + "\" is no longer a directory");
        }
        return child(parent, name, l);
    }

    private DirNode child(DirNode parent, String name, Lookup l) {
        String path = join(parent.path(), name);
        DirNode d = dirs.get(path);
        if (d == null) {
            d = new DirNode(path, l.dirLayers());
            dirs.put(path, d);
        }
        return d;
    }

    /** Records that {@code path} is now a directory of the writable layer made of {@code layers}. */
    public DirNode register(String path, int[] layers) {
        DirNode d = new DirNode(path, layers);
        dirs.put(path, d);
        return d;
    }

    /** What is at {@code name} in {@code dir}. */
    public Lookup lookup(DirNode dir, String name) throws IOException {
        Lookup r = new Lookup(overlay);
        int[] layers = dir.layers();
        int i = 0;
        if (layers.length > 0 && layers[0] == UPPER) {
            r.upper = sys.lstatat(dirFd(UPPER, dir.path()), name);
            if (r.upper != null && overlay && r.upper.isDirectory()) {
                r.upperOpaque = isOpaque(UPPER, dir.path(), name);
            }
            i = 1;
        }
        if (!overlay) {
            return r;
        }
        int[] dirLayers = new int[layers.length];
        int n = 0;
        for (; i < layers.length; i++) {
            int li = layers[i];
            Stat st = sys.lstatat(dirFd(li, dir.path()), name);
            if (st == null) {
                continue;
            }
            if (r.lower == null) {
                r.lower = st;
                r.lowerLayer = li;
            }
            if (!st.isDirectory()) {
                break;
            }
            dirLayers[n++] = li;
            if (isOpaque(li, dir.path(), name)) {
                break;
            }
        }
        r.lowerDirLayers = Arrays.copyOf(dirLayers, n);
        return r;
    }

    private boolean isOpaque(int layer, String dirPath, String name) throws IOException {
        byte[] v = sys.lgetxattr(Syscalls.procPath(dirFd(layer, dirPath), name), opaqueXattr);
        return v != null && v.length == 1 && v[0] == 'y';
    }

    public String readlink(int layer, String dirPath, String name) throws IOException {
        return sys.readlinkat(dirFd(layer, dirPath), name);
    }

    // ---------------------------------------------------------------- directory fds

    /**
     * An {@code O_PATH} fd of the directory {@code path} of layer {@code layer}, opened without following
     * any symlink and never above the layer root. Cached; the caller must not close it and must not hold
     * it across calls that change the tree.
     */
    public int dirFd(int layer, String path) throws IOException {
        if (path.isEmpty()) {
            return roots[layer];
        }
        String key = layer + "\0" + path;
        Integer fd = fdCache.get(key);
        if (fd != null) {
            return fd;
        }
        int opened = openBeneath(roots[layer], path);
        fdCache.put(key, opened);
        if (fdCache.size() > FD_CACHE_SIZE) {
            Iterator<Map.Entry<String, Integer>> it = fdCache.entrySet().iterator();
            Map.Entry<String, Integer> eldest = it.next();
            if (eldest.getValue() != opened) {
                sys.close(eldest.getValue());
                it.remove();
            }
        }
        return opened;
    }

    private int openBeneath(int rootFd, String path) throws IOException {
        if (sys.hasOpenat2()) {
            try {
                return sys.openat2(rootFd, path, O_PATH | O_DIRECTORY | O_NOFOLLOW | Syscalls.O_CLOEXEC,
                        RESOLVE_BENEATH | RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
            } catch (ErrnoException e) {
                // ENAMETOOLONG: a deep tree whose path exceeds PATH_MAX is still valid; walk it name by name
                if (!e.is(Errno.ENOSYS) && !e.is(Errno.ENAMETOOLONG)) {
                    throw e;
                }
            }
        }
        int fd = rootFd;
        try {
            for (String c : path.split("/")) {
                int next = sys.openat(fd, c, O_PATH | O_DIRECTORY | O_NOFOLLOW, 0);
                if (fd != rootFd) {
                    sys.close(fd);
                }
                fd = next;
            }
            return fd;
        } catch (IOException e) {
            if (fd != rootFd) {
                sys.close(fd);
            }
            throw e;
        }
    }

    /**
     * Forgets every cached resolution, directory node and fd: called whenever the writable layer
     * changes in a way that can alter how paths resolve (a directory or symlink removed or shadowed,
     * an opaque flag set, a whiteout created).
     */
    public void invalidate() {
        generation++;
        dirs.clear();
        dirs.put("", root);
        parentCache.clear();
        for (int fd : fdCache.values()) {
            sys.close(fd);
        }
        fdCache.clear();
    }

    // ---------------------------------------------------------------- writable layer operations

    /**
     * Makes sure {@code dir} exists in the writable layer: in overlay mode a directory that only lives
     * in lower layers is copied up (created with the mode, owner and xattrs of its topmost lower
     * directory), parents first.
     */
    public DirNode ensureInUpper(DirNode stale) throws IOException {
        DirNode dir = dirNode(stale.path());
        if (dir.inUpper()) {
            return dir;
        }
        String path = dir.path();
        int slash = path.lastIndexOf('/');
        DirNode parent = ensureInUpper(dirNode(slash < 0 ? "" : path.substring(0, slash)));
        String name = path.substring(slash + 1);
        int from = dir.layers()[0];
        int srcFd = dirFd(from, parent.path());
        Stat st = sys.lstatat(srcFd, name);
        if (st == null || !st.isDirectory()) {
            throw new PathException("lower directory \"" + path + "\" vanished");
        }
        int dfd = dirFd(UPPER, parent.path());
        sys.mkdirat(dfd, name, 0700);
        sys.fchownat(dfd, name, st.uid(), st.gid(), AT_SYMLINK_NOFOLLOW);
        copyXattrs(Syscalls.procPath(srcFd, name), Syscalls.procPath(dfd, name), -1);
        sys.fchmodat(dfd, name, st.permissions());
        int[] layers = new int[dir.layers().length + 1];
        layers[0] = UPPER;
        System.arraycopy(dir.layers(), 0, layers, 1, dir.layers().length);
        return register(path, layers);
    }

    /** Creates the missing directories {@code missing} below {@code parent} in the writable layer (0755). */
    public DirNode createMissing(DirNode parent, List<String> missing) throws IOException {
        DirNode d = parent;
        for (String m : missing) {
            int dfd = dirFd(UPPER, d.path());
            sys.mkdirat(dfd, m, 0755);
            sys.fchmodat(dfd, m, 0755);
            d = register(join(d.path(), m), new int[] {UPPER});
        }
        return d;
    }

    /**
     * Copies the xattrs of {@code srcPath} to {@code dstPath} (or to {@code dstFd} when not negative),
     * except overlayfs' own, tolerating file systems without xattr support.
     */
    public void copyXattrs(String srcPath, String dstPath, int dstFd) throws IOException {
        for (String name : sys.llistxattr(srcPath)) {
            if (isOverlayXattr(name)) {
                continue;
            }
            byte[] v = sys.lgetxattr(srcPath, name);
            if (v == null) {
                continue;
            }
            int rc = dstFd >= 0 ? sys.fsetxattr(dstFd, name, v) : sys.lsetxattr(dstPath, name, v);
            if (rc != 0 && rc != -Errno.EOPNOTSUPP && rc != -Errno.EPERM) {
                throw new ErrnoException("lsetxattr", dstPath + " [" + name + "]", -rc);
            }
        }
    }

    /** Removes {@code name} (recursively for a directory) from the writable layer. */
    public void removeUpper(DirNode dir, String name, Stat st) throws IOException {
        int dfd = dirFd(UPPER, dir.path());
        if (st.isDirectory()) {
            removeTree(dfd, name);
        } else {
            sys.unlinkat(dfd, name, 0);
        }
        if (st.isDirectory() || st.isSymlink()) {
            invalidate();
        }
    }

    private void removeTree(int dirfd, String name) throws IOException {
        int fd = sys.openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW, 0);
        try {
            for (String child : list(fd)) {
                Stat st = sys.lstatat(fd, child);
                if (st == null) {
                    continue;
                }
                if (st.isDirectory()) {
                    removeTree(fd, child);
                } else {
                    sys.unlinkat(fd, child, 0);
                }
            }
        } finally {
            sys.close(fd);
        }
        sys.unlinkat(dirfd, name, AT_REMOVEDIR);
    }

    /** Names in the directory open as {@code fd}. */
    public List<String> list(int fd) throws IOException {
        List<String> names = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(Path.of("/proc/self/fd/" + fd))) {
            for (Path p : ds) {
                names.add(p.getFileName().toString());
            }
        }
        return names;
    }

    /** Names in directory {@code path} of layer {@code layer}. */
    public List<String> list(int layer, String path) throws IOException {
        return list(dirFd(layer, path));
    }

    /** Which paths of the writable layer belong to the layer being applied. */
    public interface Written {
        boolean written(String path);

        /** Whether a path below {@code dir} was written. */
        boolean hasWrittenBelow(String dir);
    }

    /**
     * Removes from the writable layer everything at and below {@code name} in {@code dir} that the
     * layer being applied did not write, keeping directories with written content below them.
     *
     * @return whether anything is left at {@code name}
     */
    public boolean prune(DirNode dir, String name, Written w) throws IOException {
        boolean left = pruneEntry(dirFd(UPPER, dir.path()), dir.path(), name, w);
        invalidate();
        return left;
    }

    /** As {@link #prune} for each child of {@code dir} (which stays). */
    public void pruneChildren(DirNode dir, Written w) throws IOException {
        int fd = dirFd(UPPER, dir.path());
        for (String child : list(fd)) {
            pruneEntry(fd, dir.path(), child, w);
        }
        invalidate();
    }

    private boolean pruneEntry(int dirfd, String dirPath, String name, Written w) throws IOException {
        Stat st = sys.lstatat(dirfd, name);
        if (st == null) {
            return false;
        }
        String path = join(dirPath, name);
        boolean written = w.written(path);
        if (st.isDirectory() && (written || w.hasWrittenBelow(path))) {
            int fd = sys.openat(dirfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW, 0);
            try {
                for (String child : list(fd)) {
                    pruneEntry(fd, path, child, w);
                }
            } finally {
                sys.close(fd);
            }
            return true;
        }
        if (written) {
            return true;
        }
        if (st.isDirectory()) {
            removeTree(dirfd, name);
        } else {
            sys.unlinkat(dirfd, name, 0);
        }
        return false;
    }

    /** Marks {@code name} in {@code dir} (a directory of the writable layer) opaque. */
    public void setOpaque(DirNode dir, String name) throws IOException {
        String path = Syscalls.procPath(dirFd(UPPER, dir.path()), name);
        int rc = sys.lsetxattr(path, opaqueXattr, OPAQUE_VALUE);
        if (rc != 0) {
            throw new ErrnoException("lsetxattr", describe(join(dir.path(), name)) + " [" + opaqueXattr + "]",
                    -rc);
        }
        invalidate();
    }

    /** Creates an overlay whiteout (char device 0/0) owned by uid/gid at {@code name} in {@code dir}. */
    public void createWhiteout(DirNode dir, String name, int uid, int gid) throws IOException {
        int dfd = dirFd(UPPER, dir.path());
        sys.mknodat(dfd, name, Syscalls.S_IFCHR, 0, 0);
        sys.fchownat(dfd, name, uid, gid, AT_SYMLINK_NOFOLLOW);
        invalidate();
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        invalidate();
        for (int fd : roots) {
            sys.close(fd);
        }
    }

    public static String join(String dir, String name) {
        return dir.isEmpty() ? name : dir + "/" + name;
    }

    private static String joinAll(List<String> components, int count) {
        if (count == 0) {
            return "";
        }
        StringBuilder sb = new StringBuilder(components.get(0));
        for (int i = 1; i < count; i++) {
            sb.append('/').append(components.get(i));
        }
        return sb.toString();
    }

    /** A path of the layer that cannot be resolved: a non-directory parent, a symlink loop. */
    public static final class PathException extends IOException {
        private static final long serialVersionUID = 1L;

        public PathException(String message) {
            super(message);
        }
    }
}

package dev.berth.snapshot.internal;

import dev.berth.api.Mount;
import dev.berth.api.snapshot.Kind;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;

/**
 * containerd's native layout: {@code snapshots/<id>} is a full copy of the parent plus the snapshot's
 * changes, exposed with bind mounts. A view of a parent needs no copy: it binds the parent read-only.
 */
final class NativeDriver implements StorageDriver {
    private final Path snapshots;

    NativeDriver(Path snapshots) {
        this.snapshots = snapshots;
    }

    @Override
    public String name() {
        return "native";
    }

    @Override
    public boolean needsDirectory(Kind kind, List<Long> parents) {
        // Committed snapshots were active once, so they own a directory too.
        return kind != Kind.VIEW || parents.isEmpty();
    }

    @Override
    public void populate(Path dir, Kind kind, List<Long> parents) throws IOException {
        if (!parents.isEmpty()) {
            copyTree(layerDir(parents.get(0)), dir);
        }
    }

    @Override
    public List<Mount> mounts(long id, Kind kind, List<Long> parents) {
        String rw = kind == Kind.VIEW ? "ro" : "rw";
        Path source = parents.isEmpty() || kind == Kind.ACTIVE ? layerDir(id) : layerDir(parents.get(0));
        return List.of(new Mount("bind", source.toString(), List.of(rw, "rbind")));
    }

    @Override
    public Path layerDir(long id) {
        return snapshots.resolve(Long.toString(id));
    }

    /**
     * Copies the contents and attributes of {@code src} into the existing directory {@code dst}: owners,
     * modes, times, xattrs (including {@code trusted.*} and {@code security.*}), hardlinks, devices,
     * fifos, sockets and symlinks, sharing extents where the file system can ({@code cp -a
     * --reflink=auto}; GNU cp does all of this in one pass and reflinks on btrfs/xfs).
     */
    private static void copyTree(Path src, Path dst) throws IOException {
        List<String> cmd = List.of("cp", "-a", "--reflink=auto", "--", src + "/.", dst.toString());
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).redirectInput(ProcessBuilder.Redirect.PIPE)
                .start();
        p.getOutputStream().close();
        String output;
        try (InputStream in = p.getInputStream()) {
            output = new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
        }
        int rc;
        try {
            rc = p.waitFor();
        } catch (InterruptedException e) {
            p.destroyForcibly();
            Thread.currentThread().interrupt();
            throw new IOException("interrupted while copying " + src + " to " + dst, e);
        }
        if (rc != 0) {
            throw new IOException("copying " + src + " to " + dst + " failed (cp exit " + rc + "): " + output);
        }
    }
}

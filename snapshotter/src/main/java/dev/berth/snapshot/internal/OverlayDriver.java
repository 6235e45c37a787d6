package dev.berth.snapshot.internal;

import dev.berth.api.Mount;
import dev.berth.api.snapshot.Kind;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.StringJoiner;

/** containerd's overlayfs layout: {@code snapshots/<id>/fs} (the layer) and {@code work}. */
final class OverlayDriver implements StorageDriver {
    static final String UPPERDIR_LABEL = "containerd.io/snapshot/overlay.upperdir";

    private final Path snapshots;
    private final List<String> options;
    private final boolean upperdirLabel;

    OverlayDriver(Path snapshots, List<String> options, boolean upperdirLabel) {
        this.snapshots = snapshots;
        this.options = List.copyOf(options);
        this.upperdirLabel = upperdirLabel;
    }

    @Override
    public String name() {
        return "overlayfs";
    }

    @Override
    public boolean needsDirectory(Kind kind, List<Long> parents) {
        return true;
    }

    @Override
    public void populate(Path dir, Kind kind, List<Long> parents) throws IOException {
        Path fs = Files.createDirectory(dir.resolve("fs"));
        Files.setPosixFilePermissions(fs, PosixFilePermissions.fromString("rwxr-xr-x"));
        if (kind == Kind.ACTIVE) {
            Path work = Files.createDirectory(dir.resolve("work"));
            Files.setPosixFilePermissions(work, PosixFilePermissions.fromString("rwx--x--x"));
        }
        if (!parents.isEmpty()) {
            // Keeps the root owner of a userns-remapped image: the new upper dir starts like its parent.
            Path parentFs = layerDir(parents.get(0));
            Object uid = Files.getAttribute(parentFs, "unix:uid", LinkOption.NOFOLLOW_LINKS);
            Object gid = Files.getAttribute(parentFs, "unix:gid", LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(fs, "unix:uid", uid, LinkOption.NOFOLLOW_LINKS);
            Files.setAttribute(fs, "unix:gid", gid, LinkOption.NOFOLLOW_LINKS);
        }
    }

    @Override
    public List<Mount> mounts(long id, Kind kind, List<Long> parents) {
        if (parents.isEmpty()) {
            String rw = kind == Kind.VIEW ? "ro" : "rw";
            return List.of(new Mount("bind", layerDir(id).toString(), List.of(rw, "rbind")));
        }
        if (kind != Kind.ACTIVE && parents.size() == 1) {
            return List.of(new Mount("bind", layerDir(parents.get(0)).toString(), List.of("ro", "rbind")));
        }
        List<String> opts = new ArrayList<>(options);
        if (kind == Kind.ACTIVE) {
            opts.add("workdir=" + snapshots.resolve(Long.toString(id)).resolve("work"));
            opts.add("upperdir=" + layerDir(id));
        }
        // overlay's leftmost lower dir is the topmost layer, so the nearest parent comes first.
        StringJoiner lower = new StringJoiner(":", "lowerdir=", "");
        for (long p : parents) {
            lower.add(layerDir(p).toString());
        }
        opts.add(lower.toString());
        return List.of(new Mount("overlay", "overlay", opts));
    }

    @Override
    public Path layerDir(long id) {
        return snapshots.resolve(Long.toString(id)).resolve("fs");
    }

    @Override
    public Map<String, String> reportedLabels(long id) {
        return upperdirLabel ? Map.of(UPPERDIR_LABEL, layerDir(id).toString()) : Map.of();
    }
}

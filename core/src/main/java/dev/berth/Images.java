package dev.berth;

import dev.berth.api.AlreadyExistsException;
import dev.berth.api.Digest;
import dev.berth.api.Digester;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.IoFailureException;
import dev.berth.api.Mount;
import dev.berth.api.NotFoundException;
import dev.berth.api.image.Image;
import dev.berth.api.image.ImageReference;
import dev.berth.api.image.ImageStore;
import dev.berth.api.lease.Lease;
import dev.berth.api.snapshot.Snapshotter;
import dev.berth.image.ExportOptions;
import dev.berth.image.ImageBuilder;
import dev.berth.image.ImageService;
import dev.berth.image.ResolvedImage;
import dev.berth.image.UnpackResult;
import dev.berth.metadata.internal.NamespacedMetadata;
import dev.berth.snapshot.mount.Mounted;
import dev.berth.snapshot.mount.Mounts;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * The images of one namespace: names pointing at manifests or indexes in the content store, and what
 * can be done with them. Names are looked up as given and then in normalized form ({@code busybox} is
 * {@code docker.io/library/busybox:latest}). Filters for {@link #list}: {@code name},
 * {@code target.digest}, {@code target.mediatype}, {@code labels.<key>}. Thread-safe.
 */
public final class Images {
    /** Label on the lease that keeps an {@link #mount image mount}'s snapshot. */
    public static final String MOUNT_TARGET_LABEL = "berth.dev/mount.target";

    private final Namespace ns;

    Images(Namespace ns) {
        this.ns = ns;
    }

    /** The image records themselves. */
    public ImageStore store() {
        return ns.metadata().images();
    }

    /** Images matching any of {@code filters} (all if none), by name. */
    public List<Image> list(String... filters) {
        return ns.metadata().images().list(filters);
    }

    /** @throws NotFoundException if no image has that name (as given or normalized) */
    public Image get(String name) {
        return ns.imageService().get(name);
    }

    /** The image resolved for the root's platform: its manifest and config. */
    public ResolvedImage resolve(String name) {
        return ns.imageService().resolve(name);
    }

    /** See {@link Namespace#importImage(Path)}. */
    public List<Image> importArchive(Path archive) {
        return ns.importImage(archive);
    }

    /** Unpacks image {@code name} into the default snapshotter (layers already there are skipped). */
    public UnpackResult unpack(String name) {
        return unpack(name, ns.berth().defaultSnapshotter());
    }

    /** Unpacks image {@code name} into snapshotter {@code snapshotter}, under a temporary lease. */
    public UnpackResult unpack(String name, String snapshotter) {
        Objects.requireNonNull(name, "name");
        ns.berth().backendSnapshotter(snapshotter);
        return ns.withTemporaryLease(view -> {
            ImageService svc = ns.imageService(view);
            return svc.unpack(svc.resolve(name), view.snapshotter(snapshotter));
        });
    }

    /** Writes images {@code names} as an OCI layout tar (with a Docker {@code manifest.json}) to {@code out}. */
    public void export(OutputStream out, String... names) {
        ns.imageService().export(out, ExportOptions.of(names));
    }

    /** Writes images {@code names} as an OCI layout tar to {@code file}. */
    public void export(Path file, String... names) {
        Objects.requireNonNull(file, "file");
        Path tmp = file.resolveSibling(file.getFileName() + ".tmp-" + ProcessHandle.current().pid());
        try (OutputStream out = Files.newOutputStream(tmp)) {
            export(out, names);
        } catch (IOException e) {
            throw new IoFailureException("cannot write " + file + ": " + e.getMessage(), e);
        } catch (RuntimeException e) {
            deleteQuietly(tmp);
            throw e;
        }
        try {
            Files.move(tmp, file, java.nio.file.StandardCopyOption.REPLACE_EXISTING,
                    java.nio.file.StandardCopyOption.ATOMIC_MOVE);
        } catch (IOException e) {
            deleteQuietly(tmp);
            throw new IoFailureException("cannot write " + file + ": " + e.getMessage(), e);
        }
    }

    private static void deleteQuietly(Path p) {
        try {
            Files.deleteIfExists(p);
        } catch (IOException ignored) {
            // best effort
        }
    }

    /**
     * Builds an image into this namespace and names it {@code name}, under a temporary lease:
     * {@code images.build("app:1", b -> b.from("busybox").layer(...).entrypoint("/app"))}.
     */
    public Image build(String name, Consumer<ImageBuilder> recipe) {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(recipe, "recipe");
        return ns.withTemporaryLease(view -> {
            ImageBuilder builder = ns.imageService(view).newImage();
            recipe.accept(builder);
            return builder.build(name);
        });
    }

    /** Gives image {@code source}'s target a second name {@code target} (normalized). */
    public Image tag(String source, String target) {
        Image src = get(source);
        String name = ImageReference.normalize(target);
        return ns.metadata().images().create(new Image(name, src.target(), src.labels(), null, null));
    }

    /**
     * Deletes an image name. The blobs and snapshots only it referenced are collected by the next
     * garbage collection; with {@code synchronous}, before this returns.
     */
    public void delete(String name, boolean synchronous) {
        ns.metadata().images().delete(get(name).name(), synchronous);
    }

    public void delete(String name) {
        delete(name, false);
    }

    /**
     * Mounts the unpacked image read-only at {@code target} ({@code ctr images mount}): a view snapshot
     * of its top layer, kept by a lease until {@link #unmount}. The mount outlives this JVM.
     *
     * @throws AlreadyExistsException if something of Berth's is already mounted there
     */
    public Path mount(String name, Path target) {
        Objects.requireNonNull(name, "name");
        Path t = target.toAbsolutePath().normalize();
        if (!Files.isDirectory(t)) {
            throw new InvalidArgumentException("mount target " + t + " is not a directory");
        }
        NamespacedMetadata md = ns.metadata();
        String leaseId = mountLeaseId(t);
        md.leases().create(leaseId, Map.of(MOUNT_TARGET_LABEL, t.toString()), null);
        NamespacedMetadata view = md.withLease(leaseId);
        Snapshotter sn = view.snapshotter(ns.berth().defaultSnapshotter());
        String key = mountKey(t);
        boolean prepared = false;
        try {
            ImageService svc = ns.imageService(view);
            ResolvedImage image = svc.resolve(name);
            svc.unpack(image, sn);
            Digest top = image.topChainId();
            if (top == null) {
                throw new InvalidArgumentException("image " + image.name() + " has no layers to mount");
            }
            List<Mount> mounts = sn.view(key, top.toString());
            prepared = true;
            Mounts.mountAll(mounts, t);
            return t;
        } catch (RuntimeException e) {
            if (prepared) {
                try {
                    sn.remove(key);
                } catch (RuntimeException suppressed) {
                    e.addSuppressed(suppressed);
                }
            }
            md.leases().delete(leaseId, false);
            throw e;
        }
    }

    /**
     * Unmounts what {@link #mount} mounted at {@code target} and releases its snapshot.
     *
     * @return false if Berth had nothing mounted there
     */
    public boolean unmount(Path target) {
        Path t = target.toAbsolutePath().normalize();
        NamespacedMetadata md = ns.metadata();
        String leaseId = mountLeaseId(t);
        boolean known = !md.leases().list("id==\"" + leaseId + "\"").isEmpty();
        int unmounted = Mounts.unmountAll(t);
        if (!known) {
            return unmounted > 0;
        }
        for (String name : ns.berth().snapshotterNames()) {
            try {
                md.snapshotter(name).remove(mountKey(t));
            } catch (NotFoundException notThere) {
                // the view lives in one snapshotter only
            }
        }
        md.leases().delete(leaseId, false);
        return true;
    }

    private static String mountKey(Path target) {
        return "mount:" + target;
    }

    /** Lease ids are identifiers and paths are not: name the lease by a hash of the path. */
    private static String mountLeaseId(Path target) {
        byte[] bytes = target.toString().getBytes(StandardCharsets.UTF_8);
        Digester digester = Digester.sha256();
        digester.update(bytes, 0, bytes.length);
        Digest d = digester.digest();
        return "mount-" + d.hex().substring(0, 24);
    }

    /** The leases keeping image mounts of this namespace. */
    List<Lease> mountLeases() {
        return ns.metadata().leases().list("labels.\"" + MOUNT_TARGET_LABEL + "\"");
    }
}

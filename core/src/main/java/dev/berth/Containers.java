package dev.berth;

import dev.berth.api.AlreadyExistsException;
import dev.berth.api.Digest;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.Identifiers;
import dev.berth.api.IoFailureException;
import dev.berth.api.Mount;
import dev.berth.api.NotFoundException;
import dev.berth.api.internal.StepTimes;
import dev.berth.api.container.ContainerRecord;
import dev.berth.api.image.Image;
import dev.berth.api.oci.runtime.RuntimeSpecJson;
import dev.berth.api.oci.runtime.Spec;
import dev.berth.api.snapshot.Snapshotter;
import dev.berth.image.ImageService;
import dev.berth.image.ResolvedImage;
import dev.berth.metadata.internal.NamespacedMetadata;
import dev.berth.runtime.spec.RootfsUsers;
import dev.berth.runtime.spec.SpecBuilder;
import dev.berth.runtime.spec.SpecOption;
import dev.berth.snapshot.mount.Mounted;
import dev.berth.snapshot.mount.Mounts;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.UUID;
import java.util.function.Function;

/**
 * The containers of one namespace: records of what to run (image, snapshot, OCI spec, runtime). A
 * container created from an image gets a new writable snapshot over the image's unpacked layers (unpacked
 * first if needed, under a temporary lease) and a spec built from the image's config; the snapshot and
 * the record are made in one metadata transaction. Filters for
 * {@link #list}: {@code id}, {@code image}, {@code runtime.name}, {@code snapshotter},
 * {@code snapshotkey}, {@code labels.<key>}. Thread-safe.
 */
public final class Containers {
    private static final int RESOLVED_CACHE = 64;

    private final Namespace ns;
    private final java.util.Map<String, ResolvedImage> resolved = new java.util.concurrent.ConcurrentHashMap<>();
    private final java.util.Map<String, RootfsUsers.UserFiles> userFiles = new java.util.concurrent.ConcurrentHashMap<>();

    private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(Containers.class);
    static final String TMPMOUNTS = "tmpmounts";

    Containers(Namespace ns) {
        this.ns = ns;
    }

    /** Creates container {@code id} from {@code image}, its spec changed by {@code spec} in order. */
    public Container create(String id, String image, SpecOption... spec) {
        return create(ContainerConfig.builder(id).image(image).spec(spec).build());
    }

    /**
     * Creates container {@code id} with {@code options} applied in order, as containerd's
     * {@code client.NewContainer(ctx, id, opts...)}: {@code create("web", ContainerOptions.image("busybox"),
     * ContainerOptions.spec(SpecOptions.args("httpd", "-f")))}.
     */
    public Container create(String id, ContainerOption... options) {
        return create(ContainerConfig.builder(id).with(options).build());
    }

    /**
     * Creates a container.
     *
     * @throws AlreadyExistsException if the id is taken
     * @throws NotFoundException if the image does not exist or has no manifest for this platform
     * @throws dev.berth.api.InvalidArgumentException if the spec options do not make a runnable container
     *         (no command, a user the image lacks, ...)
     */
    public Container create(ContainerConfig config) {
        return createForRun(config, false).container();
    }

    /** A container just created, with what its first task needs, so it is not read back. */
    record Created(Container container, ContainerRecord record, List<Mount> rootfs,
                   boolean terminal) {
    }

    /**
     * Creates the container; an {@code ephemeral} one (run with rm) is recorded without waiting for the
     * disk ({@link NamespacedMetadata#atomicallyEphemeral}): after a power loss it may be gone, as it would
     * be after its process exited.
     */
    Created createForRun(ContainerConfig config, boolean ephemeral) {
        Objects.requireNonNull(config, "config");
        Berth berth = ns.berth();
        NamespacedMetadata md = ns.metadata();
        String snapshotterName = config.snapshotter().orElse(berth.defaultSnapshotter());
        berth.backendSnapshotter(snapshotterName);
        Snapshotter sn = md.snapshotter(snapshotterName);
        berth.awaitRemoval(ns.name(), config.id()); // an rm run of the same id removed after it returned
        ContainerNetwork network = ContainerNetwork.of(config);
        ContainerNetwork joined = network.check(ns, config.id());
        for (int attempt = 1; ; attempt++) {
            // The snapshot and the record that references it commit together, so garbage collection never
            // sees the snapshot unreferenced (no lease needed), and a failure undoes both.
            java.util.function.Supplier<Created> work = () -> {
                if (md.containers().exists(config.id())) {
                    throw new AlreadyExistsException("container \"" + config.id() + "\": already exists in namespace "
                            + ns.name());
                }
                ResolvedImage image = config.image().isEmpty() ? null : resolve(ns.imageService(), config.image().get());
                if (image != null && !isUnpacked(sn, image.topChainId())) {
                    return null;
                }
                StepTimes.mark("ctr-image");
                return createInTransaction(md, config, sn, image, network, joined);
            };
            Created created = ephemeral ? md.atomicallyEphemeral(work) : md.atomically(work);
            StepTimes.mark("ctr-commit");
            if (created != null) {
                return created;
            }
            if (attempt == 3) {
                throw new FailedPreconditionException("image " + config.image().orElseThrow() + " was unpacked into "
                        + snapshotterName + " but its snapshots were removed again before container " + config.id()
                        + " could use them");
            }
            // Unpacking takes long, so it runs under its own temporary lease, outside the container's
            // transaction; afterwards the image's config blob references the snapshots.
            ResolvedImage image = resolve(ns.imageService(), config.image().orElseThrow());
            ns.withTemporaryLease(view -> {
                ns.imageService(view).unpack(image, view.snapshotter(snapshotterName));
                return null;
            });
        }
    }

    private Created createInTransaction(NamespacedMetadata md, ContainerConfig config, Snapshotter sn,
                                        ResolvedImage image, ContainerNetwork network, ContainerNetwork joined) {
        String id = config.id();
        SpecBuilder builder = SpecBuilder.defaults(ns.name(), id);
        List<Mount> mounts = List.of();
        Digest topChain = null;
        if (image != null) {
            topChain = image.topChainId();
            mounts = sn.prepare(id, topChain == null ? null : topChain.toString());
            StepTimes.mark("ctr-prepare");
            builder.imageConfig(image.config());
        }
        config.customize(builder);
        network.applyTo(builder, ns.berth().networks(), ns.name(), id, joined);
        if (!mounts.isEmpty()) {
            builder.userFiles(userFiles(sn.name(), topChain, mounts));
        }
        Spec spec = builder.build();
        StepTimes.mark("ctr-spec");
        byte[] specJson = RuntimeSpecJson.toJson(spec);
        StepTimes.mark("ctr-spec-json");
        String runtime = config.runtime().orElse(ns.berth().defaultRuntime());
        java.util.Map<String, String> labels = new java.util.LinkedHashMap<>(config.labels());
        labels.putAll(network.labels());
        var record = md.containers().create(new ContainerRecord(id, labels,
                image == null ? "" : image.name(), RuncOptionsCodec.encode(runtime, config.runcOptions()),
                specJson, sn.name(), image == null ? "" : id, null, null, null));
        StepTimes.mark("ctr-record");
        boolean terminal = spec.process() != null && Boolean.TRUE.equals(spec.process().terminal());
        return new Created(new Container(ns, id), record, mounts, terminal);
    }

    /**
     * The image resolved for this platform. Resolving reads and checks the index, manifest and config
     * blobs; they are content-addressed, so the result is reused while the name points at the same target.
     */
    private ResolvedImage resolve(ImageService svc, String name) {
        Image image = svc.get(name);
        ResolvedImage cached = resolved.get(image.name());
        if (cached != null && cached.target().equals(image.target())) {
            return cached;
        }
        ResolvedImage fresh = svc.resolve(image.name());
        if (resolved.size() >= RESOLVED_CACHE) {
            resolved.clear();
        }
        resolved.put(image.name(), fresh);
        return fresh;
    }

    /** As containerd's {@code ctr run}: unpack only when the image's top layer snapshot is missing. */
    private static boolean isUnpacked(Snapshotter sn, Digest top) {
        if (top == null) {
            return true; // no layers: nothing to unpack
        }
        try {
            sn.stat(top.toString());
            return true;
        } catch (NotFoundException e) {
            return false;
        }
    }

    /**
     * The {@code /etc/passwd} and {@code /etc/group} of the image whose top layer snapshot is
     * {@code topChain}, read through {@code mounts} (a new snapshot on it, not yet written to). Committed
     * snapshots never change, so they are read once per image and snapshotter.
     */
    private RootfsUsers.UserFiles userFiles(String snapshotter, Digest topChain, List<Mount> mounts) {
        if (topChain == null) {
            return withReadOnlyMount(mounts, RootfsUsers.UserFiles::read);
        }
        String key = snapshotter + "/" + topChain;
        RootfsUsers.UserFiles files = userFiles.get(key);
        if (files == null) {
            files = withReadOnlyMount(mounts, RootfsUsers.UserFiles::read);
            if (userFiles.size() >= RESOLVED_CACHE) {
                userFiles.clear();
            }
            userFiles.put(key, files);
        }
        return files;
    }

    /**
     * Unmounts and removes what processes that are gone left under {@code root}'s {@code tmpmounts} (a
     * process killed while it read an image's users): an overlay mount left there keeps its snapshot's
     * directories in use, and garbage collection must not delete them under it.
     */
    static void cleanLeftoverMounts(Path root) {
        Path tmpmounts = root.resolve(TMPMOUNTS);
        if (!Files.isDirectory(tmpmounts)) {
            return;
        }
        List<Path> entries;
        try (java.util.stream.Stream<Path> list = Files.list(tmpmounts)) {
            entries = list.toList();
        } catch (IOException e) {
            LOG.warn("cannot list {}: {}", tmpmounts, e.toString());
            return;
        }
        for (Path dir : entries) {
            String name = dir.getFileName().toString();
            int dash = name.indexOf('-');
            long pid;
            try {
                pid = Long.parseLong(dash > 0 ? name.substring(0, dash) : "");
            } catch (NumberFormatException e) {
                pid = -1; // named before owners were recorded: left by a process that is gone
            }
            if (pid > 0 && ProcessHandle.of(pid).isPresent()) {
                continue;
            }
            try {
                while (Mounts.unmount(dir)) {
                    LOG.info("unmounted {}, left mounted by process {}", dir, pid);
                }
            } catch (RuntimeException e) {
                LOG.warn("cannot unmount leftover {}: {}", dir, e.toString());
                continue;
            }
            removeUnlessMounted(dir);
        }
    }

    /** Removes the empty directory {@code dir}, never one something is still mounted on. */
    private static void removeUnlessMounted(Path dir) {
        if (!Mounts.mountPointsUnder(dir).isEmpty()) {
            LOG.warn("{} is still mounted; left in place", dir);
            return;
        }
        try {
            Files.deleteIfExists(dir);
        } catch (IOException e) {
            LOG.warn("cannot remove {}: {}", dir, e.toString());
        }
    }

    /**
     * Mounts {@code mounts} read-only in a scratch directory for {@code fn} (containerd reads the
     * image's {@code /etc/passwd} and {@code /etc/group} the same way).
     */
    private <T> T withReadOnlyMount(List<Mount> mounts, Function<Path, T> fn) {
        return withMount(mounts, true, fn);
    }

    /** Mounts {@code mounts} (read-only if asked) in a scratch directory for {@code fn}, then unmounts them. */
    <T> T withMount(List<Mount> mounts, boolean readOnly, Function<Path, T> fn) {
        // the owner's pid in the name: a later open removes what a dead process left mounted
        Path dir = ns.berth().root().resolve(TMPMOUNTS)
                .resolve(ProcessHandle.current().pid() + "-" + UUID.randomUUID());
        try {
            Files.createDirectories(dir, Berth.dirMode("rwx------"));
        } catch (IOException e) {
            throw new IoFailureException("cannot create " + dir, e);
        }
        List<Mount> ro = new ArrayList<>();
        for (Mount m : mounts) {
            ro.add(m.readOnly() || !readOnly ? m : m.withOption("ro"));
        }
        try (Mounted mounted = Mounts.mountAll(ro, dir)) {
            return fn.apply(mounted.target());
        } finally {
            removeUnlessMounted(dir);
        }
    }

    /**
     * The container {@code id}.
     *
     * @throws NotFoundException if it does not exist
     */
    public Container get(String id) {
        Identifiers.validate("container id", id);
        ns.berth().awaitRemoval(ns.name(), id);
        ns.metadata().containers().get(id);
        return new Container(ns, id);
    }

    /** The containers matching any of {@code filters} (all if none), by id. */
    public List<Container> list(String... filters) {
        List<Container> out = new ArrayList<>();
        ns.berth().awaitRemovals(ns.name());
        for (var c : ns.metadata().containers().list(filters)) {
            out.add(new Container(ns, c.id()));
        }
        return out;
    }

    /** The records of the containers matching any of {@code filters}, by id. */
    public List<ContainerRecord> listInfo(String... filters) {
        ns.berth().awaitRemovals(ns.name());
        return ns.metadata().containers().list(filters);
    }

    /**
     * Deletes container {@code id} and its snapshot.
     *
     * @throws NotFoundException if it does not exist
     * @throws dev.berth.api.FailedPreconditionException if it has a task
     */
    public void delete(String id) {
        get(id).delete();
    }
}

package dev.berth;

import dev.berth.api.FailedPreconditionException;
import dev.berth.api.NotFoundException;
import dev.berth.network.Attachment;
import dev.berth.network.NetworkMode;
import dev.berth.network.Networks;
import dev.berth.network.PortMapping;
import dev.berth.runtime.spec.SpecBuilder;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.Executor;
import java.util.concurrent.SynchronousQueue;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A container's network request as it is kept in its labels, and what it means for the spec and the
 * task: the spec joins the network namespace file and binds the name files; the attachment (CNI ADD)
 * is made just before the task is created and undone (CNI DEL) when the container is removed.
 */
record ContainerNetwork(NetworkMode mode, List<PortMapping> ports, List<String> aliases) {
    static final String MODE = "berth.network/mode";
    static final String PORTS = "berth.network/ports";
    static final String ALIASES = "berth.network/aliases";

    static ContainerNetwork of(ContainerConfig config) {
        return new ContainerNetwork(config.network(), config.ports(), config.aliases());
    }

    /** The request recorded in {@code labels}; mode none if there is none. */
    static ContainerNetwork fromLabels(Map<String, String> labels) {
        String mode = labels.get(MODE);
        if (mode == null) {
            return new ContainerNetwork(NetworkMode.none(), List.of(), List.of());
        }
        List<PortMapping> ports = new ArrayList<>();
        for (String p : split(labels.get(PORTS))) {
            ports.add(PortMapping.parse(p));
        }
        return new ContainerNetwork(NetworkMode.parse(mode), ports, split(labels.get(ALIASES)));
    }

    private static List<String> split(String s) {
        return s == null || s.isEmpty() ? List.of() : Arrays.asList(s.split(","));
    }

    /** The labels that record this request (none for the default, mode none). */
    Map<String, String> labels() {
        Map<String, String> out = new LinkedHashMap<>();
        if (mode instanceof NetworkMode.None) {
            return out;
        }
        out.put(MODE, mode.toString());
        if (!ports.isEmpty()) {
            out.put(PORTS, String.join(",", ports.stream().map(PortMapping::toString).toList()));
        }
        if (!aliases.isEmpty()) {
            out.put(ALIASES, String.join(",", aliases));
        }
        return out;
    }

    boolean attached() {
        return mode instanceof NetworkMode.Attached;
    }

    /**
     * Checks what can be checked before the container exists: the network (the default one is created
     * here on first use) or the container whose namespace is joined, whose request it returns (else null).
     */
    ContainerNetwork check(Namespace ns, String id) {
        if (mode instanceof NetworkMode.Attached a) {
            ns.berth().networks().get(a.name());
        } else if (mode instanceof NetworkMode.Joined j) {
            if (j.containerId().equals(id)) {
                throw new dev.berth.api.InvalidArgumentException("container " + id + " cannot join its own network namespace");
            }
            var other = ns.metadata().containers().get(j.containerId());
            ContainerNetwork theirs = fromLabels(other.labels());
            if (!theirs.attached() && !(theirs.mode() instanceof NetworkMode.Host)) {
                throw new FailedPreconditionException("container " + id + " cannot join the network namespace of "
                        + j.containerId() + ": its network mode is " + theirs.mode()
                        + " (only a container on a network, or on the host's, can be joined)");
            }
            return theirs;
        }
        return null;
    }

    /** Points the spec at the network namespace and name files; {@code joined} is what {@link #check} returned. */
    void applyTo(SpecBuilder spec, Networks networks, String namespace, String id, ContainerNetwork joined) {
        if (mode instanceof NetworkMode.Host) {
            spec.hostNetwork(true);
        } else if (mode instanceof NetworkMode.Attached) {
            bind(spec, networks, namespace, id);
        } else if (mode instanceof NetworkMode.Joined j) {
            if (joined.mode() instanceof NetworkMode.Host) {
                spec.hostNetwork(true);
            } else {
                bind(spec, networks, namespace, j.containerId());
            }
        }
    }

    private static void bind(SpecBuilder spec, Networks networks, String namespace, String owner) {
        spec.joinNamespace("network", networks.netnsPath(namespace, owner).toString());
        Path files = networks.prepareFiles(namespace, owner);
        spec.bindMount(files.resolve("hosts").toString(), "/etc/hosts", true);
        spec.bindMount(files.resolve("hostname").toString(), "/etc/hostname", true);
        spec.bindMount(files.resolve("resolv.conf").toString(), "/etc/resolv.conf", true);
    }

    /**
     * Starts the attachment a task of container {@code id} needs, unless it exists (a task created again):
     * the namespace is made here, the CNI ADD runs on a thread of its own while the caller creates the task
     * (its spec only names the namespace file). Null if there is nothing to attach; else the caller joins
     * the returned future before the task starts, and on failure waits for it and detaches.
     */
    CompletableFuture<Attachment> beginForTask(Namespace ns, String id) {
        Networks networks = ns.berth().networks();
        if (mode instanceof NetworkMode.Attached a) {
            if (networks.attachment(ns.name(), id).isPresent()) {
                return null;
            }
            Networks.Attaching attaching = networks.begin(new Networks.AttachRequest(ns.name(), id, a.name(), ports,
                    aliases));
            if (Boolean.getBoolean(SERIAL_PROPERTY)) {
                return CompletableFuture.completedFuture(attaching.finish());
            }
            return CompletableFuture.supplyAsync(attaching::finish, CNI_THREADS);
        }
        if (mode instanceof NetworkMode.Joined j) {
            ContainerNetwork theirs;
            try {
                theirs = fromLabels(ns.metadata().containers().get(j.containerId()).labels());
            } catch (NotFoundException e) {
                throw new FailedPreconditionException("container " + id + " joins the network namespace of container "
                        + j.containerId() + ", which no longer exists");
            }
            if (theirs.attached() && networks.attachment(ns.name(), j.containerId()).isEmpty()) {
                throw new FailedPreconditionException("container " + id + " joins the network namespace of container "
                        + j.containerId() + ", which has none yet: start that container's task first");
            }
        }
        return null;
    }

    /**
     * Diagnostic switch for the benchmark's A/B rows: with {@code -Dberth.network.serialAttach=true} the
     * CNI ADD runs before the task is created and DEL after it is deleted, as before they overlapped.
     */
    static final String SERIAL_PROPERTY = "berth.network.serialAttach";

    /**
     * Where ADD and DEL run beside the task's creation and deletion: threads of their own, not the root's
     * executor, which a caller may have bounded and be running on (the join would then wait for itself).
     * Daemon threads, ended after a minute unused.
     */
    static final Executor CNI_THREADS = new ThreadPoolExecutor(0,
            Integer.MAX_VALUE, 60, TimeUnit.SECONDS, new SynchronousQueue<>(),
            new ThreadFactory() {
                private final AtomicInteger n = new AtomicInteger();

                @Override
                public Thread newThread(Runnable r) {
                    Thread t = new Thread(r, "berth-cni-" + n.incrementAndGet());
                    t.setDaemon(true);
                    return t;
                }
            });

    /** The future's value, its failure rethrown as it was thrown (not wrapped). */
    static <T> T join(CompletableFuture<T> f) {
        try {
            return f.join();
        } catch (CompletionException e) {
            if (e.getCause() instanceof RuntimeException r) {
                throw r;
            }
            if (e.getCause() instanceof Error err) {
                throw err;
            }
            throw e;
        }
    }

    /** Waits for {@code f} to settle, whatever its outcome. */
    static void settle(CompletableFuture<?> f) {
        if (f != null) {
            f.handle((v, e) -> null).join();
        }
    }

    /**
     * Starts undoing the attachment of a container whose task has exited and that is being removed, on a
     * thread of its own, so that CNI DEL runs while the task is deleted; null if it has no attachment to undo
     * (or the serial switch is on). The caller settles it before the container's records go.
     */
    static CompletableFuture<Void> detachEarly(Namespace ns, String id, Map<String, String> labels) {
        if (!labels.containsKey(MODE) || !fromLabels(labels).attached() || Boolean.getBoolean(SERIAL_PROPERTY)) {
            return null;
        }
        Networks networks = ns.berth().networks();
        return CompletableFuture.runAsync(() -> networks.detach(ns.name(), id), CNI_THREADS);
    }

    /**
     * Whether a run with rm leaves its CNI DEL to run after it returned ({@link Networks#detachInBackground}):
     * on unless {@code -Dberth.network.syncDetach=true} (the benchmark's A/B row) or the serial switch is on.
     */
    static boolean detachAfterReturn() {
        return !Boolean.getBoolean(SYNC_DETACH_PROPERTY) && !Boolean.getBoolean(SERIAL_PROPERTY);
    }

    static final String SYNC_DETACH_PROPERTY = "berth.network.syncDetach";

    /**
     * Starts the CNI DEL of an exited container run with rm, which its caller does not wait for; false if it
     * has no attachment (nothing started).
     */
    static boolean detachAfterReturn(Namespace ns, String id, Map<String, String> labels) {
        if (!labels.containsKey(MODE) || !fromLabels(labels).attached()) {
            return false;
        }
        ns.berth().networks().detachInBackground(ns.name(), id);
        return true;
    }

    /** Undoes the container's attachment, if it has one; may be repeated. */
    static void detach(Namespace ns, String id, Map<String, String> labels) {
        if (labels.containsKey(MODE) && fromLabels(labels).attached()) {
            ns.berth().networks().detach(ns.name(), id);
        }
    }

    static java.util.Optional<Attachment> attachment(Namespace ns, String id) {
        return ns.berth().networks().attachment(ns.name(), id);
    }
}

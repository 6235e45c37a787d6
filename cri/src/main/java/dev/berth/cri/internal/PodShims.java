package dev.berth.cri.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.Predicate;

/**
 * Which runc shim serves which pods when one shim may serve up to {@code podsPerShim} of them: each shim is
 * a shim group (the runc shim's {@code io.containerd.runc.v2.group}) that a pod's sandbox and containers
 * name. A new pod joins the oldest group that has room and whose shim is known to live; else it starts a
 * group (and with it a shim) of its own, named after it, or after the warm shim it takes ({@link WarmShims}). A pod leaves its group when it starts stopping; a
 * group left by its last pod is never joined again, so a shim about to exit with its last task is never
 * handed a new one, and a group's name (its shim's socket) is never reused. With {@code podsPerShim} 1
 * there are no groups: each pod's tasks run in the shim of its sandbox id, as containerd's CRI has them.
 * Thread-safe.
 */
final class PodShims {
    /** The runc shim's grouping annotation (it looks for it before {@code io.kubernetes.cri.sandbox-id}). */
    static final String GROUP = "io.containerd.runc.v2.group";
    static final String PREFIX = "berth-pods-";

    private final int podsPerShim;
    /** Group to its pods that have not started stopping, in the order the groups were made. */
    private final Map<String, Set<String>> groups = new LinkedHashMap<>();
    /** Group to the task creates running in its shim now (the runc shim makes one container at a time). */
    private final Map<String, Integer> creating = new java.util.HashMap<>();
    /**
     * Off ({@code -Dberth.cri.joinBusyShims=true}): a pod joins the oldest shim with room even while that
     * shim creates another task, and waits for it.
     */
    static final boolean JOIN_BUSY = Boolean.getBoolean("berth.cri.joinBusyShims");
    /**
     * How many creates a shim may have running (queued behind each other) when a new pod joins it
     * ({@code -Dberth.cri.createsPerShim}, default 2): a burst of pods then starts half as many shims (each a
     * shim {@code start} process, a Go runtime starting up and its own exit) while no pod waits behind more
     * than one other create. 1 is the rule before it (a pod never joins a shim that is creating).
     */
    static final int CREATES_PER_SHIM = Integer.getInteger("berth.cri.createsPerShim", 2);

    private final int createsPerShim;
    private final WarmShims warm;
    /** Groups named after a warm shim (from {@link WarmShims#take}), told {@link WarmShims#ended} when they end. */
    private final Set<String> warmGroups = new java.util.HashSet<>();

    /**
     * Where a new group's shim can come from: a shim the runtime launched ahead of need (its spare), handed
     * over as the group's, so the group's first task finds it running instead of starting one (every pod in
     * a row starts a group: its predecessor's was left). Off ({@code -Dberth.cri.warmShim=false}): each new
     * group's first task starts its shim.
     */
    interface WarmShims {
        WarmShims NONE = new WarmShims() {
            @Override
            public Optional<String> take() {
                return Optional.empty();
            }

            @Override
            public void ended(String group) {
            }
        };

        /** A running shim's group name for a new group (the next one is launched meanwhile), or empty. */
        Optional<String> take();

        /** A group from {@link #take} takes no new pods: its shim may stop once it serves no task. */
        void ended(String group);

        /** Launches the next warm shim unless one is ready or on its way; returns at once. */
        default void prepare() {
        }
    }

    /** Has the next warm shim launched (after a pod's sandbox runs); returns at once. */
    void prepareNext() {
        warm.prepare();
    }

    static final boolean WARM_SHIM = Boolean.parseBoolean(System.getProperty("berth.cri.warmShim", "true"));

    PodShims(int podsPerShim) {
        this(podsPerShim, CREATES_PER_SHIM);
    }

    PodShims(int podsPerShim, int createsPerShim) {
        this(podsPerShim, createsPerShim, WarmShims.NONE);
    }

    PodShims(int podsPerShim, int createsPerShim, WarmShims warm) {
        if (podsPerShim < 1) {
            throw new IllegalArgumentException("pods per shim must be at least 1: " + podsPerShim);
        }
        if (createsPerShim < 1) {
            throw new IllegalArgumentException("creates per shim must be at least 1: " + createsPerShim);
        }
        this.podsPerShim = podsPerShim;
        this.createsPerShim = createsPerShim;
        this.warm = warm;
    }

    int podsPerShim() {
        return podsPerShim;
    }

    /**
     * The group pod {@code podId} runs in: one with room none of whose pods {@code shimLost} (its sandbox's
     * pause process is gone while the pod was not stopped: the shim died) and whose shim has fewer than
     * {@code createsPerShim} task creates running now (the runc shim creates one container at a time: a pod
     * joining a busy shim waits for the others' creates, a burst of pods would queue in one shim), else a
     * new one. Empty when every pod has its
     * own shim. The pod's sandbox counts as a create in the group's shim until {@link #created} (so pods
     * arriving together go to different shims).
     */
    synchronized Optional<String> assign(String podId, Predicate<String> shimLost) {
        if (podsPerShim == 1) {
            return Optional.empty();
        }
        for (Map.Entry<String, Set<String>> g : groups.entrySet()) {
            Set<String> members = g.getValue();
            if (members.size() < podsPerShim && (JOIN_BUSY || creating.getOrDefault(g.getKey(), 0) < createsPerShim)
                    && members.stream().noneMatch(shimLost)) {
                members.add(podId);
                creating.merge(g.getKey(), 1, Integer::sum);
                return Optional.of(g.getKey());
            }
        }
        Optional<String> warmGroup = warm.take();
        String group = warmGroup.orElse(PREFIX + podId);
        warmGroup.ifPresent(warmGroups::add);
        Set<String> members = new LinkedHashSet<>();
        members.add(podId);
        groups.put(group, members);
        creating.merge(group, 1, Integer::sum);
        return Optional.of(group);
    }

    /** The create of a pod's sandbox that {@link #assign} counted has ended (also when it failed); null: nothing. */
    synchronized void created(String group) {
        if (group != null) {
            creating.computeIfPresent(group, (g, n) -> n == 1 ? null : n - 1);
        }
    }

    /** Marks a task create in {@code group}'s shim until the returned handle is closed; null group: nothing. */
    Busy creating(String group) {
        if (group == null) {
            return () -> { };
        }
        synchronized (this) {
            creating.merge(group, 1, Integer::sum);
        }
        return () -> created(group);
    }

    /** A create in a shim, until closed. */
    interface Busy extends AutoCloseable {
        @Override
        void close();
    }

    /** A pod an earlier server put in {@code group}, still running. */
    synchronized void recovered(String group, String podId) {
        groups.computeIfAbsent(group, g -> new LinkedHashSet<>()).add(podId);
    }

    /** Pod {@code podId} leaves {@code group} (it is stopping, or failed to start); repeatable. */
    synchronized void leave(String group, String podId) {
        if (group == null) {
            return;
        }
        Set<String> members = groups.get(group);
        if (members != null && members.remove(podId) && members.isEmpty()) {
            groups.remove(group);
            if (warmGroups.remove(group)) {
                warm.ended(group); // returns at once
            }
        }
    }

    /** The groups and their running pods, oldest first (for tests and status). */
    synchronized Map<String, List<String>> snapshot() {
        Map<String, List<String>> out = new LinkedHashMap<>();
        groups.forEach((g, m) -> out.put(g, new ArrayList<>(m)));
        return out;
    }
}

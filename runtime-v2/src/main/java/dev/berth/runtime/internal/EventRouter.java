package dev.berth.runtime.internal;

import com.google.protobuf.ByteString;
import dev.berth.api.event.Envelope;
import dev.berth.api.event.Event;
import dev.berth.api.event.Events;
import dev.berth.api.event.TaskEvent;
import dev.berth.api.task.ExitStatus;
import dev.berth.runtime.internal.proto.eventsvc.ForwardRequest;
import java.nio.channels.ClosedByInterruptException;
import java.nio.channels.FileLockInterruptionException;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ConcurrentMap;
import java.util.concurrent.RejectedExecutionException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Where the shims' events arrive ({@code Forward} on the events socket): exits and OOMs go to their task,
 * everything is forwarded to the runtime's {@link Events}; and where the runtime publishes what containerd
 * itself would (exits and deletes of tasks whose shim is gone).
 */
final class EventRouter {
    private static final Logger log = LoggerFactory.getLogger(EventRouter.class);
    private final Optional<Events> events;
    private final TaskTable tasks;
    private final ExitClaims exitClaims;
    /**
     * The last envelopes forwarded, byte for byte. A shim whose Forward call timed out (a loaded machine)
     * sends the same envelope again, timestamp included, though the first one may have been handled: a
     * copy is dropped rather than announced twice.
     */
    private final Set<ByteString> recentlyForwarded = Collections.newSetFromMap(Collections.synchronizedMap(
            new LinkedHashMap<>(256, 0.75f, false) {
                @Override
                protected boolean removeEldestEntry(Map.Entry<ByteString, Boolean> eldest) {
                    return size() > RECENT_ENVELOPES;
                }
            }));
    private static final int RECENT_ENVELOPES = 4096;

    /** Tasks being deleted, until their shim's {@code /tasks/delete} event has been published. */
    private final ConcurrentMap<String, CompletableFuture<Void>> deleteEvents = new ConcurrentHashMap<>();

    /**
     * {@code /tasks/delete} as any publisher delivers it: when another runtime serves the events socket, the
     * shim's event reaches this process through the events (the shared journal), not through {@link #forward}.
     */
    private final Optional<dev.berth.api.event.Subscription> deletes;

    private final OrderedDispatch inOrder;

    EventRouter(Optional<Events> events, TaskTable tasks, ExitClaims exitClaims, java.util.concurrent.Executor executor) {
        this.events = events;
        this.inOrder = new OrderedDispatch(executor);
        this.tasks = tasks;
        this.exitClaims = exitClaims;
        this.deletes = events.map(ev -> ev.subscribe(envelope -> {
            if (envelope.event() instanceof TaskEvent.Delete d) {
                deleteSeen(envelope.namespace(), d.containerId());
            }
        }, "topic==\"/tasks/delete\""));
    }

    private void deleteSeen(String namespace, String containerId) {
        CompletableFuture<Void> waiting = deleteEvents.get(TaskTable.key(namespace, containerId));
        if (waiting != null) {
            waiting.complete(null);
        }
    }

    void close() {
        deletes.ifPresent(dev.berth.api.event.Subscription::close);
    }

    /**
     * Handles a shim's event in arrival order per container (other containers' events do not wait for it);
     * completes once handled. A shim sends its next event only after the reply to this one, and it resends
     * one whose reply took longer than its 5 s deadline, behind the events that followed it: the reply
     * must not wait for slow handling (a journal lock held by a loaded peer), or the order is lost.
     */
    CompletableFuture<Void> forward(ForwardRequest request) {
        ByteString key = request.getEnvelope().toByteString();
        if (!recentlyForwarded.add(key)) {
            log.debug("a shim sent the same {} event twice (a retried publish); the copy was dropped",
                    request.getEnvelope().getTopic());
            return CompletableFuture.completedFuture(null);
        }
        Envelope envelope;
        try {
            envelope = ShimEventDecoder.decode(request.getEnvelope());
        } catch (RuntimeException e) {
            recentlyForwarded.remove(key);
            throw e;
        }
        CompletableFuture<Void> handled = inOrder.submit(orderKey(envelope), () -> route(envelope));
        handled.whenComplete((v, e) -> {
            if (e != null) {
                recentlyForwarded.remove(key); // the shim's retry, if the reply carries the error, gets its turn
                if (causedByShutdown(e)) {
                    log.debug("the {} event of a shim came in as this process closed; the shim retries it",
                            envelope.topic());
                } else {
                    log.warn("cannot handle the {} event of a shim: {}", envelope.topic(), e.toString());
                }
            }
        });
        return handled;
    }

    /** Whether handling failed only because this process is shutting down (its threads interrupted or stopped). */
    static boolean causedByShutdown(Throwable e) {
        for (Throwable t = e; t != null && t.getCause() != t; t = t.getCause()) {
            if (t instanceof RejectedExecutionException || t instanceof InterruptedException
                    || t instanceof ClosedByInterruptException || t instanceof FileLockInterruptionException) {
                return true;
            }
        }
        return false;
    }

    private static String orderKey(Envelope envelope) {
        return envelope.event() instanceof TaskEvent t
                ? TaskTable.key(envelope.namespace(), t.containerId()) : envelope.namespace();
    }

    private void route(Envelope envelope) {
        if (envelope.event() instanceof TaskEvent.Exit e) {
            boolean init = e.id().equals(e.containerId());
            var task = tasks.get(envelope.namespace(), e.containerId());
            if (task.isPresent()) {
                // anyone with access to the socket could send an exit: the shim's own State confirms it
                Optional<ExitStatus> confirmed = task.get().confirmedExit(init ? "" : e.id());
                if (confirmed.isEmpty()) {
                    // the shim may have forgotten the process already (the task or exec was deleted right
                    // after Wait reported the exit, before this event arrived): what Wait reported confirms it
                    confirmed = init ? task.get().reportedExit() : task.get().reportedExit(e.id());
                }
                if (confirmed.isEmpty() && (init || task.get().execs.containsKey(e.id()))) {
                    return; // not announced either; the Wait RPC reports the real exit
                }
                // an exec already deleted here (its caller waited and deleted it before the shim's event
                // arrived) has nothing left to confirm against or update: the event is only announced
                if (init) {
                    task.get().processExited(confirmed.get());
                } else {
                    confirmed.ifPresent(status -> task.get().execExited(e.id(), status));
                }
            }
            if (init && !exitClaims.claim(envelope.namespace(), e.containerId())) {
                return; // a runtime that reconnected to the task after the exit published it already
            }
        } else if (envelope.event() instanceof TaskEvent.Oom oom) {
            tasks.get(envelope.namespace(), oom.containerId()).ifPresent(ShimTask::oomed);
        }
        events.ifPresent(ev -> ev.forward(envelope));
        if (envelope.event() instanceof TaskEvent.Delete d) {
            deleteSeen(envelope.namespace(), d.containerId());
        }
    }

    /**
     * Completes once the shim's {@code /tasks/delete} event for the task has been published; call before
     * the Delete request, then {@link #deleteEventDone}. The shim sends that event beside its reply, so
     * without waiting, what the caller does next (deleting the container) could be announced first.
     */
    CompletableFuture<Void> expectDeleteEvent(String namespace, String id) {
        return deleteEvents.computeIfAbsent(TaskTable.key(namespace, id), k -> new CompletableFuture<>());
    }

    /**
     * Whether a {@code /tasks/delete} the shim sends to another process's events socket reaches this one
     * (through the shared journal); when it does not, only this runtime's own socket announces it.
     */
    boolean seesDeletesFromAnyProcess() {
        return deletes.isPresent();
    }

    void deleteEventDone(String namespace, String id) {
        deleteEvents.remove(TaskTable.key(namespace, id));
    }

    /**
     * Publishes the exit of task {@code id}'s init process unless another path (the shim's own event, or
     * another runtime) already did: exactly once across every runtime on the state directory.
     */
    void publishExit(String namespace, String id, int pid, ExitStatus status) {
        if (exitClaims.claim(namespace, id)) {
            publish(namespace, new TaskEvent.Exit(id, id, pid, status.code(), status.exitedAt()));
        }
    }

    void publish(String namespace, Event event) {
        events.ifPresent(ev -> {
            try {
                ev.publish(namespace, event);
            } catch (RuntimeException e) {
                log.warn("cannot publish {} in {}: {}", event.topic(), namespace, e.toString());
            }
        });
    }
}

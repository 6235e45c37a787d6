package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import dev.berth.api.task.Task;
import dev.berth.api.task.TaskRuntime;

import dev.berth.api.event.Envelope;
import dev.berth.api.event.Subscription;
import dev.berth.events.EventExchange;
import dev.berth.runtime.testing.BusyboxRootfs;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * A real task runtime per test on a fresh state directory, recording the {@code /tasks/} events, with a
 * busybox root file system per class; afterwards no task, shim, mount or runc state may be left.
 */
abstract class LiveRuntimeTest {
    @TempDir
    static Path shared;
    static Path rootfs;

    @TempDir
    Path state;

    final String namespace;
    private final String idPrefix;
    EventExchange events;
    final List<Envelope> taskEvents = new CopyOnWriteArrayList<>();
    Subscription subscription;
    TaskRuntime runtime;
    final List<String> ids = new ArrayList<>();

    LiveRuntimeTest(String namespace, String idPrefix) {
        this.namespace = namespace;
        this.idPrefix = idPrefix;
    }

    @BeforeAll
    static void buildRootfs() throws Exception {
        rootfs = BusyboxRootfs.populate(Files.createDirectories(shared.resolve("rootfs")));
    }

    @BeforeEach
    void startRuntime() {
        events = EventExchange.create();
        subscription = events.subscribe(taskEvents::add, "topic~=\"^/tasks/\"");
        runtime = TaskRuntimes.builder().stateDir(state).events(events).build();
    }

    @AfterEach
    void noLeftovers() throws Exception {
        try {
            for (Task t : runtime.tasks()) {
                t.delete(true);
            }
            for (String id : ids) {
                Leftovers.assertNone(state, namespace, id);
            }
            Path runcNs = state.resolve("runc").resolve(namespace);
            if (Files.exists(runcNs)) {
                try (var entries = Files.list(runcNs)) {
                    assertThat(entries).as("runc state under " + runcNs).isEmpty();
                }
            }
        } finally {
            runtime.close();
            events.close();
        }
        assertThat(state.resolve("events.sock")).doesNotExist();
    }

    /** A fresh task id, checked for leftovers after the test. */
    String newId() {
        String id = idPrefix + UUID.randomUUID().toString().substring(0, 8);
        ids.add(id);
        return id;
    }
}

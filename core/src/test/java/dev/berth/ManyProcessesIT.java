package dev.berth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.event.ContainerEvent;
import dev.berth.api.event.Envelope;
import dev.berth.api.event.TaskEvent;
import dev.berth.testing.ChildJvm;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;

import static org.awaitility.Awaitility.await;

/**
 * Several JVMs on one root and state directory at once, each running containers, while this one follows
 * the events: every container's lifecycle reaches every follower once and in order, and nothing is left.
 */
class ManyProcessesIT {
    private static final int PROCESSES = 4;
    private static final int CONTAINERS_EACH = 25;
    private static final List<String> LIFECYCLE = List.of("/containers/create", "/tasks/create", "/tasks/start",
            "/tasks/exit", "/tasks/delete", "/containers/delete");

    @Test
    void everyContainerLifecycleReachesEveryFollowerOnceAndInOrder() throws Exception {
        String ns = "many-" + UUID.randomUUID().toString().substring(0, 6);
        try (TestRoots dirs = new TestRoots(); Berth berth = dirs.open()) {
            berth.namespace(ns).importImage(TestRoots.busyboxArchive());
            berth.namespace(ns).tasks().list(); // this runtime serves the events socket, as `berth events` does
            Instant start = Instant.now();
            List<Envelope> live = new CopyOnWriteArrayList<>();
            berth.events().subscribe(live::add, "namespace==" + ns);

            List<ChildJvm> children = new ArrayList<>();
            try {
                for (int p = 0; p < PROCESSES; p++) {
                    children.add(ChildJvm.start(RunManyInChild.class, List.of("-XX:TieredStopAtLevel=1",
                            "-XX:+UseSerialGC", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"),
                            dirs.root.toString(), dirs.state.toString(), ns, "p" + p, Integer.toString(CONTAINERS_EACH)));
                }
                for (ChildJvm child : children) {
                    assertThat(child.awaitLine("DONE", Duration.ofSeconds(180))).as("child output " + child.output())
                            .isNotNull();
                    assertThat(child.waitForExit(Duration.ofSeconds(30))).isZero();
                }
            } finally {
                children.forEach(ChildJvm::close);
            }

            int total = PROCESSES * CONTAINERS_EACH;
            await().atMost(Duration.ofSeconds(30)).until(() -> lifecycles(live).values().stream()
                    .filter(l -> l.size() >= LIFECYCLE.size()).count() >= total);
            List<Envelope> replayed = new CopyOnWriteArrayList<>();
            try (var f = berth.eventJournal().follow(Optional.of(start), null, replayed::add)) {
                await().atMost(Duration.ofSeconds(30)).until(() -> lifecycles(replayed).values().stream()
                        .filter(l -> l.size() >= LIFECYCLE.size()).count() >= total);
            }
            for (List<Envelope> seen : List.of(live, replayed)) {
                Map<String, List<String>> byContainer = lifecycles(seen);
                assertThat(byContainer).hasSize(total);
                byContainer.forEach((id, topics) ->
                        assertThat(topics).as("events of " + id).containsExactlyElementsOf(LIFECYCLE));
            }

            assertThat(berth.namespace(ns).containers().list()).isEmpty();
            Path tasks = dirs.state.resolve("tasks").resolve(ns);
            if (Files.isDirectory(tasks)) {
                try (Stream<Path> left = Files.list(tasks)) {
                    assertThat(left.toList()).as("bundles left").isEmpty();
                }
            }
            assertThat(ProcessHandle.allProcesses().filter(h -> h.info().commandLine().orElse("")
                    .contains("containerd-shim") && h.info().commandLine().orElse("").contains(" " + ns + " ")).toList())
                    .as("shims left").isEmpty();
        }
    }

    /** The lifecycle topics per container, in delivery order (exec and snapshot events aside). */
    private static Map<String, List<String>> lifecycles(List<Envelope> envelopes) {
        return envelopes.stream().filter(e -> LIFECYCLE.contains(e.topic()))
                .collect(Collectors.groupingBy(ManyProcessesIT::containerOf, java.util.LinkedHashMap::new,
                        Collectors.mapping(Envelope::topic, Collectors.toList())));
    }

    private static String containerOf(Envelope e) {
        if (e.event() instanceof ContainerEvent c) {
            return c.id();
        }
        return ((TaskEvent) e.event()).containerId();
    }
}

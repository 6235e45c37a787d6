package dev.berth;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.task.Task;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** {@link Tasks#prepareShim()}: the spare shim launched before a namespace's first task, which then takes it. */
class PreparedShimIT {
    private static final Duration AWAIT = Duration.ofSeconds(30);

    /** Serving shims of namespace {@code ns} (not a launcher's {@code start} action on its way out). */
    private static List<Long> shimsOf(String ns) {
        return ProcessHandle.allProcesses().map(p -> {
            try {
                String argv = Files.readString(Path.of("/proc/" + p.pid() + "/cmdline"), StandardCharsets.ISO_8859_1);
                boolean serving = argv.contains("containerd-shim") && argv.contains("\0-namespace\0" + ns + "\0")
                        && !argv.endsWith("\0start\0");
                return serving ? p.pid() : null;
            } catch (java.io.IOException | RuntimeException gone) {
                return null;
            }
        }).filter(java.util.Objects::nonNull).toList();
    }

    @Test
    void theFirstTaskOfTheNamespaceTakesTheShimPreparedForIt() throws Exception {
        String ns = "prep-" + UUID.randomUUID().toString().substring(0, 8);
        try (TestRoots dirs = new TestRoots()) {
            try (Berth berth = dirs.open()) {
                Namespace n = berth.namespace(ns);
                n.importImage(TestRoots.busyboxArchive());

                assertThat(n.tasks().prepareShim()).as("spare shims are on by default").isTrue();
                Awaitility.await("the prepared shim running").atMost(AWAIT).until(() -> shimsOf(ns).size() == 1);
                List<Long> prepared = shimsOf(ns);

                n.run(TestRoots.BUSYBOX, RunOptions.builder().id("first").args("sleep", "600").build());

                assertThat(shimsOf(ns)).as("the first task runs in the prepared shim; none was started for it")
                        .isEqualTo(prepared);
                Task t = n.tasks().require("first");
                assertThat(t.delete(true).code()).isEqualTo(137);
                n.containers().get("first").delete();
                Awaitility.await("the used shim stops with its task").atMost(AWAIT)
                        .until(() -> !ProcessHandle.of(prepared.get(0)).map(ProcessHandle::isAlive).orElse(false));
            }
            Awaitility.await("no shim of the namespace after close").atMost(AWAIT).until(() -> shimsOf(ns).isEmpty());
        }
    }

    @Test
    void withSpareShimsOffNothingIsPrepared() throws Exception {
        String ns = "prep-" + UUID.randomUUID().toString().substring(0, 8);
        try (TestRoots dirs = new TestRoots(); Berth berth = dirs.builder().spareShim(false).build()) {
            assertThat(berth.namespace(ns).tasks().prepareShim()).isFalse();
            assertThat(shimsOf(ns)).isEmpty();
        }
    }
}

package dev.berth.snapshot;

import dev.berth.testing.ChildJvm;
import java.time.Duration;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.snapshot.Kind;
import dev.berth.api.snapshot.SnapshotInfo;
import dev.berth.api.snapshot.Snapshotter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

/** Two JVMs share one snapshotter root and race for the same committed names. */
class MultiProcessIT extends MountingTestBase {
    private static final int ROUNDS = 25;

    @Test
    void twoProcessesPreparingAndCommittingConcurrentlyStayConsistent() throws Exception {
        Path root = tmp.resolve("root");
        Path go = tmp.resolve("go");
        try (Snapshotter s = Snapshotters.overlay(root)) {
            s.prepare("b", null);
            s.commit("base", "b");
        }

        try (ChildJvm one = SnapshotterWorker.launch(null, "overlay", root, "race", "one", "" + ROUNDS, "base", go.toString());
             ChildJvm two = SnapshotterWorker.launch(null, "overlay", root, "race", "two", "" + ROUNDS, "base", go.toString())) {
            one.awaitLine("ready", Duration.ofSeconds(60));
            two.awaitLine("ready", Duration.ofSeconds(60));
            Files.createFile(go);
            assertThat(one.waitForExit(Duration.ofSeconds(120))).as("worker one: " + one.output()).isZero();
            assertThat(two.waitForExit(Duration.ofSeconds(120))).as("worker two: " + two.output()).isZero();

            List<String> outcomes = new ArrayList<>(one.output());
            outcomes.addAll(two.output());
            for (int i = 0; i < ROUNDS; i++) {
                assertThat(outcomes).as("round " + i).containsOnlyOnce("won " + i).containsOnlyOnce("lost " + i);
            }
        }

        try (Snapshotter s = Snapshotters.overlay(root)) {
            assertThat(s.list("kind==committed")).hasSize(ROUNDS + 1);
            List<SnapshotInfo> active = s.list("kind==active");
            assertThat(active).hasSize(2 * ROUNDS)
                    .allSatisfy(i -> assertThat(i.name()).matches("(one|two)-own-\\d+"));
            for (int i = 0; i < ROUNDS; i++) {
                SnapshotInfo shared = s.stat("shared-" + i);
                assertThat(shared.kind()).isEqualTo(Kind.COMMITTED);
                assertThat(shared.parent()).isEqualTo("base");
            }
            RootInspector.assertEveryRecordHasItsDirectory(root);
            s.cleanup();
            RootInspector.assertNoLeftovers(root);
            withMounted(s.mounts("one-own-0"), d -> assertThat(Files.list(d).count()).isEqualTo(1));
        }
    }
}

package dev.berth.snapshot;

import dev.berth.testing.ChildJvm;
import java.time.Duration;
import static dev.berth.snapshot.RootInspector.assertEveryRecordHasItsDirectory;
import static dev.berth.snapshot.RootInspector.assertNoLeftovers;
import static dev.berth.snapshot.RootInspector.entries;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.NotFoundException;
import dev.berth.api.snapshot.Kind;
import dev.berth.api.snapshot.Snapshotter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * Kills a snapshotter's JVM at each point of its two-step operations (a halt as abrupt as SIGKILL)
 * and at random moments, then proves that a reopened snapshotter shows no half-made snapshot and
 * that cleanup reclaims everything left on disk.
 */
class CrashRecoveryIT extends MountingTestBase {
    private static final int HALTED = 137;
    Path root;

    @BeforeEach
    void base() throws Exception {
        root = tmp.resolve("root");
    }

    private Snapshotter open(String type) {
        return type.equals("native") ? Snapshotters.nativeSnapshotter(root) : Snapshotters.overlay(root);
    }

    private void commitBase(String type) throws Exception {
        try (Snapshotter s = open(type)) {
            Files.writeString(SnapshotterContract.layerDir(s.prepare("b", null)).resolve("base-file"), "base");
            s.commit("base", "b");
        }
    }

    private void runUntilHalt(String crashAt, String type, String... command) throws Exception {
        try (ChildJvm child = SnapshotterWorker.launch(crashAt, type, root, command)) {
            assertThat(child.waitForExit(Duration.ofSeconds(60))).as("exit of child halted at " + crashAt + ": " + child.output())
                    .isEqualTo(HALTED);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"overlay", "native"})
    void killedBeforeTheCreateCommittedLeavesNoSnapshotAndAReclaimableDirectory(String type) throws Exception {
        commitBase(type);

        runUntilHalt("create.beforeCommit", type, "prepare", "victim", "base");

        assertThat(entries(root)).anyMatch(e -> e.startsWith("new-"));
        try (Snapshotter s = open(type)) {
            assertThatThrownBy(() -> s.stat("victim")).isInstanceOf(NotFoundException.class);
            assertThat(s.list()).extracting(i -> i.name()).containsExactly("base");
            s.cleanup();
            assertNoLeftovers(root);
            withMounted(s.prepare("victim", "base"), d -> assertThat(d.resolve("base-file")).hasContent("base"));
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"overlay", "native"})
    void killedAfterTheCreateCommittedFinishesTheRenameOnReopen(String type) throws Exception {
        commitBase(type);

        runUntilHalt("create.afterCommit", type, "prepare", "victim", "base");

        assertThat(entries(root)).anyMatch(e -> e.startsWith("new-"));
        try (Snapshotter s = open(type)) {
            assertThat(entries(root)).noneMatch(e -> e.startsWith("new-"));
            assertEveryRecordHasItsDirectory(root);
            assertThat(s.stat("victim").kind()).isEqualTo(Kind.ACTIVE);
            withMounted(s.mounts("victim"), d -> {
                assertThat(d.resolve("base-file")).hasContent("base");
                Files.writeString(d.resolve("more"), "m");
            });
            s.commit("survivor", "victim");
            s.cleanup();
            assertNoLeftovers(root);
        }
    }

    @Test
    void killedInsideCommitLeavesTheSnapshotActive() throws Exception {
        commitBase("overlay");
        try (Snapshotter s = open("overlay")) {
            s.prepare("victim", "base");
        }

        runUntilHalt("commit.beforeCommit", "overlay", "commit", "done", "victim");

        try (Snapshotter s = open("overlay")) {
            assertThat(s.stat("victim").kind()).isEqualTo(Kind.ACTIVE);
            assertThatThrownBy(() -> s.stat("done")).isInstanceOf(NotFoundException.class);
            s.commit("done", "victim");
            assertThat(s.stat("done").kind()).isEqualTo(Kind.COMMITTED);
            s.cleanup();
            assertNoLeftovers(root);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"remove.afterCommit", "remove.afterRename"})
    void killedDuringRemoveLeavesOnlyGarbageForCleanup(String crashAt) throws Exception {
        commitBase("overlay");
        try (Snapshotter s = open("overlay")) {
            Files.writeString(SnapshotterContract.layerDir(s.prepare("victim", null)).resolve("data"), "d");
        }
        List<String> before = entries(root);

        runUntilHalt(crashAt, "overlay", "remove", "victim");

        assertThat(entries(root)).hasSameSizeAs(before);
        try (Snapshotter s = open("overlay")) {
            assertThatThrownBy(() -> s.stat("victim")).isInstanceOf(NotFoundException.class);
            assertThat(s.list()).hasSize(1);
            s.cleanup();
            assertNoLeftovers(root);
            assertThat(entries(root)).hasSize(1);
        }
    }

    @Test
    void sigkillAtRandomMomentsNeverLeavesAnOrphanVisible() throws Exception {
        commitBase("overlay");
        Random random = new Random();
        for (int round = 0; round < 3; round++) {
            try (ChildJvm child = SnapshotterWorker.launch(null, "overlay", root, "churn", "base")) {
                child.awaitLine("iter 2", Duration.ofSeconds(60));
                Thread.sleep(random.nextInt(150));
                child.kill();
            }
            try (Snapshotter s = open("overlay")) {
                assertEveryRecordHasItsDirectory(root);
                // A kill between the worker's view() and remove() legitimately leaves a view behind: it is
                // a complete record with its directory (checked above), so it is removed like an active one.
                for (var info : s.list("kind==view", "kind==active")) {
                    s.remove(info.name());
                }
                s.cleanup();
                assertNoLeftovers(root);
                String top = s.list("kind==committed").stream().map(i -> i.name()).reduce((a, b) -> b).orElseThrow();
                withMounted(s.view("check-" + round, top), d -> assertThat(d.resolve("base-file")).hasContent("base"));
                s.remove("check-" + round);
            }
            // The next round's churn starts its keys at 0 again: clear everything but the base.
            try (Snapshotter s = open("overlay")) {
                removeAllBut(s, "base");
            }
        }
    }

    private static void removeAllBut(Snapshotter s, String keep) {
        boolean removed;
        do {
            removed = false;
            for (var info : s.list()) {
                if (!info.name().equals(keep)) {
                    try {
                        s.remove(info.name());
                        removed = true;
                    } catch (dev.berth.api.FailedPreconditionException hasChildren) {
                        // Removed once its children are gone.
                    }
                }
            }
        } while (removed);
    }
}

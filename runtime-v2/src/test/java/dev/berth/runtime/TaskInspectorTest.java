package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import dev.berth.api.task.TaskSnapshot;
import dev.berth.api.task.TaskStatus;

import dev.berth.api.FailedPreconditionException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.NotFoundException;
import dev.berth.api.UnavailableException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@link TaskInspector} over bundles whose shims cannot answer: no shim process involved. */
class TaskInspectorTest {
    @TempDir
    Path state;

    private Path bundle(String namespace, String id, String address) throws IOException {
        Path dir = Files.createDirectories(state.resolve("tasks").resolve(namespace).resolve(id));
        Files.writeString(dir.resolve("config.json"), "{}");
        if (address != null) {
            Files.writeString(dir.resolve("address"), address);
        }
        return dir;
    }

    private List<String> tree() throws IOException {
        try (Stream<Path> all = Files.walk(state)) {
            return all.map(p -> state.relativize(p) + (Files.isDirectory(p) ? "/" : "")).sorted().toList();
        }
    }

    @Test
    void missingStateDirectoryListsNothingAndIsNotCreated() {
        Path missing = state.resolve("nosuch");
        try (TaskInspector inspector = TaskRuntimes.inspect(missing)) {
            assertThat(inspector.list()).isEmpty();
            assertThat(inspector.list("default")).isEmpty();
            assertThat(inspector.get("default", "x")).isEmpty();
        }
        assertThat(missing).doesNotExist();
    }

    @Test
    void bundlesWhoseShimCannotAnswerAreUnknownWithTheReasonAndNothingChanges() throws IOException {
        Path dead = bundle("ns1", "dead", "unix://" + state.resolve("gone.sock"));
        bundle("ns1", "starting", null);
        bundle("ns2", "other", "unix://" + state.resolve("gone.sock"));
        Files.createDirectories(state.resolve("tasks/ns1/.deleted.1"));
        List<String> before = tree();

        try (TaskInspector inspector = TaskRuntimes.inspect(state, Duration.ofSeconds(2))) {
            List<TaskSnapshot> all = inspector.list();

            assertThat(all).extracting(TaskSnapshot::namespace, TaskSnapshot::id).containsExactly(
                    org.assertj.core.groups.Tuple.tuple("ns1", "dead"),
                    org.assertj.core.groups.Tuple.tuple("ns1", "starting"),
                    org.assertj.core.groups.Tuple.tuple("ns2", "other"));
            assertThat(all).allSatisfy(s -> {
                assertThat(s.status()).isEqualTo(TaskStatus.UNKNOWN);
                assertThat(s.pid()).isZero();
                assertThat(s.exit()).isEmpty();
            });
            assertThat(all.get(0).bundle()).isEqualTo(dead);
            assertThat(all.get(0).error()).hasValueSatisfying(e -> assertThat(e)
                    .contains("does not answer").contains(state.resolve("gone.sock").toString()));
            assertThat(all.get(1).error()).hasValueSatisfying(e -> assertThat(e).contains("no shim address"));
            assertThat(inspector.list("ns2")).extracting(TaskSnapshot::id).containsExactly("other");
            assertThat(inspector.get("ns1", "dead")).hasValueSatisfying(s ->
                    assertThat(s.status()).isEqualTo(TaskStatus.UNKNOWN));
            assertThatThrownBy(() -> inspector.pids("ns1", "dead")).isInstanceOf(UnavailableException.class)
                    .hasMessageContaining("gone.sock");
        }
        assertThat(tree()).as("files after listing").isEqualTo(before);
        assertThat(state.resolve("runtime.lock")).as("no lock taken").doesNotExist();
    }

    @Test
    void unknownTaskOrBadNameIsATypedError() {
        try (TaskInspector inspector = TaskRuntimes.inspect(state)) {
            assertThat(inspector.get("default", "nosuch")).isEmpty();
            assertThatThrownBy(() -> inspector.pids("default", "nosuch")).isInstanceOf(NotFoundException.class)
                    .hasMessageContaining("default/nosuch");
            assertThatThrownBy(() -> inspector.get("default", "../escape"))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("../escape");
            assertThatThrownBy(() -> inspector.list(".hidden")).isInstanceOf(InvalidArgumentException.class);
        }
        assertThatThrownBy(() -> TaskRuntimes.inspect(state, Duration.ZERO)).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("timeout");
    }

    @Test
    void closedInspectorRefusesCallsAndClosesTwice() {
        TaskInspector inspector = TaskRuntimes.inspect(state);
        inspector.close();
        inspector.close();
        assertThatThrownBy(inspector::list).isInstanceOf(FailedPreconditionException.class)
                .hasMessageContaining("closed");
    }
}

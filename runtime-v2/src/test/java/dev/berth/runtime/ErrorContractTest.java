package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.ClosedException;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.IoFailureException;
import dev.berth.api.task.TaskConfig;
import dev.berth.api.task.TaskRuntime;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** BerthException's contract at the task runtime's surface: closed objects and file failures. */
class ErrorContractTest {
    @TempDir
    Path state;

    @Test
    void closedRuntimeThrowsClosedExceptionNamingItsStateDirectory() {
        TaskRuntime runtime = TaskRuntimes.builder().stateDir(state).build();
        runtime.close();
        runtime.close();
        TaskConfig config = TaskConfig.builder("after-close").spec("{\"ociVersion\":\"1.0.2\"}").build();

        assertThatThrownBy(() -> runtime.create(config))
                .isInstanceOf(ClosedException.class).isInstanceOf(FailedPreconditionException.class)
                .hasMessageContaining(state.toString()).hasMessageEndingWith("is closed");
    }

    @Test
    void stateDirectoryUnderAFileIsAnIoFailureCarryingTheIoException() throws IOException {
        Path file = Files.writeString(state.resolve("not-a-directory"), "x");

        assertThatThrownBy(() -> TaskRuntimes.builder().stateDir(file.resolve("state")).build())
                .isInstanceOf(IoFailureException.class).hasMessageContaining(file.resolve("state").toString())
                .cause().isInstanceOf(IOException.class);
    }

    @Test
    void bundleThatCannotBeWrittenIsAnIoFailureNotAnUncheckedIoException() throws IOException {
        try (TaskRuntime runtime = TaskRuntimes.builder().stateDir(state).build()) {
            Path tasks = state.resolve("tasks");
            dev.berth.sys.FileTrees.deleteTree(tasks);
            Files.writeString(tasks, "a file where the bundles belong");
            TaskConfig config = TaskConfig.builder("no-bundle").spec("{\"ociVersion\":\"1.0.2\"}").build();

            assertThatThrownBy(() -> runtime.create(config))
                    .isInstanceOf(IoFailureException.class).hasMessageContaining(tasks.toString())
                    .cause().isInstanceOf(IOException.class);
        }
    }
}

package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.InvalidArgumentException;
import dev.berth.api.task.RuncOptions;
import dev.berth.api.task.Stdio;
import dev.berth.api.task.TaskConfig;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;

class TaskOptionsTest {
    private static TaskConfig.Builder task() {
        return TaskConfig.builder("t1").spec("{\"ociVersion\":\"1.0.2\"}");
    }

    @Test
    void optionsApplyInOrderAndALaterSettingWins() {
        Stdio first = Stdio.file(Path.of("/tmp/first.log"));
        Stdio second = Stdio.file(Path.of("/tmp/second.log"));

        TaskConfig config = TaskOption.applyAll(task(), List.of(TaskOptions.stdio(first),
                TaskOptions.sessionScoped(true), TaskOptions.restoreFrom(Path.of("/var/ckpt")),
                TaskOptions.stdio(second))).build();

        assertThat(config.stdio()).isSameAs(second);
        assertThat(config.sessionScoped()).isTrue();
        assertThat(config.restoreFrom()).contains(Path.of("/var/ckpt"));
    }

    @Test
    void anOptionIsTheBuilderSettingOfTheSameName() {
        RuncOptions crun = RuncOptions.builder().binaryName("crun").build();

        TaskConfig viaOption = TaskOption.applyAll(task(), List.of(TaskOptions.runcOptions(crun),
                TaskOptions.privateCgroup2(true))).build();
        TaskConfig direct = task().runcOptions(crun).privateCgroup2(true).build();

        assertThat(viaOption.runcOptions()).isEqualTo(direct.runcOptions());
        assertThat(viaOption.privateCgroup2()).isEqualTo(direct.privateCgroup2()).isTrue();
    }

    @Test
    void aBadValueFailsWhenAppliedNamingTheTask() {
        TaskOption relative = TaskOptions.restoreFrom(Path.of("ckpt"));

        assertThatThrownBy(() -> relative.apply(task())).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("t1").hasMessageContaining("ckpt");
    }
}

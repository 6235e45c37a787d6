package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import dev.berth.api.task.CheckpointConfig;
import dev.berth.api.task.ExitStatus;
import dev.berth.api.task.RuncOptions;
import dev.berth.api.task.Stdio;
import dev.berth.api.task.TaskConfig;

import dev.berth.api.InvalidArgumentException;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;

class TaskConfigTest {
    @Test
    void invalidIdAndNamespaceAreRejected() {
        assertThatThrownBy(() -> TaskConfig.builder("bad/id")).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("bad/id");
        assertThatThrownBy(() -> TaskConfig.builder("ok").namespace("no spaces"))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("namespace");
    }

    @Test
    void specMustBeAnOciJsonObject() {
        assertThatThrownBy(() -> TaskConfig.builder("t").spec("not json")).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("not valid JSON");
        assertThatThrownBy(() -> TaskConfig.builder("t").spec("{\"process\":{}}"))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("ociVersion");
        assertThatThrownBy(() -> TaskConfig.builder("t").build()).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("spec is required");
    }

    @Test
    void defaultsAreDefaultNamespaceNullStdioAndRunc() {
        TaskConfig config = TaskConfig.builder("t").spec("{\"ociVersion\":\"1.0.2\"}").build();

        assertThat(config.namespace()).isEqualTo("default");
        assertThat(config.stdio().stdout()).isEmpty();
        assertThat(config.runtime()).isEmpty();
        assertThat(config.runcOptions()).isEqualTo(RuncOptions.defaults());
        assertThat(config.rootfs()).isEmpty();
    }

    @Test
    void terminalFlagIsWrittenIntoTheSpecsProcess() throws Exception {
        String spec = "{\"ociVersion\":\"1.0.2\",\"process\":{\"terminal\":false,\"args\":[\"sh\"]}}";

        TaskConfig withTty = TaskConfig.builder("t").spec(spec).terminal(true).build();
        TaskConfig without = TaskConfig.builder("t").spec(spec).build();

        var json = new com.fasterxml.jackson.databind.ObjectMapper();
        assertThat(json.readTree(withTty.spec()).at("/process/terminal").asBoolean()).isTrue();
        assertThat(json.readTree(withTty.spec()).at("/process/args/0").asText()).isEqualTo("sh");
        assertThat(without.spec()).as("an agreeing spec is kept byte for byte")
                .isEqualTo(spec.getBytes(java.nio.charset.StandardCharsets.UTF_8));
    }

    @Test
    void restoreDirectoryMustBeAbsolute() {
        assertThatThrownBy(() -> TaskConfig.builder("t").restoreFrom(Path.of("images")))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("images");
        assertThatThrownBy(() -> CheckpointConfig.to(Path.of("images")))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("images");
        assertThatThrownBy(() -> CheckpointConfig.builder(Path.of("/images")).cgroupsMode("loose").build())
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("loose");
    }

    @Test
    void optionsSurviveToBuilder() {
        TaskConfig config = TaskConfig.builder("t").spec("{\"ociVersion\":\"1.0.2\"}").sessionScoped(true)
                .privateCgroup2(true).restoreFrom(Path.of("/images")).build();

        TaskConfig copy = config.toBuilder().build();

        assertThat(copy.sessionScoped()).isTrue();
        assertThat(copy.privateCgroup2()).isTrue();
        assertThat(copy.restoreFrom()).contains(Path.of("/images"));
    }

    @Test
    void stdioFileMustBeAbsolute() {
        assertThatThrownBy(() -> Stdio.file(Path.of("relative.log"))).isInstanceOf(InvalidArgumentException.class);
    }

    @Test
    void exitStatusNamesTheSignal() {
        assertThat(new ExitStatus(137, Instant.EPOCH).signal()).hasValue(9);
        assertThat(new ExitStatus(143, Instant.EPOCH).signal()).hasValue(15);
        assertThat(new ExitStatus(3, Instant.EPOCH).signal()).isEmpty();
        assertThat(new ExitStatus(0, Instant.EPOCH).success()).isTrue();
    }
}

package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

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

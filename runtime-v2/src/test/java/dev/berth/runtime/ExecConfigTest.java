package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import dev.berth.api.task.ExecConfig;

import dev.berth.api.InvalidArgumentException;
import dev.berth.api.oci.runtime.Process;
import dev.berth.api.oci.runtime.User;
import java.util.List;
import org.junit.jupiter.api.Test;

class ExecConfigTest {
    private final Process init = new Process(false, null, User.of(0, 0), List.of("sleep", "600"), null,
            List.of("PATH=/bin", "MODE=init"), "/", null, null, true, null, null, null);

    @Test
    void argsAreLaidOverTheInitProcess() {
        Process p = ExecConfig.builder("e").args("sh", "-c", "env").env("MODE=exec").env("EXTRA=1").cwd("/tmp")
                .user(1000, 1000).terminal(true).build().toProcess(init);

        assertThat(p.args()).containsExactly("sh", "-c", "env");
        assertThat(p.env()).containsExactly("PATH=/bin", "MODE=exec", "EXTRA=1");
        assertThat(p.cwd()).isEqualTo("/tmp");
        assertThat(p.user()).isEqualTo(User.of(1000, 1000));
        assertThat(p.terminal()).isTrue();
        assertThat(p.noNewPrivileges()).as("kept from the init process").isTrue();
    }

    @Test
    void aCompleteProcessIsSentAsIsExceptTheTerminalFlag() {
        Process own = init.withArgs(List.of("true"));

        Process p = ExecConfig.builder("e").process(own).build().toProcess(init);

        assertThat(p).isEqualTo(own.withTerminal(false));
    }

    @Test
    void badConfigurationsAreRejected() {
        assertThatThrownBy(() -> ExecConfig.builder("bad id")).isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> ExecConfig.builder("e").build()).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("args");
        assertThatThrownBy(() -> ExecConfig.builder("e").process(init).args("ls").build())
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("excludes");
        assertThatThrownBy(() -> ExecConfig.builder("e").env("NOVALUE")).isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> ExecConfig.builder("e").cwd("relative")).isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> ExecConfig.builder("e").args(List.of())).isInstanceOf(InvalidArgumentException.class);
    }
}

package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.InvalidArgumentException;
import dev.berth.api.oci.runtime.Mount;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class ArgumentParsingTest {

    @Nested
    class MountFlag {
        @Test
        void bindMountGetsRbindAndKeepsOptionsInOrder() {
            Mount m = ContainerFlags.parseMount("type=bind,src=/srv/data,dst=/data,options=ro:noexec");

            assertThat(m.type()).isEqualTo("bind");
            assertThat(m.source()).isEqualTo("/srv/data");
            assertThat(m.destination()).isEqualTo("/data");
            assertThat(m.options()).containsExactly("rbind", "ro", "noexec");
        }

        @Test
        void unknownKeyIsRejectedByName() {
            assertThatThrownBy(() -> ContainerFlags.parseMount("type=bind,src=/a,dest=/b,colour=red"))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("colour");
        }

        @Test
        void sourceAndDestinationAreRequired() {
            assertThatThrownBy(() -> ContainerFlags.parseMount("type=tmpfs,dst=/tmp"))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("src=");
        }
    }

    @Test
    void memoryAcceptsBytesAndBinarySuffixes() {
        assertThat(ContainerFlags.parseBytes("67108864")).isEqualTo(64L << 20);
        assertThat(ContainerFlags.parseBytes("64m")).isEqualTo(64L << 20);
        assertThat(ContainerFlags.parseBytes("2G")).isEqualTo(2L << 30);
        assertThat(ContainerFlags.parseBytes("512kb")).isEqualTo(512L << 10);
        assertThatThrownBy(() -> ContainerFlags.parseBytes("lots")).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("lots");
    }

    @Test
    void signalsByNameWithOrWithoutSigPrefixOrNumber() {
        assertThat(TasksCommand.Signals.parse("SIGKILL")).isEqualTo(9);
        assertThat(TasksCommand.Signals.parse("term")).isEqualTo(15);
        assertThat(TasksCommand.Signals.parse("10")).isEqualTo(10);
        assertThatThrownBy(() -> TasksCommand.Signals.parse("SIGNOPE")).isInstanceOf(InvalidArgumentException.class);
    }

    @Test
    void leaseExpiriesInCtrAndIsoForms() {
        assertThat(LeasesCommand.parseDuration("24h")).isEqualTo(Duration.ofHours(24));
        assertThat(LeasesCommand.parseDuration("90s")).isEqualTo(Duration.ofSeconds(90));
        assertThat(LeasesCommand.parseDuration("PT5M")).isEqualTo(Duration.ofMinutes(5));
        assertThatThrownBy(() -> LeasesCommand.parseDuration("soon")).isInstanceOf(InvalidArgumentException.class);
    }

    @Test
    void badArgumentsPrintUsageWithoutTouchingAnyRoot() {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();

        int code = Main.run(new String[] {"--root", "/nonexistent/never-created", "run"}, new PrintWriter(out),
                new PrintWriter(err));

        assertThat(code).isEqualTo(2);
        assertThat(err.toString()).contains("Missing required parameters").contains("IMAGE");
        assertThat(java.nio.file.Files.exists(java.nio.file.Path.of("/nonexistent/never-created"))).isFalse();
    }

    @Test
    void runTreatsEverythingAfterTheImageAsTheCommand() {
        RunCommand run = new RunCommand();
        picocli.CommandLine cli = new picocli.CommandLine(run);
        cli.setStopAtPositional(true);

        cli.parseArgs("--rm", "--env", "A=1", "busybox", "c1", "sh", "-c", "echo -n hi", "--rm");

        assertThat(run.rm).isTrue();
        assertThat(run.flags.env).containsExactly("A=1");
        assertThat(run.image).isEqualTo("busybox");
        assertThat(run.id).isEqualTo("c1");
        assertThat(run.command).isEqualTo(List.of("sh", "-c", "echo -n hi", "--rm"));
    }
}

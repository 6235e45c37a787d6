package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.ContainerConfig;
import dev.berth.ContainerOptions;
import dev.berth.RunOptions;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.oci.runtime.Mount;
import dev.berth.api.task.RuncOptions;
import dev.berth.runtime.spec.SpecBuilder;
import dev.berth.runtime.spec.SpecOption;
import dev.berth.runtime.spec.SpecOptions;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import dev.berth.network.NetworkMode;
import dev.berth.network.PortMapping;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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

    /** The spec {@code Containers.create} builds for {@code config} (no image: the options give the args). */
    private static String specJson(ContainerConfig config) {
        SpecBuilder builder = SpecBuilder.defaults("default", config.id());
        config.specOptions().forEach(o -> o.apply(builder));
        return new String(builder.buildJson(), StandardCharsets.UTF_8);
    }

    @Test
    void containerFlagsMakeTheSameContainerAsTheSameJavaOptions(@TempDir Path dir) {
        RunCommand run = new RunCommand();
        picocli.CommandLine cli = new picocli.CommandLine(run);
        cli.setStopAtPositional(true);
        cli.parseArgs("--env", "A=1", "-e", "B=2", "--mount", "type=bind,src=" + dir + ",dst=/data,options=ro",
                "--memory", "64m", "--user", "1000:100", "--cwd", "/srv", "--hostname", "h1", "--tty", "--net-host",
                "--snapshotter", "native", "--runc-binary", "crun", "--label", "k=v",
                "busybox", "c1", "sh", "-c", "true");

        ContainerConfig fromFlags = run.flags.runOptions(run.id, run.command).build().containerConfig(run.image);
        List<SpecOption> spec = List.of(SpecOptions.args("sh", "-c", "true"), SpecOptions.env("A=1", "B=2"),
                SpecOptions.bindMount(dir, "/data", true), SpecOptions.hostNetwork(true),
                SpecOptions.memoryLimit(64L << 20), SpecOptions.user("1000:100"), SpecOptions.cwd("/srv"),
                SpecOptions.hostname("h1"), SpecOptions.terminal(true));
        ContainerConfig fromRunOptions = RunOptions.builder().id("c1").snapshotter("native")
                .runcOptions(RuncOptions.builder().binaryName("crun").build()).label("k", "v").spec(spec).build()
                .containerConfig("busybox");
        ContainerConfig fromContainerOptions = ContainerConfig.builder("c1").with(ContainerOptions.image("busybox"),
                ContainerOptions.snapshotter("native"), ContainerOptions.label("k", "v"),
                ContainerOptions.runcOptions(RuncOptions.builder().binaryName("crun").build()),
                ContainerOptions.spec(spec)).build();

        assertThat(specJson(fromFlags)).isEqualTo(specJson(fromRunOptions)).isEqualTo(specJson(fromContainerOptions));
        for (ContainerConfig c : List.of(fromRunOptions, fromContainerOptions)) {
            assertThat(fromFlags.image()).isEqualTo(c.image());
            assertThat(fromFlags.snapshotter()).isEqualTo(c.snapshotter());
            assertThat(fromFlags.runcOptions()).isEqualTo(c.runcOptions());
            assertThat(fromFlags.labels()).isEqualTo(c.labels());
        }
    }

    @Test
    void networkFlagsBecomeTheNetworkOptions() {
        RunCommand run = new RunCommand();
        picocli.CommandLine cli = new picocli.CommandLine(run);
        cli.setStopAtPositional(true);
        cli.parseArgs("--net", "front", "-p", "8080:80", "-p", "0.0.0.0:53:53/udp", "-p", "443", "--alias", "web",
                "busybox", "c1");

        ContainerConfig config = run.flags.runOptions(run.id, run.command).build().containerConfig(run.image);

        assertThat(config.network()).isEqualTo(NetworkMode.network("front"));
        assertThat(config.ports()).containsExactly(PortMapping.tcp(8080, 80),
                new PortMapping("0.0.0.0", 53, 53, "udp"), PortMapping.tcp(443));
        assertThat(config.aliases()).containsExactly("web");
    }

    @Test
    void publishingWithoutANetworkUsesTheDefaultOneAndNoneRefusesPorts() {
        RunCommand run = new RunCommand();
        new picocli.CommandLine(run).setStopAtPositional(true).parseArgs("-p", "80", "busybox", "c1");
        assertThat(run.flags.runOptions(run.id, run.command).build().containerConfig(run.image).network())
                .isEqualTo(NetworkMode.network("default"));

        RunCommand none = new RunCommand();
        new picocli.CommandLine(none).setStopAtPositional(true).parseArgs("--net", "none", "-p", "80", "busybox", "c1");
        assertThatThrownBy(() -> none.flags.runOptions(none.id, none.command).build().containerConfig(none.image))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("need a network");
    }

    @Test
    void aBadFlagValueIsRefusedByTheOptionNamingIt() {
        ContainersCommand.Create create = new ContainersCommand.Create();
        new picocli.CommandLine(create).parseArgs("--cwd", "relative/dir", "busybox", "c1");

        assertThatThrownBy(() -> create.flags.options(create.command)).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("cwd").hasMessageContaining("relative/dir");
    }

    @Test
    void seccompProfileFlagTurnsTheDefaultFilterOffOrLoadsAProfile(@TempDir Path dir) throws Exception {
        RunCommand byDefault = new RunCommand();
        new picocli.CommandLine(byDefault).setStopAtPositional(true).parseArgs("busybox", "c1", "true");
        RunCommand unconfined = new RunCommand();
        new picocli.CommandLine(unconfined).setStopAtPositional(true)
                .parseArgs("--seccomp-profile", "unconfined", "busybox", "c1", "true");
        Path profile = java.nio.file.Files.writeString(dir.resolve("deny-mkdir.json"),
                "{\"defaultAction\":\"SCMP_ACT_ALLOW\",\"syscalls\":[{\"names\":[\"mkdir\"],"
                        + "\"action\":\"SCMP_ACT_ERRNO\"}]}");
        RunCommand custom = new RunCommand();
        new picocli.CommandLine(custom).setStopAtPositional(true)
                .parseArgs("--seccomp-profile", profile.toString(), "busybox", "c1", "true");

        assertThat(specJson(byDefault.flags.runOptions("c1", byDefault.command).build().containerConfig("busybox")))
                .contains("\"seccomp\"").contains("SCMP_ACT_ERRNO");
        assertThat(specJson(unconfined.flags.runOptions("c1", unconfined.command).build().containerConfig("busybox")))
                .doesNotContain("\"seccomp\"");
        assertThat(specJson(custom.flags.runOptions("c1", custom.command).build().containerConfig("busybox")))
                .contains("\"defaultAction\":\"SCMP_ACT_ALLOW\"").contains("mkdir");
    }
}

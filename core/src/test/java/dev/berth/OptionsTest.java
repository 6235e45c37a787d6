package dev.berth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.InvalidArgumentException;
import dev.berth.api.event.Envelope;
import dev.berth.api.event.ImageEvent;
import dev.berth.api.oci.runtime.RuntimeSpecJson;
import dev.berth.api.task.RuncOptions;
import dev.berth.api.task.Stdio;
import dev.berth.api.task.TaskConfig;
import dev.berth.events.EventExchange;
import dev.berth.runtime.TaskOption;
import dev.berth.runtime.TaskOptions;
import dev.berth.runtime.spec.SpecBuilder;
import dev.berth.runtime.spec.SpecOption;
import dev.berth.runtime.spec.SpecOptions;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OptionsTest {

    /** The spec {@link Containers#create(ContainerConfig)} builds for {@code config} (here without an image). */
    private static String specJson(ContainerConfig config) {
        SpecBuilder builder = SpecBuilder.defaults("default", config.id());
        config.customize(builder);
        return new String(builder.buildJson(), StandardCharsets.UTF_8);
    }

    @Nested
    class Run {
        @Test
        void generatedIdsAreDistinctIdentifiers() {
            String a = RunOptions.builder().build().id();
            String b = RunOptions.builder().build().id();

            assertThat(a).startsWith("run-").isNotEqualTo(b);
            assertThat(dev.berth.api.Identifiers.isValid(a)).isTrue();
        }

        @Test
        void badValuesAreRefusedWhenSet() {
            assertThatThrownBy(() -> RunOptions.builder().id("no spaces")).isInstanceOf(InvalidArgumentException.class);
            assertThatThrownBy(() -> RunOptions.builder().memory(0)).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("memory");
            assertThatThrownBy(() -> RunOptions.builder().env("=x")).isInstanceOf(InvalidArgumentException.class);
            assertThatThrownBy(() -> RunOptions.builder().args(List.of())).isInstanceOf(InvalidArgumentException.class);
            assertThatThrownBy(() -> RunOptions.builder().label("", "v")).isInstanceOf(InvalidArgumentException.class);
        }

        @Test
        void containerConfigCarriesRuntimeSnapshotterAndLabels() {
            ContainerConfig c = RunOptions.builder().id("x").snapshotter("native").runtime("io.containerd.runc.v2")
                    .runcOptions(RuncOptions.builder().binaryName("crun").build()).label("a", "b").build()
                    .containerConfig("busybox");

            assertThat(c.id()).isEqualTo("x");
            assertThat(c.image()).contains("busybox");
            assertThat(c.snapshotter()).contains("native");
            assertThat(c.runtime()).contains("io.containerd.runc.v2");
            assertThat(c.runcOptions().binaryName()).isEqualTo("crun");
            assertThat(c.labels()).containsEntry("a", "b");
        }

        @Test
        void shorthandsAreTheirFactoriesOptions(@TempDir Path dir) {
            RunOptions shorthand = RunOptions.builder().id("web").args("httpd", "-f").env("A=1").env("B", "2")
                    .cwd("/srv").user("1000:100").hostname("web-1").bindMount(dir, "/data", true).memory(64L << 20)
                    .hostNetwork(true).tty(true).build();
            RunOptions explicit = RunOptions.builder().id("web").spec(SpecOptions.args("httpd", "-f"),
                    SpecOptions.env("A=1"), SpecOptions.envVar("B", "2"), SpecOptions.cwd("/srv"),
                    SpecOptions.user("1000:100"), SpecOptions.hostname("web-1"), SpecOptions.bindMount(dir, "/data", true),
                    SpecOptions.memoryLimit(64L << 20), SpecOptions.hostNetwork(true), SpecOptions.terminal(true))
                    .build();

            assertThat(specJson(shorthand.containerConfig(null))).isEqualTo(specJson(explicit.containerConfig(null)));
        }

        @Test
        void theHostnameIsTheIdUnlessAnOptionSetsIt() {
            RunOptions plain = RunOptions.builder().id("box").args("true").build();
            RunOptions named = RunOptions.builder().id("box").args("true").hostname("other").build();

            assertThat(RuntimeSpecJson.parse(specJson(plain.containerConfig(null)).getBytes(StandardCharsets.UTF_8))
                    .hostname()).isEqualTo("box");
            assertThat(RuntimeSpecJson.parse(specJson(named.containerConfig(null)).getBytes(StandardCharsets.UTF_8))
                    .hostname()).isEqualTo("other");
        }

        @Test
        void specAndContainerOptionsKeepTheOrderTheyWereGivenIn() {
            RunOptions options = RunOptions.builder().id("o").args("first").snapshotter("overlayfs")
                    .container(ContainerOptions.spec(SpecOptions.args("second")), ContainerOptions.snapshotter("native"))
                    .spec(SpecOptions.args("third"))
                    .build();

            ContainerConfig config = options.containerConfig(null);

            assertThat(specJson(config)).contains("\"third\"").doesNotContain("\"second\"");
            assertThat(config.snapshotter()).contains("native");
        }

        @Test
        void taskOptionsAreKeptInOrder() {
            Stdio a = Stdio.file(Path.of("/tmp/a.log"));
            Stdio b = Stdio.file(Path.of("/tmp/b.log"));

            RunOptions options = RunOptions.builder().stdio(a).task(TaskOptions.sessionScoped(true)).stdio(b).build();
            TaskConfig task = TaskOption.applyAll(TaskConfig.builder("t").spec("{\"ociVersion\":\"1.0.2\"}"),
                    options.taskOptions()).build();

            assertThat(options.taskOptions()).hasSize(3);
            assertThat(task.stdio()).isSameAs(b);
            assertThat(task.sessionScoped()).isTrue();
        }
    }

    @Nested
    class Create {
        @Test
        void runOptionsAndContainerOptionsMakeTheSameContainer(@TempDir Path dir) {
            List<SpecOption> spec = List.of(SpecOptions.args("sh", "-c", "echo hi"), SpecOptions.env("MODE=prod"),
                    SpecOptions.user(1000, 1000), SpecOptions.bindMount(dir, "/data", false),
                    SpecOptions.memoryLimit(32L << 20), SpecOptions.pidsLimit(20), SpecOptions.hostname("same"));

            ContainerConfig run = RunOptions.builder().id("same").label("tier", "web").snapshotter("native")
                    .spec(spec).build().containerConfig("busybox");
            ContainerConfig created = ContainerConfig.builder("same").with(ContainerOptions.image("busybox"),
                    ContainerOptions.label("tier", "web"), ContainerOptions.snapshotter("native"),
                    ContainerOptions.spec(spec)).build();
            ContainerConfig bySetters = ContainerConfig.builder("same").image("busybox").label("tier", "web")
                    .snapshotter("native").spec(spec).build();

            assertThat(specJson(run)).isEqualTo(specJson(created)).isEqualTo(specJson(bySetters));
            for (ContainerConfig c : List.of(created, bySetters)) {
                assertThat(c.image()).isEqualTo(run.image());
                assertThat(c.labels()).isEqualTo(run.labels());
                assertThat(c.snapshotter()).isEqualTo(run.snapshotter());
            }
        }

        @Test
        void laterSettingsWinAndLabelsAccumulate() {
            ContainerConfig c = ContainerConfig.builder("c").with(ContainerOptions.runtime("io.containerd.runc.v1"),
                    ContainerOptions.label("a", "1"), ContainerOptions.labels(Map.of("b", "2")),
                    ContainerOptions.runtime("io.containerd.runc.v2"), ContainerOptions.label("a", "3")).build();

            assertThat(c.runtime()).contains("io.containerd.runc.v2");
            assertThat(c.labels()).containsOnly(Map.entry("a", "3"), Map.entry("b", "2"));
        }

        @Test
        void aBadValueFailsWhenAppliedNamingTheContainer() {
            ContainerOption blank = ContainerOptions.runtime(" ");

            assertThatThrownBy(() -> ContainerConfig.builder("c9").with(blank))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("c9").hasMessageContaining("runtime");
        }
    }

    @Nested
    class Registry {
        @Test
        void pullAndPushShareHowRegistriesAreReached() {
            RegistryAccess access = RegistryAccess.defaults().withPlainHttp(true).withHostsDirectory(Path.of("/etc/x"));

            PullSettings pull = PullSettings.of(access);
            PushSettings push = PushSettings.of(access);

            assertThat(pull.registry()).isEqualTo(push.registry()).isEqualTo(new RegistryAccess(true, Path.of("/etc/x")));
            assertThat(pull.platforms()).isNull();
            assertThat(PushSettings.defaults().registry().plainHttp()).isFalse();
            assertThatThrownBy(() -> new PushSettings(null, null)).isInstanceOf(NullPointerException.class);
        }
    }

    @Test
    void runcOptionsSurviveTheContainerRecord() {
        RuncOptions o = RuncOptions.builder().binaryName("crun").systemdCgroup(true).root(Path.of("/run/x"))
                .ioOwner(1000, 1000).build();

        var runtime = RuncOptionsCodec.encode("io.containerd.runc.v2", o);

        assertThat(RuncOptionsCodec.decode(runtime)).isEqualTo(o);
        assertThat(RuncOptionsCodec.encode("io.containerd.runc.v2", RuncOptions.defaults()).optionsTypeUrl()).isEmpty();
    }

    @Test
    void builderRejectsAMalformedSnapshotterNameWhenSet() {
        // an unknown but well-formed name fails at build(): snapshotter(name, snapshotter) may add it later
        assertThatThrownBy(() -> Berth.builder().snapshotter("no spaces")).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("no spaces");
    }

    @Test
    void namespaceEventsSeeOnlyTheirNamespace() {
        try (EventExchange exchange = EventExchange.create()) {
            ScopedEvents a = new ScopedEvents(exchange, "a");
            List<Envelope> seen = new CopyOnWriteArrayList<>();
            a.subscribe(seen::add);
            a.subscribe(seen::add, "topic==\"/images/delete\"");

            exchange.publish("b", new ImageEvent.Create("in-b", java.util.Map.of()));
            exchange.publish("a", new ImageEvent.Create("in-a", java.util.Map.of()));
            exchange.publish("a", new ImageEvent.Delete("gone"));

            Awaitility.await().atMost(Duration.ofSeconds(5)).until(() -> seen.size() == 3);
            assertThat(seen).extracting(Envelope::namespace).containsOnly("a");
            assertThatThrownBy(() -> a.publish("b", new ImageEvent.Delete("x")))
                    .isInstanceOf(InvalidArgumentException.class);
            a.close();
        }
    }
}

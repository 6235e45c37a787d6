package dev.berth.runtime.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.InvalidArgumentException;
import dev.berth.api.oci.runtime.Spec;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpecOptionsTest {

    private static Spec apply(SpecOption... options) {
        SpecBuilder b = SpecBuilder.defaults("ns1", "c1");
        SpecOption.all(options).apply(b);
        return b.build();
    }

    private static String json(SpecBuilder b) {
        return new String(b.buildJson(), StandardCharsets.UTF_8);
    }

    @Nested
    class Composition {
        @Test
        void aSettingAppliedAgainIsReplacedByTheLaterOne() {
            Spec spec = apply(SpecOptions.args("first"), SpecOptions.hostname("one"), SpecOptions.memoryLimit(1 << 20),
                    SpecOptions.args("second", "x"), SpecOptions.hostname("two"), SpecOptions.memoryLimit(2 << 20));

            assertThat(spec.process().args()).containsExactly("second", "x");
            assertThat(spec.hostname()).isEqualTo("two");
            assertThat(spec.linux().resources().memory().limit()).isEqualTo(2L << 20);
        }

        @Test
        void envChangesMountsAndAnnotationsAccumulateInOrder(@TempDir Path dir) {
            Spec spec = apply(SpecOptions.args("sh"), SpecOptions.env("A=1", "B=2"), SpecOptions.tmpfs("/scratch"),
                    SpecOptions.env("A"), SpecOptions.envVar("C", "3"), SpecOptions.bindMount(dir, "/data", true),
                    SpecOptions.annotation("k1", "v1"), SpecOptions.annotation("k2", "v2"));

            assertThat(spec.process().env()).endsWith("B=2", "C=3").noneMatch(e -> e.startsWith("A="));
            List<String> destinations = spec.mounts().stream().map(m -> m.destination()).toList();
            assertThat(destinations).containsSubsequence("/scratch", "/data").endsWith("/data");
            assertThat(spec.annotations()).containsExactly(Map.entry("k1", "v1"), Map.entry("k2", "v2"));
        }

        @Test
        void allAndAndThenApplyInTheOrderWritten() {
            List<String> order = new ArrayList<>();
            SpecOption a = s -> order.add("a");
            SpecOption b = s -> order.add("b");
            SpecOption c = s -> order.add("c");

            a.andThen(SpecOption.all(b, c)).andThen(a).apply(SpecBuilder.defaults("c1"));

            assertThat(order).containsExactly("a", "b", "c", "a");
        }

        @Test
        void anOptionIsTheBuilderSettingOfTheSameName() {
            SpecBuilder direct = SpecBuilder.defaults("ns1", "c1").args("sh", "-c", "true").env("A=1").cwd("/srv")
                    .user(1000, 100).hostname("web").memoryLimit(64L << 20).pidsLimit(32).readOnlyRootfs(true)
                    .dropCapabilities("ALL").addCapabilities("NET_BIND_SERVICE").terminal(true)
                    .sysctl("net.ipv4.ip_forward", "1").cpus("1.5");
            SpecBuilder viaOptions = SpecBuilder.defaults("ns1", "c1");
            SpecOption.all(SpecOptions.args("sh", "-c", "true"), SpecOptions.env("A=1"), SpecOptions.cwd("/srv"),
                    SpecOptions.user(1000, 100), SpecOptions.hostname("web"), SpecOptions.memoryLimit(64L << 20),
                    SpecOptions.pidsLimit(32), SpecOptions.readOnlyRootfs(true), SpecOptions.dropCapabilities("ALL"),
                    SpecOptions.addCapabilities("NET_BIND_SERVICE"), SpecOptions.terminal(true),
                    SpecOptions.sysctl("net.ipv4.ip_forward", "1"), SpecOptions.cpus("1.5")).apply(viaOptions);

            assertThat(json(viaOptions)).isEqualTo(json(direct));
        }

        @Test
        void oneOptionValueConfiguresAnyNumberOfSpecs() {
            SpecOption limits = SpecOption.all(SpecOptions.memoryLimit(8L << 20), SpecOptions.pidsLimit(16));

            Spec first = apply(SpecOptions.args("a"), limits);
            Spec second = apply(SpecOptions.args("b"), limits);

            assertThat(first.linux().resources()).isEqualTo(second.linux().resources());
            assertThat(first.linux().resources().pids().limit()).isEqualTo(16);
        }

        @Test
        void aCallersListChangedLaterDoesNotChangeTheOption() {
            List<String> argv = new ArrayList<>(List.of("echo", "one"));
            SpecOption args = SpecOptions.args(argv);

            argv.set(1, "two");

            assertThat(apply(args).process().args()).containsExactly("echo", "one");
        }
    }

    @Nested
    class Checks {
        @Test
        void aBadValueFailsWhenTheOptionIsMadeNamingTheOption() {
            assertThatThrownBy(() -> SpecOptions.memoryLimit(0)).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("memoryLimit");
            assertThatThrownBy(() -> SpecOptions.cwd("relative")).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("cwd").hasMessageContaining("relative");
            assertThatThrownBy(() -> SpecOptions.env("=x")).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("env");
            assertThatThrownBy(() -> SpecOptions.args(List.of())).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("args");
            assertThatThrownBy(() -> SpecOptions.args("sh", null)).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("args");
            assertThatThrownBy(() -> SpecOptions.sysctl("kernel.panic", "1"))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("kernel.panic");
            assertThatThrownBy(() -> SpecOptions.addCapabilities("FLY")).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("FLY");
        }

        @Test
        void checksAcrossOptionsStillRunWhenTheSpecIsBuilt() {
            SpecBuilder b = SpecBuilder.defaults("c1");
            SpecOption.all(SpecOptions.args("sh"), SpecOptions.memorySwap(1 << 20)).apply(b);

            assertThatThrownBy(b::build).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("memorySwap").hasMessageContaining("memoryLimit");
        }
    }
}

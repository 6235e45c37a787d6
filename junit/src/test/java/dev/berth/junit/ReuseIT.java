package dev.berth.junit;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.testing.ChildJvm;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import org.junit.jupiter.api.Test;

/** withReuse(true): a container made by one JVM is found by the next with the same configuration. */
class ReuseIT {
    static BerthContainer<?> reusable(String marker) {
        return new BerthContainer<>(TestImages.busybox())
                .withCommand("sh", "-c", "echo reusable " + marker + "; exec sleep 600")
                .withReuse(true)
                .waitingFor(Wait.forLogMessage("^reusable", 1));
    }

    @Test
    void aContainerMadeByAnotherJvmIsReusedAndOutlivesIt() throws Exception {
        String marker = UUID.randomUUID().toString();
        String childId;
        try (ChildJvm child = ChildJvm.start(ReuseChild.class, childProperties(), marker)) {
            String[] line = child.awaitLine("ID ", Duration.ofSeconds(90)).split(" ");
            childId = line[1];
            assertThat(line[2]).isEqualTo("false");
            assertThat(child.waitForExit(Duration.ofSeconds(60))).isZero();
        }
        BerthContainer<?> again = reusable(marker);
        try {
            long start = System.nanoTime();
            again.start();
            assertThat(again.isReused()).isTrue();
            assertThat(again.id()).isEqualTo(childId);
            assertThat(again.logs()).contains("reusable " + marker);
            assertThat(again.exec("echo", "alive").stdout()).isEqualTo("alive\n");
            assertThat(Duration.ofNanos(System.nanoTime() - start)).isLessThan(Duration.ofSeconds(20)); // found, not created: no image work, no shim start

            BerthContainer<?> different = reusable(marker + "-other");
            different.start();
            try {
                assertThat(different.isReused()).isFalse();
                assertThat(different.id()).isNotEqualTo(childId);
            } finally {
                remove(different);
            }
        } finally {
            remove(again);
        }
    }

    static List<String> childProperties() {
        return List.of("-D" + BerthEnvironment.ROOT_PROPERTY + "=" + System.getProperty(BerthEnvironment.ROOT_PROPERTY),
                "-D" + BerthEnvironment.STATE_PROPERTY + "=" + System.getProperty(BerthEnvironment.STATE_PROPERTY),
                "-D" + BerthEnvironment.NAMESPACE_PROPERTY + "=" + System.getProperty(BerthEnvironment.NAMESPACE_PROPERTY));
    }

    /** A reused container outlives stop(); remove() takes it away for good. */
    private static void remove(BerthContainer<?> c) {
        var container = c.container();
        c.stop();
        assertThat(container.task()).hasValueSatisfying(t -> assertThat(t.isAlive()).isTrue());
        c.remove();
        assertThat(BerthEnvironment.namespace().containers().list()).noneMatch(x -> x.id().equals(container.id()));
        assertThat(BerthEnvironment.berth().stateDir().resolve("junit-reuse").resolve(container.id() + ".log"))
                .doesNotExist();
    }
}

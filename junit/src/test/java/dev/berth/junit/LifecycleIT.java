package dev.berth.junit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.NotFoundException;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.platform.launcher.core.LauncherFactory;
import org.junit.platform.launcher.listeners.SummaryGeneratingListener;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;
import static org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder.request;

/** Static @Container fields live for the class, instance ones for one test; both go even when a test fails. */
@BerthTest
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class LifecycleIT {
    @Container
    static BerthContainer<?> perClass = new BerthContainer<>(TestImages.busybox()).withCommand("sleep", "600");

    @Container
    BerthContainer<?> perTest = new BerthContainer<>(TestImages.busybox()).withCommand("sleep", "600");

    private static String perClassId;
    private static final List<String> perTestIds = new ArrayList<>();

    @Test
    @Order(1)
    void bothAreRunningBeforeTheFirstTest() {
        assertThat(perClass.isRunning()).isTrue();
        assertThat(perTest.isRunning()).isTrue();
        perClassId = perClass.id();
        perTestIds.add(perTest.id());
    }

    @Test
    @Order(2)
    void theClassContainerStaysAndEachTestGetsANewOneWhileTheLastIsGone() {
        assertThat(perClass.id()).isEqualTo(perClassId);
        assertThat(perTest.id()).isNotIn(perTestIds);
        assertThatThrownBy(() -> BerthEnvironment.namespace().containers().get(perTestIds.get(0)))
                .isInstanceOf(NotFoundException.class);
        assertThat(BerthEnvironment.namespace().snapshots().stat(perTest.id()).name()).isEqualTo(perTest.id());
        assertThatThrownBy(() -> BerthEnvironment.namespace().snapshots().stat(perTestIds.get(0)))
                .isInstanceOf(NotFoundException.class);
    }

    @Test
    @Order(3)
    void aFailingTestStillHasItsContainersRemoved() {
        SummaryGeneratingListener summary = new SummaryGeneratingListener();
        var launcher = LauncherFactory.create();
        launcher.execute(request().selectors(selectClass(FailingTest.class)).build(), summary);
        assertThat(summary.getSummary().getTotalFailureCount()).isEqualTo(1);
        assertThat(FailingTest.ids).hasSize(2);
        for (String id : FailingTest.ids) {
            assertThatThrownBy(() -> BerthEnvironment.namespace().containers().get(id))
                    .isInstanceOf(NotFoundException.class);
        }
    }

    /** Run only through the launcher above: its one test fails on purpose. */
    @BerthTest
    static class FailingTest {
        static final List<String> ids = new ArrayList<>();

        @Container
        static BerthContainer<?> shared = new BerthContainer<>(TestImages.busybox()).withCommand("sleep", "600");

        @Container
        BerthContainer<?> own = new BerthContainer<>(TestImages.busybox()).withCommand("sleep", "600");

        @Test
        void fails() {
            ids.add(shared.id());
            ids.add(own.id());
            throw new AssertionError("failing on purpose");
        }
    }
}

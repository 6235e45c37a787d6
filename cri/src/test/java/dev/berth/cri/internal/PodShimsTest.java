package dev.berth.cri.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PodShimsTest {
    /** Assigns {@code pod} and ends its sandbox's create at once, as a pod placed while no other starts. */
    private static java.util.Optional<String> placed(PodShims shims, String pod, java.util.function.Predicate<String> lost) {
        java.util.Optional<String> group = shims.assign(pod, lost);
        shims.created(group.orElse(null));
        return group;
    }

    @Test
    void withOnePodPerShimNoPodIsGrouped() {
        PodShims shims = new PodShims(1);
        assertThat(placed(shims, "a", p -> false)).isEmpty();
        assertThat(shims.snapshot()).isEmpty();
    }

    @Test
    void podsFillTheOldestGroupWithRoomThenStartAGroupNamedAfterTheirFirstPod() {
        PodShims shims = new PodShims(2);
        assertThat(placed(shims, "a", p -> false)).hasValue("berth-pods-a");
        assertThat(placed(shims, "b", p -> false)).hasValue("berth-pods-a");
        assertThat(placed(shims, "c", p -> false)).hasValue("berth-pods-c");
        shims.leave("berth-pods-a", "a");
        assertThat(placed(shims, "d", p -> false)).as("the freed place").hasValue("berth-pods-a");
        assertThat(shims.snapshot()).isEqualTo(Map.of("berth-pods-a", List.of("b", "d"), "berth-pods-c", List.of("c")));
    }

    @Test
    void aGroupItsLastPodLeftIsNeverJoinedAgain() {
        PodShims shims = new PodShims(3);
        placed(shims, "a", p -> false);
        shims.leave("berth-pods-a", "a");
        shims.leave("berth-pods-a", "a");
        assertThat(placed(shims, "b", p -> false)).hasValue("berth-pods-b");
    }

    @Test
    void aGroupWithAPodWhoseShimIsLostTakesNoNewPod() {
        PodShims shims = new PodShims(3);
        placed(shims, "a", p -> false);
        assertThat(placed(shims, "b", Set.of("a")::contains)).hasValue("berth-pods-b");
        assertThat(placed(shims, "c", p -> false)).as("no pod is lost now").hasValue("berth-pods-a");
    }

    @Test
    void recoveredPodsRefillTheirGroup() {
        PodShims shims = new PodShims(2);
        shims.recovered("berth-pods-x", "x");
        assertThat(placed(shims, "y", p -> false)).hasValue("berth-pods-x");
        assertThat(placed(shims, "z", p -> false)).hasValue("berth-pods-z");
    }

    @Test
    void podsArrivingWhileAShimCreatesGoToAnotherShimAndJoinItOnceItIsIdle() {
        PodShims shims = new PodShims(8, 1);
        assertThat(shims.assign("a", p -> false)).hasValue("berth-pods-a");
        assertThat(shims.assign("b", p -> false)).as("a's sandbox is still being created").hasValue("berth-pods-b");
        shims.created("berth-pods-a");
        try (PodShims.Busy busy = shims.creating("berth-pods-a")) {
            assertThat(shims.assign("c", p -> false)).as("a's shim creates a container").hasValue("berth-pods-c");
        }
        shims.created("berth-pods-b");
        shims.created("berth-pods-c");
        assertThat(placed(shims, "d", p -> false)).as("all idle: the oldest with room").hasValue("berth-pods-a");
        assertThat(shims.snapshot()).isEqualTo(Map.of("berth-pods-a", List.of("a", "d"), "berth-pods-b", List.of("b"),
                "berth-pods-c", List.of("c")));
    }

    @Test
    void byDefaultABurstOfPodsPutsTwoInEachShimSoNoneWaitsBehindMoreThanOneCreate() {
        PodShims shims = new PodShims(8);
        List<String> groups = new java.util.ArrayList<>();
        for (String pod : List.of("a", "b", "c", "d", "e")) {
            groups.add(shims.assign(pod, p -> false).orElseThrow());
        }
        assertThat(groups).containsExactly("berth-pods-a", "berth-pods-a", "berth-pods-c", "berth-pods-c",
                "berth-pods-e");
        try (PodShims.Busy container = shims.creating("berth-pods-e")) {
            assertThat(shims.assign("f", p -> false)).as("e's shim now has two creates").hasValue("berth-pods-f");
        }
        shims.created("berth-pods-a");
        assertThat(shims.assign("g", p -> false)).as("one create left in a's shim").hasValue("berth-pods-a");
    }

    @Test
    void withThreeCreatesPerShimABurstFillsShimsByThrees() {
        PodShims shims = new PodShims(8, 3);
        List<String> groups = new java.util.ArrayList<>();
        for (String pod : List.of("a", "b", "c", "d")) {
            groups.add(shims.assign(pod, p -> false).orElseThrow());
        }
        assertThat(groups).containsExactly("berth-pods-a", "berth-pods-a", "berth-pods-a", "berth-pods-d");
    }

    @Test
    void atLeastOnePodPerShim() {
        assertThatThrownBy(() -> new PodShims(0)).hasMessageContaining("at least 1");
        assertThatThrownBy(() -> new PodShims(8, 0)).hasMessageContaining("creates per shim must be at least 1");
    }
}

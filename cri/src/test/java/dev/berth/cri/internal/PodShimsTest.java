package dev.berth.cri.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

class PodShimsTest {
    @Test
    void withOnePodPerShimNoPodIsGrouped() {
        PodShims shims = new PodShims(1);
        assertThat(shims.assign("a", p -> false)).isEmpty();
        assertThat(shims.snapshot()).isEmpty();
    }

    @Test
    void podsFillTheOldestGroupWithRoomThenStartAGroupNamedAfterTheirFirstPod() {
        PodShims shims = new PodShims(2);
        assertThat(shims.assign("a", p -> false)).hasValue("berth-pods-a");
        assertThat(shims.assign("b", p -> false)).hasValue("berth-pods-a");
        assertThat(shims.assign("c", p -> false)).hasValue("berth-pods-c");
        shims.leave("berth-pods-a", "a");
        assertThat(shims.assign("d", p -> false)).as("the freed place").hasValue("berth-pods-a");
        assertThat(shims.snapshot()).isEqualTo(Map.of("berth-pods-a", List.of("b", "d"), "berth-pods-c", List.of("c")));
    }

    @Test
    void aGroupItsLastPodLeftIsNeverJoinedAgain() {
        PodShims shims = new PodShims(3);
        shims.assign("a", p -> false);
        shims.leave("berth-pods-a", "a");
        shims.leave("berth-pods-a", "a");
        assertThat(shims.assign("b", p -> false)).hasValue("berth-pods-b");
    }

    @Test
    void aGroupWithAPodWhoseShimIsLostTakesNoNewPod() {
        PodShims shims = new PodShims(3);
        shims.assign("a", p -> false);
        assertThat(shims.assign("b", Set.of("a")::contains)).hasValue("berth-pods-b");
        assertThat(shims.assign("c", p -> false)).as("no pod is lost now").hasValue("berth-pods-a");
    }

    @Test
    void recoveredPodsRefillTheirGroup() {
        PodShims shims = new PodShims(2);
        shims.recovered("berth-pods-x", "x");
        assertThat(shims.assign("y", p -> false)).hasValue("berth-pods-x");
        assertThat(shims.assign("z", p -> false)).hasValue("berth-pods-z");
    }

    @Test
    void atLeastOnePodPerShim() {
        assertThatThrownBy(() -> new PodShims(0)).hasMessageContaining("at least 1");
    }
}

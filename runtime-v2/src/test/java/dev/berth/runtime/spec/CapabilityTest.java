package dev.berth.runtime.spec;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.InvalidArgumentException;
import org.junit.jupiter.api.Test;

class CapabilityTest {
    @Test
    void parsesWithOrWithoutPrefixInAnyCase() {
        assertThat(Capability.parse("CAP_NET_RAW")).isEqualTo(Capability.NET_RAW);
        assertThat(Capability.parse("net_raw")).isEqualTo(Capability.NET_RAW);
        assertThat(Capability.parse("Cap_Sys_Admin")).isEqualTo(Capability.SYS_ADMIN);
    }

    @Test
    void unknownNameIsRejected() {
        assertThatThrownBy(() -> Capability.parse("CAP_NOPE")).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("CAP_NOPE");
    }

    @Test
    void numbersFollowTheKernelHeader() {
        assertThat(Capability.CHOWN.number()).isZero();
        assertThat(Capability.SYS_ADMIN.number()).isEqualTo(21);
        assertThat(Capability.CHECKPOINT_RESTORE.number()).isEqualTo(40);
        assertThat(Capability.values()).hasSize(41);
    }

    @Test
    void boundingSetIsReadFromProc() {
        assertThat(Capability.currentBoundingSet()).hasValueSatisfying(set -> assertThat(set).isNotEmpty());
    }
}

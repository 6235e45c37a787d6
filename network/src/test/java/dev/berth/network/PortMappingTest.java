package dev.berth.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.InvalidArgumentException;
import org.junit.jupiter.api.Test;

class PortMappingTest {
    @Test
    void parsesDockersForms() {
        assertThat(PortMapping.parse("80")).isEqualTo(new PortMapping("127.0.0.1", 0, 80, "tcp"));
        assertThat(PortMapping.parse("8080:80")).isEqualTo(new PortMapping("127.0.0.1", 8080, 80, "tcp"));
        assertThat(PortMapping.parse("0.0.0.0:53:53/udp")).isEqualTo(new PortMapping("0.0.0.0", 53, 53, "udp"));
        assertThat(PortMapping.parse("10.0.0.1::80")).isEqualTo(new PortMapping("10.0.0.1", 0, 80, "tcp"));
        assertThat(PortMapping.parse(PortMapping.parse("1.2.3.4:5:6/udp").toString()))
                .isEqualTo(PortMapping.parse("1.2.3.4:5:6/udp"));
    }

    @Test
    void rejectsWhatIsNotAMappingNamingIt() {
        assertThatThrownBy(() -> PortMapping.parse("80/sctp")).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("80/sctp");
        assertThatThrownBy(() -> PortMapping.parse("x:80")).isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> PortMapping.parse("70000")).isInstanceOf(InvalidArgumentException.class);
    }

    @Test
    void networkModesParse() {
        assertThat(NetworkMode.parse("none")).isEqualTo(NetworkMode.none());
        assertThat(NetworkMode.parse("host")).isEqualTo(NetworkMode.host());
        assertThat(NetworkMode.parse("container:web")).isEqualTo(NetworkMode.container("web"));
        assertThat(NetworkMode.parse("front")).isEqualTo(NetworkMode.network("front"));
        assertThatThrownBy(() -> NetworkMode.parse("bad name!")).isInstanceOf(InvalidArgumentException.class);
    }
}

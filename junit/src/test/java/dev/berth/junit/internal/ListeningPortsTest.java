package dev.berth.junit.internal;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class ListeningPortsTest {
    @Test
    void onlyListeningSocketsCountWithTheirLocalPort() {
        List<String> tcp = List.of(
                "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode",
                "   0: 00000000:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1",
                "   1: 0100007F:0050 0100007F:C350 01 00000000:00000000 00:00000000 00000000     0        0 2 1",
                "   2: 00000000000000000000000000000000:01BB 00000000000000000000000000000000:0000 0A 0:0 00:0 0 0 0 3 1");
        assertThat(ListeningPorts.parse(tcp)).containsExactly(443, 8080);
    }

    @Test
    void aHeaderAloneMeansNothingListens() {
        assertThat(ListeningPorts.parse(List.of("  sl  local_address rem_address   st"))).isEmpty();
    }
}

package dev.berth.api.oci.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.Digest;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.List;
import org.junit.jupiter.api.Test;

class ChainIdsTest {
    private static final Digest L0 = Digest.sha256("layer0".getBytes(StandardCharsets.UTF_8));
    private static final Digest L1 = Digest.sha256("layer1".getBytes(StandardCharsets.UTF_8));
    private static final Digest L2 = Digest.sha256("layer2".getBytes(StandardCharsets.UTF_8));

    private static String sha256Of(String s) throws Exception {
        return "sha256:" + HexFormat.of().formatHex(
                MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    }

    @Test
    void firstChainIdIsTheDiffIdAndEachNextHashesParentSpaceDiffId() throws Exception {
        String c1 = sha256Of(L0 + " " + L1);
        String c2 = sha256Of(c1 + " " + L2);
        assertThat(ChainIds.chainIds(List.of(L0, L1, L2))).extracting(Digest::toString)
                .containsExactly(L0.toString(), c1, c2);
        assertThat(ChainIds.chainId(List.of(L0, L1, L2)).toString()).isEqualTo(c2);
        assertThat(ChainIds.next(L0, L1).toString()).isEqualTo(c1);
    }

    @Test
    void singleLayerChainIdIsItsDiffId() {
        assertThat(ChainIds.chainId(List.of(L2))).isEqualTo(L2);
    }

    @Test
    void emptyStack() {
        assertThat(ChainIds.chainIds(List.of())).isEmpty();
        assertThatThrownBy(() -> ChainIds.chainId(List.of())).isInstanceOf(IllegalArgumentException.class);
    }

    @Test
    void sameStackPrefixSharesChainIds() {
        List<Digest> a = ChainIds.chainIds(List.of(L0, L1));
        List<Digest> b = ChainIds.chainIds(List.of(L0, L1, L2));
        assertThat(b.subList(0, 2)).isEqualTo(a);
        assertThat(ChainIds.chainIds(List.of(L1, L0)).get(1)).isNotEqualTo(a.get(1));
    }
}

package dev.berth.registry.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.Digest;
import dev.berth.api.InvalidArgumentException;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;
import org.junit.jupiter.api.Test;

class ReferenceTest {
    private static final String DIGEST = "sha256:" + "ab".repeat(32);

    @ParameterizedTest
    @CsvSource({
            "busybox, docker.io/library/busybox:latest",
            "busybox:1.36, docker.io/library/busybox:1.36",
            "library/busybox, docker.io/library/busybox:latest",
            "user/app:v2, docker.io/user/app:v2",
            "index.docker.io/library/busybox, docker.io/library/busybox:latest",
            "docker.io/busybox, docker.io/library/busybox:latest",
            "localhost/app, localhost/app:latest",
            "localhost:5000/app:1, localhost:5000/app:1",
            "127.0.0.1:5000/a/b/c:t, 127.0.0.1:5000/a/b/c:t",
            "ghcr.io/org/tool, ghcr.io/org/tool:latest",
            "Registry/app, Registry/app:latest",
    })
    void normalizesLikeDocker(String input, String expected) {
        assertThat(Reference.parse(input).toString()).isEqualTo(expected);
    }

    @Test
    void overlongTagIsRejected() {
        assertThatThrownBy(() -> Reference.parse("app:" + "t".repeat(200)))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("tag");
    }

    @Test
    void digestReferencesKeepTheTagAndUseTheDigestAsObject() {
        Reference r = Reference.parse("quay.io/x/y:1@" + DIGEST);
        assertThat(r.domain()).isEqualTo("quay.io");
        assertThat(r.path()).isEqualTo("x/y");
        assertThat(r.tag()).isEqualTo("1");
        assertThat(r.digest()).isEqualTo(Digest.parse(DIGEST));
        assertThat(r.object()).isEqualTo(DIGEST);
        assertThat(Reference.parse("busybox@" + DIGEST).tag()).isNull();
        assertThat(Reference.parse("busybox@" + DIGEST).toString()).isEqualTo("docker.io/library/busybox@" + DIGEST);
    }

    @ParameterizedTest
    @ValueSource(strings = {"", "UPPER", "a//b", "app:", "app:-bad", "app@sha256:123", "host:99999999x/app", "a/B/c"})
    void rejectsMalformedReferencesNamingThem(String input) {
        assertThatThrownBy(() -> Reference.parse(input))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("invalid image reference \"" + input + "\"");
    }
}

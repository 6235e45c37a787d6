package dev.berth.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.InvalidArgumentException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ImageReferenceTest {
    private static final String DIGEST = "sha256:" + "a".repeat(64);

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
            "busybox, docker.io/library/busybox:latest",
            "busybox:1.36, docker.io/library/busybox:1.36",
            "library/busybox, docker.io/library/busybox:latest",
            "docker.io/busybox, docker.io/library/busybox:latest",
            "index.docker.io/busybox:1, docker.io/library/busybox:1",
            "foo/bar:1, docker.io/foo/bar:1",
            "foo/bar/baz, docker.io/foo/bar/baz:latest",
            "localhost/x, localhost/x:latest",
            "localhost:5000/x, localhost:5000/x:latest",
            "localhost:5000/team/x:v2, localhost:5000/team/x:v2",
            "registry.example.com/app:1.0, registry.example.com/app:1.0",
            "ghcr.io/o/r:sha-1, ghcr.io/o/r:sha-1",
            "my-registry:443/a_b/c__d/e-f.g:t, my-registry:443/a_b/c__d/e-f.g:t",
    })
    void normalizesLikeContainerd(String input, String expected) {
        assertThat(ImageReference.normalize(input)).isEqualTo(expected);
    }

    @Test
    void digestReferencesDropTheTag() {
        assertThat(ImageReference.normalize("busybox@" + DIGEST)).isEqualTo("docker.io/library/busybox@" + DIGEST);
        assertThat(ImageReference.normalize("busybox:1@" + DIGEST)).isEqualTo("docker.io/library/busybox@" + DIGEST);
    }

    @Test
    void parseKeepsAbsentTagAbsentAndSplitsParts() {
        ImageReference ref = ImageReference.parse("localhost:5000/team/app");
        assertThat(ref.domain()).isEqualTo("localhost:5000");
        assertThat(ref.path()).isEqualTo("team/app");
        assertThat(ref.tag()).isNull();
        assertThat(ref.digest()).isNull();
        assertThat(ref.name()).isEqualTo("localhost:5000/team/app");
        ImageReference tagged = ImageReference.parse("busybox:1@" + DIGEST);
        assertThat(tagged.tag()).isEqualTo("1");
        assertThat(tagged.digest()).hasToString(DIGEST);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({
            "docker.io/library/busybox:latest, busybox:latest",
            "docker.io/foo/bar:1, foo/bar:1",
            "docker.io/library/a/b:1, library/a/b:1",
            "localhost:5000/x:1, localhost:5000/x:1",
    })
    void familiarIsDockersShortForm(String input, String expected) {
        assertThat(ImageReference.parse(input).familiar()).isEqualTo(expected);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "Busybox|must be lowercase",
            "foo/Bar|must be lowercase",
            "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa|64-byte hexadecimal",
            "busybox:|invalid reference",
            "busybox:bad/tag|invalid reference",
            "busybox@sha256:xyz|invalid reference",
            "-foo|invalid reference",
            "foo//bar|invalid reference",
            "''|invalid reference",
    })
    void rejectsInvalidReferences(String input, String message) {
        assertThatThrownBy(() -> ImageReference.parse(input))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining(message);
    }

    @Test
    void rejectsOverlongNames() {
        assertThatThrownBy(() -> ImageReference.parse("example.com/" + "a".repeat(250)))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("longer than 255");
    }
}

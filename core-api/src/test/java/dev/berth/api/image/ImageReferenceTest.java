package dev.berth.api.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.InvalidArgumentException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class ImageReferenceTest {
    private static final String DIGEST = "sha256:aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa";

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
    void aDigestWinsAndATagNextToItStaysInTheName() {
        assertThat(ImageReference.normalize("busybox@" + DIGEST)).isEqualTo("docker.io/library/busybox@" + DIGEST);
        assertThat(ImageReference.normalize("busybox:1@" + DIGEST)).isEqualTo("docker.io/library/busybox:1@" + DIGEST);
        ImageReference both = ImageReference.parse("busybox:1@" + DIGEST);
        assertThat(both.canonical()).hasToString("docker.io/library/busybox@" + DIGEST);
        assertThat(both.digestIfPresent()).map(Object::toString).contains(DIGEST);
        assertThat(both.familiar()).isEqualTo("busybox:1@" + DIGEST);
    }

    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource(delimiter = '|', value = {
            "busybox|docker.io/library/busybox:latest",
            "library/busybox|docker.io/library/busybox:latest",
            "docker.io/busybox|docker.io/library/busybox:latest",
            "docker.io/library/busybox|docker.io/library/busybox:latest",
            "index.docker.io/library/busybox|docker.io/library/busybox:latest",
            "index.docker.io/busybox:1|docker.io/library/busybox:1",
            "localhost:5000/a/b:tag|localhost:5000/a/b:tag",
            "localhost|docker.io/library/localhost:latest",
            "localhost:5000|docker.io/library/localhost:5000",
            "127.0.0.1:5000/img|127.0.0.1:5000/img:latest",
            "[::1]:5000/img:tag|[::1]:5000/img:tag",
            "[::1]/img|[::1]/img:latest",
            "[2001:db8::1]:443/team/app@" + DIGEST + "|[2001:db8::1]:443/team/app@" + DIGEST,
            "host:5000/x@" + DIGEST + "|host:5000/x@" + DIGEST,
            "Example.COM/app:V1|Example.COM/app:V1",
            "a-b.c/d:Tag_1.0-rc|a-b.c/d:Tag_1.0-rc",
            "foo/bar-baz__qux.x|docker.io/foo/bar-baz__qux.x:latest",
            "foo/a---b|docker.io/foo/a---b:latest",
    })
    void parsesLikeDistributionReference(String input, String expected) {
        assertThat(ImageReference.normalize(input)).isEqualTo(expected);
    }

    @Test
    void ipv6HostsKeepTheirBracketsAndPort() {
        ImageReference ref = ImageReference.parse("[::1]:5000/team/img:tag");
        assertThat(ref.domain()).isEqualTo("[::1]:5000");
        assertThat(ref.path()).isEqualTo("team/img");
        assertThat(ref.tag()).isEqualTo("tag");
        assertThat(ref.familiar()).isEqualTo("[::1]:5000/team/img:tag");
    }

    @Test
    void tagsMayBe128CharactersLong() {
        String longest = "T" + "a".repeat(127);
        assertThat(ImageReference.parse("busybox:" + longest).tag()).isEqualTo(longest);
        assertThatThrownBy(() -> ImageReference.parse("busybox:" + longest + "a"))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("bad tag");
        assertThatThrownBy(() -> ImageReference.parse("busybox:.hidden"))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("bad tag");
        assertThatThrownBy(() -> ImageReference.parse("busybox:-x"))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("bad tag");
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "busybox@sha256:abc|invalid digest \"sha256:abc\"",
            "busybox@sha256:" + "A" + "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa|lower-case hex",
            "busybox@md5:d41d8cd98f00b204e9800998ecf8427e|unsupported digest algorithm",
            "busybox@|invalid digest",
            "busybox@sha256|expected <algorithm>:<hex>",
    })
    void invalidDigestsAreRejectedSayingWhy(String input, String message) {
        assertThatThrownBy(() -> ImageReference.parse(input))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("invalid reference \"" + input + "\"")
                .hasMessageContaining(message);
    }

    @ParameterizedTest
    @CsvSource(delimiter = '|', value = {
            "docker.io/Library/busybox|must be lowercase",
            "example.com/Team/app:1|must be lowercase",
            "::1/img|bad registry domain",
            "[::1/img|bad registry domain",
            "[zz::1]:5000/img|bad registry domain",
            "example.com:port/img|bad registry domain",
            "foo/-bar|bad repository path",
            "foo/bar_|bad repository path",
            "foo/bar/|bad repository path",
            "/foo|bad repository path",
            ":tag|no repository name",
    })
    void rejectsMalformedNames(String input, String message) {
        assertThatThrownBy(() -> ImageReference.parse(input))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining(message);
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
            "busybox@sha256:xyz|invalid digest",
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

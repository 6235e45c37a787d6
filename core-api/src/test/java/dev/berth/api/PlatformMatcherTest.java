package dev.berth.api;

import static dev.berth.api.PlatformTest.raw;
import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

class PlatformMatcherTest {

    private static List<String> sorted(PlatformMatcher m, String... candidates) {
        List<Platform> list = new ArrayList<>(Arrays.stream(candidates).map(PlatformTest::raw).toList());
        list.sort(m);
        return list.stream().map(Platform::toString).toList();
    }

    @Nested
    class Only {
        @ParameterizedTest(name = "only({0}) matches {1}: {2}")
        @CsvSource({
                // amd64: itself, lower micro-architecture levels, then 386
                "linux/amd64,     linux/amd64,     true",
                "linux/amd64,     linux/x86_64,    true",
                "linux/amd64,     linux/amd64/v1,  true",
                "linux/amd64,     linux/386,       true",
                "linux/amd64,     linux/i386,      true",
                "linux/amd64,     linux/amd64/v2,  false",
                "linux/amd64,     linux/arm64,     false",
                "linux/amd64,     windows/amd64,   false",
                "linux/amd64/v3,  linux/amd64/v3,  true",
                "linux/amd64/v3,  linux/amd64/v2,  true",
                "linux/amd64/v3,  linux/amd64,     true",
                "linux/amd64/v3,  linux/386,       true",
                "linux/amd64/v3,  linux/amd64/v4,  false",
                // arm64: itself, then arm v8 down to v5
                "linux/arm64,     linux/arm64,     true",
                "linux/arm64,     linux/aarch64,   true",
                "linux/arm64,     linux/arm64/v8,  true",
                "linux/arm64,     linux/arm/v8,    true",
                "linux/arm64,     linux/arm/v7,    true",
                "linux/arm64,     linux/armhf,     true",
                "linux/arm64,     linux/arm,       true",
                "linux/arm64,     linux/arm/v6,    true",
                "linux/arm64,     linux/arm/v5,    true",
                "linux/arm64,     linux/amd64,     false",
                "linux/aarch64/8, linux/arm/v5,    true",
                // arm/vN: itself down to v5
                "linux/arm/v7,    linux/arm/v7,    true",
                "linux/arm/v7,    linux/arm,       true",
                "linux/arm/v7,    linux/arm/v6,    true",
                "linux/arm/v7,    linux/armel,     true",
                "linux/arm/v7,    linux/arm/v5,    true",
                "linux/arm/v7,    linux/arm/v8,    false",
                "linux/arm/v7,    linux/arm64,     false",
                "linux/arm/v6,    linux/arm/v7,    false",
                "linux/arm/v5,    linux/arm/v5,    true",
                "linux/arm/v5,    linux/arm/v6,    false",
                // others: only themselves
                "linux/ppc64le,   linux/ppc64le,   true",
                "linux/s390x,     linux/ppc64le,   false",
        })
        void compatibilityVectors(String wanted, String candidate, boolean expected) {
            assertThat(PlatformMatcher.only(raw(wanted)).matches(raw(candidate))).isEqualTo(expected);
        }

        @Test
        void amd64v3PrefersHigherLevelsThen386() {
            assertThat(sorted(PlatformMatcher.only(raw("linux/amd64/v3")),
                    "linux/386", "linux/arm64", "linux/amd64", "windows/amd64", "linux/amd64/v2", "linux/amd64/v3"))
                    .containsExactly("linux/amd64/v3", "linux/amd64/v2", "linux/amd64", "linux/386",
                            "linux/arm64", "windows/amd64");
        }

        @Test
        void arm64PrefersArm64ThenNewestArm() {
            assertThat(sorted(PlatformMatcher.only(raw("linux/arm64")),
                    "linux/arm/v5", "linux/arm/v7", "linux/amd64", "linux/arm64/v8", "linux/arm/v6", "linux/arm/v8"))
                    .containsExactly("linux/arm64/v8", "linux/arm/v8", "linux/arm/v7", "linux/arm/v6",
                            "linux/arm/v5", "linux/amd64");
        }

        @Test
        void bestPicksMostPreferredMatch() {
            PlatformMatcher m = PlatformMatcher.only(raw("linux/amd64"));
            assertThat(m.best(List.of(raw("linux/arm64"), raw("linux/386"), raw("linux/x86_64"))))
                    .contains(raw("linux/x86_64"));
            assertThat(m.best(List.of(raw("linux/arm64"), raw("linux/386")))).contains(raw("linux/386"));
            assertThat(m.best(List.of(raw("linux/arm64"), raw("windows/amd64")))).isEmpty();
            assertThat(m.best(List.of())).isEmpty();
        }

        @Test
        void comparatorIsConsistentForEquivalentSpellings() {
            PlatformMatcher m = PlatformMatcher.only(raw("linux/amd64"));
            assertThat(m.compare(raw("linux/x86_64"), raw("linux/amd64"))).isZero();
            assertThat(m.compare(raw("linux/arm64"), raw("windows/amd64"))).isZero();
            assertThat(m.compare(raw("linux/amd64"), raw("linux/386"))).isNegative();
            assertThat(m.compare(raw("linux/386"), raw("linux/amd64"))).isPositive();
            assertThat(m.compare(raw("linux/386"), raw("linux/arm64"))).isNegative();
        }
    }

    @Nested
    class Strict {
        @ParameterizedTest(name = "onlyStrict({0}) matches {1}: {2}")
        @CsvSource({
                "linux/amd64,     linux/amd64,    true",
                "linux/amd64,     linux/x86_64,   true",
                "linux/amd64,     linux/386,      false",
                "linux/arm64/v8,  linux/arm64,    true",
                "linux/arm64,     linux/arm/v7,   false",
                "linux/arm/v7,    linux/arm,      true",
                "linux/arm/v7,    linux/arm/v6,   false",
        })
        void matchesOnlyTheNormalizedPlatform(String wanted, String candidate, boolean expected) {
            assertThat(PlatformMatcher.onlyStrict(raw(wanted)).matches(raw(candidate))).isEqualTo(expected);
        }
    }

    @Nested
    class AnyAndAll {
        @Test
        void anyMatchesListedPlatformsOnlyAndPrefersEarlierOnes() {
            PlatformMatcher m = PlatformMatcher.any(raw("linux/arm64"), raw("linux/amd64"));
            assertThat(m.matches(raw("linux/aarch64"))).isTrue();
            assertThat(m.matches(raw("linux/amd64"))).isTrue();
            assertThat(m.matches(raw("linux/386"))).isFalse();
            assertThat(m.matches(raw("linux/arm/v7"))).isFalse();
            assertThat(sorted(m, "linux/386", "linux/amd64", "linux/arm64"))
                    .containsExactly("linux/arm64", "linux/amd64", "linux/386");
        }

        @Test
        void anyOfNothingMatchesNothing() {
            assertThat(PlatformMatcher.any().matches(raw("linux/amd64"))).isFalse();
        }

        @Test
        void allMatchesEverythingAndKeepsOrder() {
            PlatformMatcher m = PlatformMatcher.all();
            assertThat(m.matches(raw("plan9/mips"))).isTrue();
            assertThat(sorted(m, "linux/s390x", "linux/amd64", "windows/arm64"))
                    .containsExactly("linux/s390x", "linux/amd64", "windows/arm64");
        }
    }

    @Test
    void matchersDescribeThemselves() {
        assertThat(PlatformMatcher.only(raw("linux/x86_64")).toString()).isEqualTo("only(linux/amd64)");
        assertThat(PlatformMatcher.all().toString()).isEqualTo("all");
    }
}

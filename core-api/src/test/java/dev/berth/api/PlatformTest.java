package dev.berth.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;
import org.junit.jupiter.params.provider.ValueSource;

class PlatformTest {

    /** "os/arch[/variant]" without normalizing, so tests can feed raw spellings. */
    static Platform raw(String s) {
        String[] p = s.split("/", -1);
        return new Platform(p[0], p[1], p.length > 2 ? p[2] : "");
    }

    @Nested
    class Normalize {
        @ParameterizedTest(name = "{0} -> {1}")
        @CsvSource({
                "linux/x86_64,      linux/amd64",
                "linux/x86-64,      linux/amd64",
                "linux/AMD64,       linux/amd64",
                "linux/amd64/v1,    linux/amd64",
                "linux/x86_64/v1,   linux/amd64",
                "linux/amd64/v2,    linux/amd64/v2",
                "linux/amd64/V3,    linux/amd64/v3",
                "linux/i386,        linux/386",
                "linux/i386/foo,    linux/386",
                "linux/386,         linux/386",
                "linux/aarch64,     linux/arm64",
                "linux/arm64/v8,    linux/arm64",
                "linux/arm64/8,     linux/arm64",
                "linux/aarch64/v8,  linux/arm64",
                "linux/arm64/v9,    linux/arm64/v9",
                "linux/armhf,       linux/arm/v7",
                "linux/armhf/v6,    linux/arm/v7",
                "linux/armel,       linux/arm/v6",
                "linux/arm,         linux/arm/v7",
                "linux/arm/7,       linux/arm/v7",
                "linux/arm/5,       linux/arm/v5",
                "linux/arm/6,       linux/arm/v6",
                "linux/arm/8,       linux/arm/v8",
                "linux/arm/v6,      linux/arm/v6",
                "Linux/ARM64,       linux/arm64",
                "macos/arm64,       darwin/arm64",
                "MacOS/amd64,       darwin/amd64",
                "windows/amd64,     windows/amd64",
                "linux/ppc64le,     linux/ppc64le",
                "linux/riscv64,     linux/riscv64",
        })
        void normalizesLikeContainerd(String given, String expected) {
            assertThat(raw(given).normalize().toString()).isEqualTo(expected);
        }

        @Test
        void keepsOsVersionAndFeatures() {
            Platform p = new Platform("Windows", "x86_64", "", "10.0.17763.1", List.of("win32k"));
            assertThat(p.normalize()).isEqualTo(
                    new Platform("windows", "amd64", "", "10.0.17763.1", List.of("win32k")));
        }

        @Test
        void isIdempotent() {
            Platform once = raw("linux/armhf").normalize();
            assertThat(once.normalize()).isEqualTo(once);
        }
    }

    @Nested
    class Parse {
        @ParameterizedTest(name = "{0} -> {1}")
        @CsvSource({
                "linux/amd64,        linux/amd64",
                "linux/x86_64,       linux/amd64",
                "linux/arm64/v8,     linux/arm64",
                "linux/arm/v7,       linux/arm/v7",
                "linux/armhf,        linux/arm/v7",
                "linux/arm,          linux/arm/v7",
                "linux/arm/v6,       linux/arm/v6",
                "windows/amd64,      windows/amd64",
                "darwin/arm64,       darwin/arm64",
                "linux/amd64/v3,     linux/amd64/v3",
                "freebsd/riscv64,    freebsd/riscv64",
        })
        void parsesOsArchVariant(String specifier, String expected) {
            assertThat(Platform.parse(specifier).toString()).isEqualTo(expected);
        }

        @ParameterizedTest(name = "{0} -> <host os>/{1}")
        @CsvSource({
                "amd64,     amd64",
                "x86_64,    amd64",
                "aarch64,   arm64",
                "arm64,     arm64",
                "arm64/v8,  arm64",
                "arm/v6,    arm/v6",
                "arm/6,     arm/v6",
                "armel,     arm/v6",
                "386,       386",
                "s390x,     s390x",
        })
        void architectureAloneGetsHostOs(String specifier, String expectedArch) {
            assertThat(Platform.parse(specifier).toString())
                    .isEqualTo(Platform.host().os() + "/" + expectedArch);
        }

        @Test
        void osAloneGetsHostArchitecture() {
            Platform host = Platform.host();
            Platform p = Platform.parse("Linux");
            assertThat(p.os()).isEqualTo("linux");
            assertThat(p.architecture()).isEqualTo(host.architecture());
            assertThat(p.variant()).isEqualTo(host.variant());
            assertThat(Platform.parse("macos").os()).isEqualTo("darwin");
        }

        @ParameterizedTest
        @ValueSource(strings = {"", "/", "linux/", "/amd64", "linux//amd64", "linux/amd64/v8/x", "linux/*",
                "linux amd64", "linux/amd64 ", "linux/amd.64", "linux/amd64/v2/", "notanos"})
        void rejectsInvalidSpecifiersNamingThem(String specifier) {
            assertThatThrownBy(() -> Platform.parse(specifier))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("platform \"" + specifier + "\"");
        }

        @Test
        void unknownSingleWordSaysSo() {
            assertThatThrownBy(() -> Platform.parse("plan10"))
                    .hasMessageContaining("unknown operating system or architecture");
        }
    }

    @Nested
    class Host {
        @Test
        void hostIsNormalizedAndMatchesTheJvm() {
            Platform host = Platform.host();
            assertThat(host).isEqualTo(host.normalize());
            String osName = System.getProperty("os.name").toLowerCase();
            if (osName.startsWith("linux")) {
                assertThat(host.os()).isEqualTo("linux");
            }
            String expectedArch = PlatformSupport.goArch(System.getProperty("os.arch"));
            assertThat(host.architecture()).isEqualTo(expectedArch);
            if (!expectedArch.equals("arm") && !expectedArch.equals("arm64")) {
                assertThat(host.variant()).isEmpty();
            }
        }

        @Test
        void hostMatcherAcceptsHost() {
            assertThat(PlatformMatcher.host().matches(Platform.host())).isTrue();
        }

        @ParameterizedTest(name = "os.arch {0} -> {1}")
        @CsvSource({"amd64, amd64", "x86_64, amd64", "x86, 386", "i686, 386", "aarch64, arm64", "arm, arm",
                "ppc64le, ppc64le", "s390x, s390x", "riscv64, riscv64", "loongarch64, loong64"})
        void jvmArchitectureNamesMapToGoarch(String osArch, String goarch) {
            assertThat(PlatformSupport.goArch(osArch)).isEqualTo(goarch);
        }

        @ParameterizedTest(name = "os.name {0} -> {1}")
        @CsvSource({"Linux, linux", "Mac OS X, darwin", "Windows 11, windows", "FreeBSD, freebsd", "SunOS, solaris"})
        void jvmOsNamesMapToGoos(String osName, String goos) {
            assertThat(PlatformSupport.goOs(osName)).isEqualTo(goos);
        }

        @ParameterizedTest(name = "CPU architecture {0} -> {1}")
        @CsvSource({"8, v8", "AArch64, v8", "7, v7", "7M, v7", "?(12), v7", "6, v6", "6TEJ, v6", "5TE, v5",
                "4T, v4", "3, v3", "weird, ''"})
        void armVariantComesFromCpuinfo(String cpuArchitecture, String variant) {
            String cpuinfo = "processor\t: 0\nBogoMIPS\t: 38.40\nCPU architecture: " + cpuArchitecture
                    + "\nCPU variant\t: 0x0\n";
            assertThat(PlatformSupport.cpuVariantOf(cpuinfo)).isEqualTo(variant);
        }

        @Test
        void raspberryPiArmv6ReportingArchitecture7IsV6() {
            String cpuinfo = "model name\t: ARMv6-compatible processor rev 7 (v6l)\nCPU architecture: 7\n";
            assertThat(PlatformSupport.cpuVariantOf(cpuinfo)).isEqualTo("v6");
        }

        @Test
        void missingCpuinfoGivesNoVariant() {
            assertThat(PlatformSupport.cpuVariant(java.nio.file.Path.of("/nonexistent/cpuinfo"))).isEmpty();
            assertThat(PlatformSupport.cpuVariantOf("processor: 0\n")).isEmpty();
        }
    }

    @Test
    void toStringOmitsEmptyVariant() {
        assertThat(new Platform("linux", "amd64").toString()).isEqualTo("linux/amd64");
        assertThat(new Platform("linux", "arm", "v7").toString()).isEqualTo("linux/arm/v7");
    }

    @Test
    void recordDefaultsNullsToEmpty() {
        Platform p = new Platform("linux", "amd64", null, null, null);
        assertThat(p.variant()).isEmpty();
        assertThat(p.osVersion()).isEmpty();
        assertThat(p.osFeatures()).isEmpty();
        List<String> features = new ArrayList<>(List.of("a"));
        Platform q = new Platform("linux", "amd64", "", "", features);
        features.add("b");
        assertThat(q.osFeatures()).containsExactly("a");
    }
}

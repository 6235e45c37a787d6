package dev.berth.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.Random;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class DigestTest {
    private static final String EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
    private static final String ABC_SHA512 = "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
            + "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f";

    private static String jdkHex(String algorithm, byte[] data) throws Exception {
        return HexFormat.of().formatHex(MessageDigest.getInstance(algorithm).digest(data));
    }

    @Nested
    class Parsing {
        @Test
        void parsesSha256AndSha512() {
            Digest d = Digest.parse("sha256:" + EMPTY_SHA256);
            assertThat(d.algorithm()).isEqualTo("sha256");
            assertThat(d.hex()).isEqualTo(EMPTY_SHA256);
            assertThat(d.toString()).isEqualTo("sha256:" + EMPTY_SHA256);
            assertThat(Digest.parse("sha512:" + ABC_SHA512).algorithm()).isEqualTo("sha512");
        }

        @Test
        void rejectsUpperCaseHex() {
            assertThatThrownBy(() -> Digest.parse("sha256:" + EMPTY_SHA256.toUpperCase()))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining(EMPTY_SHA256.toUpperCase())
                    .hasMessageContaining("64 lower-case hex digits");
        }

        @ParameterizedTest
        @ValueSource(ints = {0, 1, 63, 65, 128})
        void rejectsWrongLengthForSha256(int length) {
            String hex = "a".repeat(length);
            assertThatThrownBy(() -> Digest.parse("sha256:" + hex))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("sha256:" + hex);
        }

        @Test
        void rejectsSha256LengthUnderSha512() {
            assertThatThrownBy(() -> Digest.parse("sha512:" + EMPTY_SHA256))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("128");
        }

        @ParameterizedTest
        @ValueSource(strings = {"md5:d41d8cd98f00b204e9800998ecf8427e",
                "SHA256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
                "sha384:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "blake3:abcd"})
        void rejectsUnknownAlgorithmsNamingThem(String value) {
            String algorithm = value.substring(0, value.indexOf(':'));
            assertThatThrownBy(() -> Digest.parse(value))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("\"" + algorithm + "\"");
        }

        @ParameterizedTest
        @ValueSource(strings = {"", ":", "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855", "sha256",
                "sha256:", ":e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"})
        void rejectsMissingColonOrParts(String value) {
            assertThatThrownBy(() -> Digest.parse(value))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("\"" + value + "\"");
        }

        static java.util.stream.Stream<String> notPureHex() {
            return java.util.stream.Stream.of("sha256:../../../../etc/passwd", "sha256:" + "g".repeat(64),
                    "sha256: " + "a".repeat(63), "sha256:" + "a".repeat(63) + "\n", "sha256:" + "a".repeat(64) + ":x",
                    "sha256:/" + "a".repeat(63));
        }

        @ParameterizedTest
        @org.junit.jupiter.params.provider.MethodSource("notPureHex")
        void rejectsAnythingThatIsNotPureHexSoItIsSafeAsAPath(String value) {
            assertThatThrownBy(() -> Digest.parse(value)).isInstanceOf(InvalidArgumentException.class);
        }

        @Test
        void equalityAndOrderingFollowAlgorithmThenHex() {
            Digest a = Digest.parse("sha256:" + "0".repeat(64));
            Digest b = Digest.parse("sha256:" + "f".repeat(64));
            Digest c = Digest.parse("sha512:" + "0".repeat(128));
            assertThat(a).isEqualTo(Digest.parse("sha256:" + "0".repeat(64)));
            assertThat(a).isLessThan(b);
            assertThat(b).isLessThan(c);
        }

        @Test
        void shortFormAndBytes() {
            Digest d = Digest.parse("sha256:" + EMPTY_SHA256);
            assertThat(d.shortForm()).isEqualTo("sha256:e3b0c44298fc");
            assertThat(d.bytes()).hasSize(32).isEqualTo(HexFormat.of().parseHex(EMPTY_SHA256));
        }

        @Test
        void supportedAlgorithms() {
            assertThat(Digest.isSupported("sha256")).isTrue();
            assertThat(Digest.isSupported("sha512")).isTrue();
            assertThat(Digest.isSupported("md5")).isFalse();
            assertThat(Digest.isSupported(null)).isFalse();
        }
    }

    @Nested
    class Computing {
        @Test
        void sha256OfBytesMatchesJdk() throws Exception {
            assertThat(Digest.sha256(new byte[0]).hex()).isEqualTo(EMPTY_SHA256);
            byte[] data = "hello berth".getBytes(StandardCharsets.UTF_8);
            assertThat(Digest.sha256(data).hex()).isEqualTo(jdkHex("SHA-256", data));
        }

        @Test
        void sha512OfBytesMatchesKnownValue() {
            assertThat(Digest.sha512("abc".getBytes(StandardCharsets.US_ASCII)).hex()).isEqualTo(ABC_SHA512);
            assertThat(Digest.of("sha512", "abc".getBytes(StandardCharsets.US_ASCII)).algorithm()).isEqualTo("sha512");
        }

        @Test
        void unknownAlgorithmForComputingIsInvalidArgument() {
            assertThatThrownBy(() -> Digest.of("md5", new byte[1])).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("md5");
            assertThatThrownBy(() -> Digester.of("sha1")).isInstanceOf(InvalidArgumentException.class);
        }
    }

    @Nested
    class Streaming {
        @Test
        void digestDoesNotDisturbRunningState() throws Exception {
            Digester d = Digester.sha256();
            d.update("hello ".getBytes(StandardCharsets.UTF_8), 0, 6);
            Digest partial = d.digest();
            assertThat(d.digest()).isEqualTo(partial);
            d.update("world".getBytes(StandardCharsets.UTF_8), 0, 5);
            assertThat(partial.hex()).isEqualTo(jdkHex("SHA-256", "hello ".getBytes(StandardCharsets.UTF_8)));
            assertThat(d.digest().hex()).isEqualTo(jdkHex("SHA-256", "hello world".getBytes(StandardCharsets.UTF_8)));
            assertThat(d.count()).isEqualTo(11);
        }

        @Test
        void byteBufferUpdateConsumesBufferAndCounts() {
            Digester d = Digester.of("sha512");
            ByteBuffer buf = ByteBuffer.wrap("xxabcxx".getBytes(StandardCharsets.US_ASCII), 2, 3);
            d.update(buf);
            assertThat(buf.remaining()).isZero();
            assertThat(d.count()).isEqualTo(3);
            assertThat(d.digest().hex()).isEqualTo(ABC_SHA512);
        }

        @Test
        void resetForgetsEverything() {
            Digester d = Digester.sha256();
            d.update(new byte[] {1, 2, 3}, 0, 3);
            d.reset();
            assertThat(d.count()).isZero();
            assertThat(d.digest().hex()).isEqualTo(EMPTY_SHA256);
        }

        @Test
        void digestingInputStreamHashesReadsAndSkips() throws Exception {
            byte[] data = new byte[100_000];
            new Random(7).nextBytes(data);
            try (DigestingInputStream in = new DigestingInputStream(new ByteArrayInputStream(data))) {
                assertThat(in.read()).isEqualTo(data[0] & 0xff);
                byte[] buf = new byte[1000];
                assertThat(in.read(buf, 0, 1000)).isEqualTo(1000);
                assertThat(in.skip(50_000)).isEqualTo(50_000);
                assertThat(in.count()).isEqualTo(51_001);
                assertThat(in.readAllBytes()).hasSize(data.length - 51_001);
                assertThat(in.read()).isEqualTo(-1);
                assertThat(in.skip(10)).isZero();
                assertThat(in.count()).isEqualTo(data.length);
                assertThat(in.digest().hex()).isEqualTo(jdkHex("SHA-256", data));
                assertThat(in.markSupported()).isFalse();
            }
        }

        @Test
        void skipStopsAtEndOfStream() throws IOException {
            DigestingInputStream in = new DigestingInputStream(new ByteArrayInputStream(new byte[10]));
            assertThat(in.skip(1_000_000)).isEqualTo(10);
            assertThat(in.count()).isEqualTo(10);
        }

        @Test
        void digestingInputStreamUsesGivenDigester() throws Exception {
            Digester sha512 = Digester.of("sha512");
            InputStream in = new DigestingInputStream(new ByteArrayInputStream("abc".getBytes(StandardCharsets.US_ASCII)),
                    sha512);
            in.readAllBytes();
            assertThat(sha512.digest().hex()).isEqualTo(ABC_SHA512);
        }
    }
}

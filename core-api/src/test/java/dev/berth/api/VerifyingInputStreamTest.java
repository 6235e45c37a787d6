package dev.berth.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.junit.jupiter.api.Test;

class VerifyingInputStreamTest {
    private static final byte[] DATA = "hello, blob".getBytes(StandardCharsets.US_ASCII);
    private static final Digest DIGEST = Digest.sha256(DATA);

    private static final VerifyingInputStream.Mismatch MISMATCH = new VerifyingInputStream.Mismatch() {
        @Override
        public IOException size(long actual) {
            return new IOException("size " + actual);
        }

        @Override
        public IOException digest(Digest actual) {
            return new IOException("digest " + actual);
        }
    };

    private static InputStream verifying(byte[] bytes, long size, Digest digest) {
        return new VerifyingInputStream(new ByteArrayInputStream(bytes), size, digest, MISMATCH);
    }

    @Test
    void matchingBytesReadToTheEndWithoutComplaint() throws IOException {
        try (InputStream in = verifying(DATA, DATA.length, DIGEST)) {
            assertThat(in.readAllBytes()).isEqualTo(DATA);
            assertThat(in.read()).isEqualTo(-1);
        }
    }

    @Test
    void aShortStreamFailsAtItsEndNamingTheSizeRead() {
        InputStream in = verifying(DATA, DATA.length + 1, DIGEST);

        assertThatThrownBy(in::readAllBytes).hasMessage("size " + DATA.length);
    }

    @Test
    void otherBytesOfTheRightSizeFailOnTheDigest() {
        byte[] other = DATA.clone();
        other[0] ^= 1;
        InputStream in = verifying(other, DATA.length, DIGEST);

        assertThatThrownBy(in::readAllBytes).hasMessage("digest " + Digest.sha256(other));
    }

    @Test
    void withoutADigestOnlyTheSizeIsChecked() throws IOException {
        byte[] other = DATA.clone();
        other[0] ^= 1;
        try (InputStream in = verifying(other, DATA.length, null)) {
            assertThat(in.skip(4)).isEqualTo(4);
            assertThat(in.readAllBytes()).hasSize(DATA.length - 4);
        }
    }
}

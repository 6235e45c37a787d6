package dev.berth.sys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.FailedPreconditionException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.Provider;
import java.util.Random;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LibCryptoSha256Test {
    static LibCryptoSha256 lib;
    static Provider provider;
    /** Sizes around SHA-256's 64-byte block, the 64 KiB copy chunk and beyond. */
    static final int[] SIZES = {0, 1, 55, 56, 63, 64, 65, 127, 128, 1000, 4095, 4096, 4097, 65535, 65536, 65537,
        200_000, 1 << 20, (1 << 20) + 3};

    @BeforeAll
    static void load() {
        lib = LibCryptoSha256.load(LibCryptoSha256.DEFAULT_LIBRARY);
        provider = lib.provider();
    }

    static MessageDigest jdk() throws Exception {
        return MessageDigest.getInstance("SHA-256", "SUN");
    }

    static MessageDigest ours() throws Exception {
        MessageDigest md = MessageDigest.getInstance("SHA-256", provider);
        assertThat(md.getProvider()).isSameAs(provider);
        return md;
    }

    @Nested
    class DigestsAsTheJdkDoes {
        final Random random = new Random(42);

        @Test
        void forByteArraysOfManySizes() throws Exception {
            for (int size : SIZES) {
                byte[] data = new byte[size + 7];
                random.nextBytes(data);
                MessageDigest md = ours();
                md.update(data, 3, size);
                assertThat(md.digest()).as("size %d", size).isEqualTo(digest(jdk(), data, 3, size));
            }
        }

        @Test
        void forDirectAndHeapBuffersWithAPositionAndALimit() throws Exception {
            for (int size : SIZES) {
                byte[] data = new byte[size + 20];
                random.nextBytes(data);
                ByteBuffer direct = ByteBuffer.allocateDirect(data.length).put(data);
                direct.position(9).limit(9 + size);
                ByteBuffer heap = ByteBuffer.wrap(data, 9, size);
                byte[] expected = digest(jdk(), data, 9, size);

                MessageDigest d = ours();
                d.update(direct);
                assertThat(direct.position()).isEqualTo(9 + size);
                assertThat(d.digest()).as("direct, size %d", size).isEqualTo(expected);
                MessageDigest h = ours();
                h.update(heap);
                assertThat(h.digest()).as("heap, size %d", size).isEqualTo(expected);
            }
        }

        @Test
        void forInputFedInRandomPiecesOfEveryKind() throws Exception {
            for (int round = 0; round < 20; round++) {
                byte[] data = new byte[random.nextInt(300_000)];
                random.nextBytes(data);
                MessageDigest md = ours();
                int at = 0;
                while (at < data.length) {
                    int n = Math.min(data.length - at, random.nextInt(70_000));
                    switch (random.nextInt(3)) {
                        case 0 -> md.update(data, at, n);
                        case 1 -> md.update(ByteBuffer.allocateDirect(n).put(data, at, n).flip());
                        default -> {
                            if (n > 0) {
                                md.update(data[at]);
                                n = 1;
                            }
                        }
                    }
                    at += n;
                }
                assertThat(md.digest()).as("round %d, %d bytes", round, data.length).isEqualTo(jdk().digest(data));
            }
        }

        @Test
        void afterADigestAndAfterAReset() throws Exception {
            MessageDigest md = ours();
            md.update(new byte[] {1, 2, 3});
            md.digest();
            assertThat(md.digest(new byte[] {4})).isEqualTo(jdk().digest(new byte[] {4}));
            md.update(new byte[] {5});
            md.reset();
            assertThat(md.digest()).isEqualTo(jdk().digest());
        }

        @Test
        void aCloneContinuesFromTheStateItWasTakenInAndLeavesTheOriginalAlone() throws Exception {
            byte[] head = new byte[100_000];
            byte[] tail = new byte[3333];
            random.nextBytes(head);
            random.nextBytes(tail);
            MessageDigest md = ours();
            md.update(head);
            MessageDigest copy = (MessageDigest) md.clone();
            assertThat(copy.digest()).isEqualTo(jdk().digest(head));
            md.update(tail);
            MessageDigest both = jdk();
            both.update(head);
            both.update(tail);
            assertThat(md.digest()).isEqualTo(both.digest());
        }
    }

    @Test
    void installedItIsWhatMessageDigestReturnsForSha256() throws Exception {
        lib.install();
        lib.install();
        try {
            assertThat(MessageDigest.getInstance("SHA-256").getProvider().getName()).isEqualTo(provider.getName());
            assertThat(MessageDigest.getInstance("SHA256").getProvider().getName()).isEqualTo(provider.getName());
            assertThat(java.security.Security.getProviders()).filteredOn(p -> p.getName().equals(provider.getName()))
                    .hasSize(1);
        } finally {
            java.security.Security.removeProvider(provider.getName());
        }
    }

    @Test
    void aMissingLibraryIsNamedWithThePackageThatShipsIt(@TempDir Path dir) {
        Path missing = dir.resolve("libcrypto.so.3");
        assertThatThrownBy(() -> LibCryptoSha256.load(missing))
                .isInstanceOf(FailedPreconditionException.class)
                .hasMessageContaining(missing.toString()).hasMessageContaining("libssl3");
    }

    @Test
    void aFileThatIsNoLibcryptoIsNamed(@TempDir Path dir) throws Exception {
        Path bogus = Files.writeString(dir.resolve("libcrypto.so.3"), "not an ELF file");
        assertThatThrownBy(() -> LibCryptoSha256.load(bogus))
                .isInstanceOf(FailedPreconditionException.class)
                .hasMessageContaining(bogus.toString());
    }

    private static byte[] digest(MessageDigest md, byte[] data, int offset, int length) {
        md.update(data, offset, length);
        return md.digest();
    }
}

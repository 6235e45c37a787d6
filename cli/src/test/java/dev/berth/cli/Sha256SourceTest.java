package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.FailedPreconditionException;
import dev.berth.api.InvalidArgumentException;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.Security;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code -Dberth.cli.sha256}: where the CLI's SHA-256 comes from. */
class Sha256SourceTest {
    @TempDir
    Path dir;

    @AfterEach
    void restoreTheJdkDigests() {
        System.clearProperty(Main.LIBCRYPTO_PROPERTY);
        Security.removeProvider("BerthLibCrypto");
    }

    @Test
    void autoPutsLibcryptoFirstWhenItLoads() throws Exception {
        Main.useLibCrypto("auto");

        assertThat(MessageDigest.getInstance("SHA-256").getProvider().getName()).isEqualTo("BerthLibCrypto");
        assertThat(MessageDigest.getInstance("SHA-256").digest("abc".getBytes()))
                .isEqualTo(MessageDigest.getInstance("SHA-256", "SUN").digest("abc".getBytes()));
    }

    @Test
    void autoKeepsTheJdksWhenLibcryptoIsMissing() throws Exception {
        System.setProperty(Main.LIBCRYPTO_PROPERTY, dir.resolve("libcrypto.so.3").toString());

        Main.useLibCrypto("auto");

        assertThat(MessageDigest.getInstance("SHA-256").getProvider().getName()).isEqualTo("SUN");
    }

    @Test
    void libcryptoFailsNamingTheMissingLibrary() {
        Path missing = dir.resolve("libcrypto.so.3");
        System.setProperty(Main.LIBCRYPTO_PROPERTY, missing.toString());

        assertThatThrownBy(() -> Main.useLibCrypto("libcrypto")).isInstanceOf(FailedPreconditionException.class)
                .hasMessageContaining(missing.toString());
    }

    @Test
    void anUnknownSourceIsNamed() {
        assertThatThrownBy(() -> Main.useLibCrypto("openssl")).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("\"openssl\"").hasMessageContaining("jdk, libcrypto or auto");
    }
}

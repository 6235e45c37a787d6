package dev.berth.registry.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.InvalidArgumentException;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.spec.ECGenParameterSpec;
import java.util.Base64;
import org.bouncycastle.openssl.jcajce.JcaPEMWriter;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class PemTest {
    @TempDir
    Path dir;

    private static String pem(Object o) throws Exception {
        StringWriter out = new StringWriter();
        try (JcaPEMWriter w = new JcaPEMWriter(out)) {
            w.writeObject(o);
        }
        return out.toString();
    }

    @Test
    void readsPkcs8AndPkcs1RsaKeys() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("RSA");
        g.initialize(1024);
        KeyPair keys = g.generateKeyPair();
        Path pkcs1 = Files.writeString(dir.resolve("rsa1.pem"), pem(keys.getPrivate())); // BEGIN RSA PRIVATE KEY
        assertThat(Files.readString(pkcs1)).contains("BEGIN RSA PRIVATE KEY");
        assertThat(Pem.privateKey(pkcs1).getEncoded()).isEqualTo(keys.getPrivate().getEncoded());

        Path pkcs8 = Files.writeString(dir.resolve("rsa8.pem"), "-----BEGIN PRIVATE KEY-----\n"
                + Base64.getMimeEncoder().encodeToString(keys.getPrivate().getEncoded())
                + "\n-----END PRIVATE KEY-----\n");
        assertThat(Pem.privateKey(pkcs8).getEncoded()).isEqualTo(keys.getPrivate().getEncoded());
    }

    @Test
    void ecKeyInSec1FormIsRejectedWithAConversionHint() throws Exception {
        KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
        g.initialize(new ECGenParameterSpec("secp256r1"));
        Path sec1 = Files.writeString(dir.resolve("ec.pem"), pem(g.generateKeyPair().getPrivate()));
        assertThatThrownBy(() -> Pem.privateKey(sec1)).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("EC PRIVATE KEY").hasMessageContaining("openssl pkcs8 -topk8");
    }

    @Test
    void fileWithoutCertificatesIsRejected() throws Exception {
        Path empty = Files.writeString(dir.resolve("empty.pem"), "nothing here\n");
        assertThatThrownBy(() -> Pem.certificates(empty)).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining(empty.toString());
        assertThatThrownBy(() -> Pem.privateKey(empty)).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("no private key");
    }
}

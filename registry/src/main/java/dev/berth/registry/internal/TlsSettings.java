package dev.berth.registry.internal;

import dev.berth.api.InvalidArgumentException;
import java.net.Socket;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManager;
import javax.net.ssl.TrustManagerFactory;
import javax.net.ssl.X509ExtendedTrustManager;
import javax.net.ssl.X509TrustManager;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * TLS settings of one registry host from {@code hosts.toml}: extra CA files (added to the JDK's trusted
 * roots, as containerd adds them to the system pool), client certificate/key pairs, and
 * {@code skip_verify}. Equal settings share one HTTP client.
 */
record TlsSettings(List<Path> caFiles, List<ClientPair> clientPairs, boolean skipVerify) {
    private static final Logger LOG = LoggerFactory.getLogger(TlsSettings.class);
    static final TlsSettings DEFAULT = new TlsSettings(List.of(), List.of(), false);

    /** A client certificate (chain) file and its key file; the key may sit in the certificate file. */
    record ClientPair(Path certificate, Path key) {
    }

    TlsSettings {
        caFiles = List.copyOf(caFiles);
        clientPairs = List.copyOf(clientPairs);
    }

    boolean isDefault() {
        return caFiles.isEmpty() && clientPairs.isEmpty() && !skipVerify;
    }

    SSLContext sslContext(String host) {
        try {
            SSLContext context = SSLContext.getInstance("TLS");
            context.init(keyManagers(), trustManagers(host), null);
            return context;
        } catch (GeneralSecurityException e) {
            throw new InvalidArgumentException("TLS settings for " + host + ": " + e.getMessage());
        }
    }

    private KeyManager[] keyManagers() throws GeneralSecurityException {
        if (clientPairs.isEmpty()) {
            return null;
        }
        KeyStore store = emptyStore();
        char[] password = new char[0];
        int i = 0;
        for (ClientPair pair : clientPairs) {
            List<X509Certificate> chain = Pem.certificates(pair.certificate());
            PrivateKey key = Pem.privateKey(pair.key());
            store.setKeyEntry("client-" + i++, key, password, chain.toArray(new X509Certificate[0]));
        }
        KeyManagerFactory factory = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
        factory.init(store, password);
        return factory.getKeyManagers();
    }

    private TrustManager[] trustManagers(String host) throws GeneralSecurityException {
        if (skipVerify) {
            LOG.warn("TLS verification is OFF for registry host {} (skip_verify): its certificate and name "
                    + "are not checked", host);
            return new TrustManager[] {new TrustAll()};
        }
        if (caFiles.isEmpty()) {
            return null;
        }
        KeyStore store = emptyStore();
        TrustManagerFactory system = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        system.init((KeyStore) null);
        int i = 0;
        for (TrustManager tm : system.getTrustManagers()) {
            if (tm instanceof X509TrustManager x) {
                for (X509Certificate c : x.getAcceptedIssuers()) {
                    store.setCertificateEntry("system-" + i++, c);
                }
            }
        }
        for (Path file : caFiles) {
            for (X509Certificate c : Pem.certificates(file)) {
                store.setCertificateEntry("ca-" + i++, c);
            }
        }
        TrustManagerFactory factory = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        factory.init(store);
        return factory.getTrustManagers();
    }

    private static KeyStore emptyStore() throws GeneralSecurityException {
        KeyStore store = KeyStore.getInstance("PKCS12");
        try {
            store.load(null, null);
        } catch (java.io.IOException e) {
            throw new GeneralSecurityException(e);
        }
        return store;
    }

    /**
     * Accepts any server certificate. Being an {@link X509ExtendedTrustManager}, it also takes over the
     * host name check (JSSE leaves endpoint identification to extended managers), so that is skipped too.
     */
    private static final class TrustAll extends X509ExtendedTrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) {
        }

        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}

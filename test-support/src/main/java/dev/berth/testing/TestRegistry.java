package dev.berth.testing;

import java.io.IOException;
import java.net.HttpURLConnection;
import java.net.ServerSocket;
import java.net.URI;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import javax.net.ssl.HttpsURLConnection;
import javax.net.ssl.SSLContext;

/**
 * A private Docker distribution registry (Debian's {@code docker-registry} 2.8, unpacked by
 * {@code scripts/install-deps} without starting its service) on 127.0.0.1 with a random port and its own
 * storage, configured by a generated YAML file, stopped by PID.
 */
public final class TestRegistry implements AutoCloseable {
    public static final Path BINARY = Path.of(System.getProperty("berth.registry.binary",
            "/opt/berth/docker-registry/usr/bin/docker-registry"));

    private final Path dir;
    private final Path storage;
    private final List<String> authYaml = new ArrayList<>();
    private String tlsYaml = "";
    private SSLContext clientTls;
    private int port;
    private Process process;

    private TestRegistry(Path dir) throws IOException {
        this.dir = dir;
        this.storage = Files.createDirectories(dir.resolve("storage"));
    }

    public static boolean available() {
        return Files.isExecutable(BINARY);
    }

    public static TestRegistry create(Path dir) throws IOException {
        return new TestRegistry(Files.createDirectories(dir));
    }

    public TestRegistry tls(Path certificate, Path key, SSLContext trustingClient) {
        tlsYaml = "  tls:\n    certificate: " + certificate + "\n    key: " + key + "\n";
        clientTls = trustingClient;
        return this;
    }

    public TestRegistry htpasswd(Path file) {
        authYaml.add("  htpasswd:\n    realm: berth-test\n    path: " + file + "\n");
        return this;
    }

    public TestRegistry token(String realm, String service, String issuer, Path rootCertBundle) {
        authYaml.add("  token:\n    realm: " + realm + "\n    service: " + service + "\n    issuer: " + issuer
                + "\n    rootcertbundle: " + rootCertBundle + "\n");
        return this;
    }

    /** Starts on a fresh port (or the previous one after {@link #stop()}). */
    public TestRegistry start() throws IOException, InterruptedException {
        if (port == 0) {
            port = freePort();
        }
        StringBuilder yaml = new StringBuilder();
        yaml.append("version: 0.1\n")
                .append("log:\n  level: warn\n  accesslog:\n    disabled: true\n")
                .append("storage:\n  filesystem:\n    rootdirectory: ").append(storage).append('\n')
                .append("  delete:\n    enabled: true\n")
                .append("http:\n  addr: 127.0.0.1:").append(port).append('\n')
                .append("  secret: berth-test-secret\n")
                .append(tlsYaml);
        if (!authYaml.isEmpty()) {
            yaml.append("auth:\n");
            authYaml.forEach(yaml::append);
        }
        Path config = dir.resolve("config.yml");
        Files.writeString(config, yaml);
        process = new ProcessBuilder(BINARY.toString(), "serve", config.toString())
                .redirectErrorStream(true)
                .redirectOutput(ProcessBuilder.Redirect.appendTo(dir.resolve("registry.log").toFile()))
                .start();
        waitUntilUp();
        return this;
    }

    private void waitUntilUp() throws IOException, InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(20).toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.isAlive()) {
                throw new IOException("docker-registry exited with " + process.exitValue() + ": "
                        + Files.readString(dir.resolve("registry.log")));
            }
            try {
                HttpURLConnection c = (HttpURLConnection) URI.create(base() + "/v2/").toURL().openConnection();
                if (c instanceof HttpsURLConnection https && clientTls != null) {
                    https.setSSLSocketFactory(clientTls.getSocketFactory());
                }
                c.setConnectTimeout(500);
                c.setReadTimeout(2000);
                int status = c.getResponseCode();
                c.disconnect();
                if (status == 200 || status == 401) {
                    return;
                }
            } catch (IOException e) {
                // not yet
            }
            Thread.sleep(50);
        }
        throw new IOException("docker-registry did not answer on " + base() + " within 20 s");
    }

    public static int freePort() throws IOException {
        try (ServerSocket s = new ServerSocket(0, 1, InetAddress.getByName("127.0.0.1"))) {
            return s.getLocalPort();
        }
    }

    public int port() {
        return port;
    }

    /** {@code 127.0.0.1:<port>}: the registry part of image references. */
    public String host() {
        return "127.0.0.1:" + port;
    }

    public String base() {
        return (tlsYaml.isEmpty() ? "http" : "https") + "://" + host();
    }

    public Path storage() {
        return storage;
    }

    /** The file the registry serves for a blob. */
    public Path blobData(dev.berth.api.Digest digest) {
        return storage.resolve("docker/registry/v2/blobs/" + digest.algorithm() + "/" + digest.hex().substring(0, 2)
                + "/" + digest.hex() + "/data");
    }

    public long pid() {
        return process.pid();
    }

    /** Stops the process (SIGTERM, then SIGKILL) and waits for it. */
    public void stop() throws InterruptedException {
        if (process != null && process.isAlive()) {
            process.destroy();
            if (!process.waitFor(5, TimeUnit.SECONDS)) {
                process.destroyForcibly();
                process.waitFor(5, TimeUnit.SECONDS);
            }
        }
    }

    public boolean running() {
        return process != null && process.isAlive();
    }

    @Override
    public void close() {
        try {
            stop();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

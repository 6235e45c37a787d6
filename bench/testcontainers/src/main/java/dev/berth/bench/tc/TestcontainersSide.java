package dev.berth.bench.tc;

import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.postgresql.PostgreSQLContainer;
import org.testcontainers.utility.DockerImageName;

/**
 * Testcontainers as its users write it: {@code GenericContainer} with an exposed port and the listening-port
 * wait ({@code Wait.forListeningPort()}: checked inside the container and from the host), and
 * {@code PostgreSQLContainer} (user, password and database test, {@code postgres -c fsync=off} are its
 * defaults). The Postgres image logs its ready line once (it needs no init pass), so the wait is that line
 * once instead of the official image's twice. Docker is reached through {@code DOCKER_HOST}; image names
 * from {@code bench.busybox} and {@code bench.postgres}.
 */
final class TestcontainersSide implements Side {
    private final DockerImageName busybox = DockerImageName.parse(System.getProperty("bench.busybox"));
    private final DockerImageName postgres = DockerImageName.parse(System.getProperty("bench.postgres", "none:none"))
            .asCompatibleSubstituteFor("postgres");

    @Override
    public String name() {
        return "testcontainers";
    }

    @Override
    public Running listening() {
        GenericContainer<?> c = new GenericContainer<>(busybox)
                .withCommand("httpd", "-f", "-p", "8080")
                .withExposedPorts(8080)
                .waitingFor(Wait.forListeningPort());
        c.start();
        return running(c, 8080);
    }

    @Override
    public Running postgres() {
        PostgreSQLContainer c = new PostgreSQLContainer(postgres)
                .waitingFor(Wait.forLogMessage(".*database system is ready to accept connections.*\\s", 1));
        c.start();
        return running(c, 5432);
    }

    private static Running running(GenericContainer<?> c, int containerPort) {
        String host = c.getHost();
        int port = c.getMappedPort(containerPort);
        return new Running() {
            @Override
            public String host() {
                return host;
            }

            @Override
            public int port() {
                return port;
            }

            @Override
            public void close() {
                c.stop();
            }
        };
    }

    @Override
    public void close() {
    }
}

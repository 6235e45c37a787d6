package dev.berth.bench.tc;

import dev.berth.junit.BerthContainer;
import dev.berth.junit.BerthEnvironment;
import dev.berth.junit.ImageSource;
import dev.berth.junit.postgres.PostgreSQLContainer;
import java.nio.file.Path;

/**
 * Berth's junit extension as a test author writes it: {@code BerthContainer} with {@code withExposedPorts(8080)}
 * and its default wait (every exposed port listening inside the container), and {@code PostgreSQLContainer}
 * (credentials {@code test}, {@code postgres -c fsync=off}; wait: the ready line once and 5432 listening).
 * The extension's shared Berth opens on {@code bench.root}/{@code bench.state}, namespace {@code bench-tc}
 * (the images the Berth side imported are found there by name; the archives are imported otherwise).
 */
final class JunitSide implements Side {
    private final ImageSource busybox;
    private final ImageSource postgres;

    JunitSide() {
        System.setProperty(BerthEnvironment.ROOT_PROPERTY, System.getProperty("bench.root"));
        System.setProperty(BerthEnvironment.STATE_PROPERTY, System.getProperty("bench.state"));
        System.setProperty(BerthEnvironment.NAMESPACE_PROPERTY, "bench-tc");
        busybox = ImageSource.archive(Path.of(System.getProperty("bench.busyboxArchive")), System.getProperty("bench.busybox"));
        postgres = ImageSource.archive(Path.of(System.getProperty("bench.postgresArchive")), System.getProperty("bench.postgres"));
    }

    @Override
    public String name() {
        return "berth-junit";
    }

    @Override
    public Running listening() {
        BerthContainer<?> c = new BerthContainer<>(busybox).withCommand("httpd", "-f", "-p", "8080").withExposedPorts(8080);
        c.start();
        return running(c, c.port(8080));
    }

    @Override
    public Running postgres() {
        PostgreSQLContainer c = new PostgreSQLContainer(postgres);
        c.start();
        return running(c, c.getMappedPort());
    }

    private static Running running(BerthContainer<?> c, int port) {
        return new Running() {
            @Override
            public String host() {
                return c.host();
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
        // the extension's shared Berth closes at JVM exit
    }
}

package dev.berth.junit.postgres;

import dev.berth.ExecOptions;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.task.RunResult;
import dev.berth.junit.BerthContainer;
import dev.berth.junit.ContainerLaunchException;
import dev.berth.junit.ImageSource;
import dev.berth.junit.Transferable;
import dev.berth.junit.Wait;
import dev.berth.testing.PostgresImage;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.regex.Pattern;

/**
 * A PostgreSQL server for a test, Testcontainers' {@code PostgreSQLContainer} without a Docker daemon or a
 * registry: by default the berth-testing kit's {@link PostgresImage} (PostgreSQL 15 made from the host's
 * Debian packages, built once and cached), run with {@code postgres -c fsync=off}, port {@value #POSTGRESQL_PORT}
 * published on 127.0.0.1, and ready once the server has logged {@value PostgresImage#READY_MESSAGE} and listens
 * on {@value #POSTGRESQL_PORT}.
 *
 * <pre>{@code
 * @BerthTest
 * class RepositoryIT {
 *     @Container
 *     static PostgreSQLContainer postgres = new PostgreSQLContainer()
 *             .withDatabaseName("shop").withUsername("app").withPassword("secret")
 *             .withInitScript("schema.sql");
 *
 *     @Test
 *     void ... (DriverManager.getConnection(postgres.getJdbcUrl(), postgres.getUsername(), postgres.getPassword()))
 * }
 * }</pre>
 *
 * <p>The credentials default to {@value PostgresImage#DEFAULT_USER}/{@value PostgresImage#DEFAULT_PASSWORD}/{@value
 * PostgresImage#DEFAULT_DATABASE} (Testcontainers' defaults, and the ones baked into the image, so the server starts
 * at once); other ones cost the image's entrypoint a fraction of a second. Another image with the official
 * {@code postgres} image's entrypoint contract can be given to {@link #PostgreSQLContainer(ImageSource)}.
 */
public class PostgreSQLContainer extends BerthContainer<PostgreSQLContainer> {
    /** The server's port in the container. */
    public static final int POSTGRESQL_PORT = PostgresImage.PORT;
    /** The JDBC driver's class (the driver itself, {@code org.postgresql:postgresql}, is the test's dependency). */
    public static final String DRIVER_CLASS_NAME = "org.postgresql.Driver";
    /** Where {@link #withInitScript} scripts are copied to. */
    static final String INIT_DIR = "/tmp/berth-init";

    private String databaseName = PostgresImage.DEFAULT_DATABASE;
    private String username = PostgresImage.DEFAULT_USER;
    private String password = PostgresImage.DEFAULT_PASSWORD;
    private final List<String> initScripts = new ArrayList<>();

    /** A server of the test kit's PostgreSQL 15 image ({@link PostgresImage}, built now if not cached). */
    public PostgreSQLContainer() {
        this(kitImage());
    }

    /** A server of {@code image}, which must follow the official {@code postgres} image's entrypoint contract. */
    public PostgreSQLContainer(ImageSource image) {
        super(image);
        withExposedPorts(POSTGRESQL_PORT);
        withCommand("postgres", "-c", "fsync=off");
        // The official image logs the line twice (after its socket-only init pass too); either way the second
        // condition holds only for the real server, which is the one listening on TCP.
        waitingFor(Wait.allOf(Wait.forLogMessage(Pattern.quote(PostgresImage.READY_MESSAGE), 1),
                Wait.forListeningPorts(POSTGRESQL_PORT)));
    }

    private static ImageSource kitImage() {
        PostgresImage.Archives pg = PostgresImage.builder().build();
        return ImageSource.archive(pg.ociArchive(), pg.name());
    }

    /** The database the test connects to (default {@value PostgresImage#DEFAULT_DATABASE}); made if it is not the baked one. */
    public PostgreSQLContainer withDatabaseName(String name) {
        requireNotStarted();
        this.databaseName = identifier("database name", name);
        return self();
    }

    /** The superuser the test connects as (default {@value PostgresImage#DEFAULT_USER}). */
    public PostgreSQLContainer withUsername(String name) {
        requireNotStarted();
        this.username = identifier("user name", name);
        return self();
    }

    /** The user's password (default {@value PostgresImage#DEFAULT_PASSWORD}). */
    public PostgreSQLContainer withPassword(String newPassword) {
        requireNotStarted();
        Objects.requireNonNull(newPassword, "password");
        if (newPassword.isEmpty()) {
            throw new InvalidArgumentException("the password must not be empty (TCP logins use scram-sha-256)");
        }
        this.password = newPassword;
        return self();
    }

    /**
     * A class path resource of SQL run with {@code psql} as the user in the database once the server is ready
     * (several run in the order given; the first error fails the start). Not run again on a reused container.
     *
     * @throws dev.berth.api.NotFoundException if there is no such resource
     */
    public PostgreSQLContainer withInitScript(String classpathResource) {
        requireNotStarted();
        Transferable script = Transferable.ofClasspathResource(classpathResource);   // fails now if missing
        String target = INIT_DIR + "/" + initScripts.size() + "-" + baseName(classpathResource);
        withCopyToContainer(script, target);
        initScripts.add(target);
        return self();
    }

    @Override
    protected void configure() {
        withEnv("POSTGRES_USER", username);
        withEnv("POSTGRES_PASSWORD", password);
        withEnv("POSTGRES_DB", databaseName);
    }

    @Override
    protected void containerIsStarted() {
        if (isReused()) {
            return;
        }
        for (String script : initScripts) {
            RunResult r;
            try {
                r = exec(ExecOptions.builder("psql", "-v", "ON_ERROR_STOP=1", "-q", "-U", username, "-d", databaseName,
                        "-f", script).build());
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw failed("interrupted while running init script " + script, e);
            }
            if (r.exitCode() != 0) {
                throw failed("init script " + script.substring(INIT_DIR.length() + 1) + " failed (psql exit "
                        + r.exitCode() + "): " + r.stderr().strip(), null);
            }
        }
    }

    private ContainerLaunchException failed(String message, Throwable cause) {
        ContainerLaunchException e = new ContainerLaunchException(message, cause);
        try {
            stop();
        } catch (RuntimeException stopFailure) {
            e.addSuppressed(stopFailure);
        }
        return e;
    }

    // ---------------------------------------------------------------- a started server

    /** {@code jdbc:postgresql://127.0.0.1:<published port>/<database>}. */
    public String getJdbcUrl() {
        return "jdbc:postgresql://" + host() + ":" + port(POSTGRESQL_PORT) + "/" + databaseName;
    }

    public String getUsername() {
        return username;
    }

    public String getPassword() {
        return password;
    }

    public String getDatabaseName() {
        return databaseName;
    }

    public String getDriverClassName() {
        return DRIVER_CLASS_NAME;
    }

    /** The host port {@value #POSTGRESQL_PORT} is published on ({@code port(POSTGRESQL_PORT)}). */
    public int getMappedPort() {
        return port(POSTGRESQL_PORT);
    }

    /** A query that proves a connection works. */
    public String getTestQueryString() {
        return "SELECT 1";
    }

    private void requireNotStarted() {
        if (id() != null) {
            throw new dev.berth.api.FailedPreconditionException("container " + id() + " has started; configure it before start()");
        }
    }

    private static String identifier(String what, String value) {
        Objects.requireNonNull(value, what);
        // the entrypoint quotes names as identifiers; PostgreSQL would cut one longer than 63 bytes
        if (value.isEmpty() || value.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > 63
                || value.indexOf('\0') >= 0) {
            throw new InvalidArgumentException(what + " \"" + value + "\" must be 1..63 bytes without NUL");
        }
        return value;
    }

    private static String baseName(String resource) {
        String name = resource.substring(resource.lastIndexOf('/') + 1);
        return name.replaceAll("[^A-Za-z0-9._-]", "_");
    }
}

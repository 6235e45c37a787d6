package dev.berth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.task.RunResult;
import dev.berth.api.task.Stdio;
import dev.berth.api.task.Task;
import dev.berth.network.NetworkInfo;
import dev.berth.testing.PostgresImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.awaitility.Awaitility;
import org.awaitility.core.ConditionTimeoutException;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The test kit's Postgres image run through the facade with a published port and reached by the JDBC
 * driver, as a test author would.
 */
class PostgresIT {
    private static final String SUFFIX = UUID.randomUUID().toString().substring(0, 6);
    private static TestRoots dirs;
    private static Berth berth;
    private static Namespace ns;
    private static PostgresImage.Archives image;

    @BeforeAll
    static void open() throws Exception {
        dirs = new TestRoots();
        berth = dirs.open();
        ns = berth.namespace("pg-" + SUFFIX);
        image = PostgresImage.builder().build();
        ns.importImage(image.ociArchive());
    }

    @AfterAll
    static void close() throws Exception {
        try {
            for (Task t : ns.tasks().list()) {
                t.delete(true);
            }
            for (Container c : ns.containers().list()) {
                c.delete();
            }
            for (NetworkInfo n : berth.networks().list()) {
                if (!n.name().equals("default")) {
                    berth.networks().remove(n.name());
                }
            }
            berth.close();
        } finally {
            dirs.close();
        }
    }

    private record Started(String id, int port, Path log, long startMillis) {
    }

    /** Runs the image with {@code env}, publishes 5432 and waits until {@code user} gets a connection. */
    private static Started start(String name, String user, String password, String db, String... env) throws Exception {
        String id = name + "-" + SUFFIX;
        Path log = dirs.root.resolve(id + ".log");
        long t0 = System.nanoTime();
        ns.run(image.name(), RunOptions.builder().id(id).env(env)
                .container(ContainerOptions.network("default"), ContainerOptions.publish(String.valueOf(PostgresImage.PORT)))
                .stdio(Stdio.file(log))
                .build());
        int port = ns.containers().get(id).port(PostgresImage.PORT);
        try {
            Awaitility.await().atMost(Duration.ofSeconds(60)).pollInterval(Duration.ofMillis(20)).ignoreExceptions()
                    .until(() -> {
                        try (Connection c = connect(port, user, password, db)) {
                            return selectOne(c) == 1;
                        }
                    });
        } catch (ConditionTimeoutException e) {
            throw new AssertionError("postgres in " + id + " did not accept " + user + " at 127.0.0.1:" + port
                    + "; task " + ns.containers().get(id).task().map(t -> t.state().toString()).orElse("gone")
                    + "; log:\n" + (Files.exists(log) ? Files.readString(log) : "(none)"), e);
        }
        return new Started(id, port, log, (System.nanoTime() - t0) / 1_000_000);
    }

    private static Connection connect(int port, String user, String password, String db) throws SQLException {
        return DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + port + "/" + db, user, password);
    }

    private static int selectOne(Connection c) throws SQLException {
        try (Statement s = c.createStatement(); ResultSet r = s.executeQuery("select 1")) {
            r.next();
            return r.getInt(1);
        }
    }

    private static void stop(String id) {
        Container c = ns.containers().get(id);
        c.task().ifPresent(t -> t.delete(true));
        c.delete();
    }

    @Test
    void selectOneAndATableRoundTripThroughThePublishedPortWithTheBakedCredentials() throws Exception {
        Started pg = start("pg", "test", "test", "test",
                "POSTGRES_USER=test", "POSTGRES_PASSWORD=test", "POSTGRES_DB=test");
        System.out.printf("postgres container to select 1: %d ms%n", pg.startMillis());

        try (Connection c = connect(pg.port(), "test", "test", "test"); Statement s = c.createStatement()) {
            assertThat(selectOne(c)).isEqualTo(1);
            s.execute("create table berths (id int primary key, harbour text not null)");
            s.executeUpdate("insert into berths values (1, 'Hamburg'), (2, 'Rotterdam')");
            List<String> rows = new ArrayList<>();
            try (ResultSet r = s.executeQuery("select id, harbour from berths order by id")) {
                while (r.next()) {
                    rows.add(r.getInt(1) + ":" + r.getString(2));
                }
            }
            assertThat(rows).containsExactly("1:Hamburg", "2:Rotterdam");
            try (ResultSet r = s.executeQuery("show server_version")) {
                r.next();
                assertThat(r.getString(1)).startsWith("15.");
            }
        }
        assertThat(Files.readString(pg.log())).containsOnlyOnce(PostgresImage.READY_MESSAGE);
        assertThatThrownBy(() -> connect(pg.port(), "test", "wrong", "test").close())
                .isInstanceOf(SQLException.class).hasMessageContaining("password authentication failed");
        stop(pg.id());
    }

    @Test
    void otherCredentialsAndDatabaseAreAppliedBeforeTheServerAcceptsConnections() throws Exception {
        String password = "it's \"quoted\"";
        Started pg = start("pg-alice", "alice", password, "shop",
                "POSTGRES_USER=alice", "POSTGRES_PASSWORD=" + password, "POSTGRES_DB=shop");
        try (Connection c = connect(pg.port(), "alice", password, "shop"); Statement s = c.createStatement();
             ResultSet r = s.executeQuery("select current_user, current_database(),"
                     + " (select rolsuper from pg_roles where rolname = current_user),"
                     + " (select count(*) from pg_database where datname = 'test')")) {
            r.next();
            assertThat(r.getString(1)).isEqualTo("alice");
            assertThat(r.getString(2)).isEqualTo("shop");
            assertThat(r.getBoolean(3)).isTrue();
            assertThat(r.getInt(4)).isZero();
        }
        assertThatThrownBy(() -> connect(pg.port(), "test", "test", "test").close()).isInstanceOf(SQLException.class);
        stop(pg.id());
    }

    @Test
    void trustNeedsNoPasswordAndTheDefaultUserIsPostgres() throws Exception {
        Started pg = start("pg-trust", "postgres", "", "postgres", "POSTGRES_HOST_AUTH_METHOD=trust");
        try (Connection c = connect(pg.port(), "postgres", "anything", "postgres")) {
            assertThat(selectOne(c)).isEqualTo(1);
        }
        stop(pg.id());
    }

    @Test
    void withoutAPasswordTheContainerExitsSayingWhatIsMissing() throws Exception {
        RunResult result = ns.runAndWait(image.name(), RunOptions.builder().id("pg-nopw-" + SUFFIX).rm(true).build());
        assertThat(result.exitCode()).as(result.toString()).isEqualTo(1);
        assertThat(result.stderr()).contains("POSTGRES_PASSWORD is not set");
    }

    @Test
    void aSecondBuildIsACacheHitWithTheSameDigest() {
        long t0 = System.nanoTime();
        PostgresImage.Archives again = PostgresImage.builder().build();
        long millis = (System.nanoTime() - t0) / 1_000_000;
        assertThat(again.builtNow()).isFalse();
        assertThat(again.manifestDigest()).isEqualTo(image.manifestDigest());
        assertThat(millis).as("cache hit in ms").isLessThan(1000);
    }
}

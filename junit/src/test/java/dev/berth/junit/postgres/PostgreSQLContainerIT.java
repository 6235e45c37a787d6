package dev.berth.junit.postgres;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.FailedPreconditionException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.NotFoundException;
import dev.berth.junit.BerthTest;
import dev.berth.junit.Container;
import dev.berth.junit.ContainerLaunchException;
import dev.berth.testing.PostgresImage;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The ready-made PostgreSQL container reached with the JDBC driver, as a test author uses it. */
@BerthTest
class PostgreSQLContainerIT {
    @Container
    static PostgreSQLContainer defaults = new PostgreSQLContainer();

    @Container
    static PostgreSQLContainer custom = new PostgreSQLContainer()
            .withDatabaseName("shop")
            .withUsername("app")
            .withPassword("s3cret 'quoted'")
            .withInitScript("postgres/schema.sql");

    private static Connection connect(PostgreSQLContainer pg) throws SQLException {
        return DriverManager.getConnection(pg.getJdbcUrl(), pg.getUsername(), pg.getPassword());
    }

    private static List<String> column(Connection c, String sql) throws SQLException {
        List<String> out = new ArrayList<>();
        try (Statement st = c.createStatement(); ResultSet rs = st.executeQuery(sql)) {
            while (rs.next()) {
                out.add(rs.getString(1));
            }
        }
        return out;
    }

    @Nested
    class WithTheDefaults {
        @Test
        void answersSelectOneAtTheJdbcUrlWithTestCredentials() throws Exception {
            assertThat(defaults.getJdbcUrl())
                    .isEqualTo("jdbc:postgresql://127.0.0.1:" + defaults.port(5432) + "/test");
            assertThat(defaults.getMappedPort()).isEqualTo(defaults.port(PostgreSQLContainer.POSTGRESQL_PORT));
            assertThat(List.of(defaults.getUsername(), defaults.getPassword(), defaults.getDatabaseName()))
                    .containsExactly("test", "test", "test");
            try (Connection c = connect(defaults)) {
                assertThat(column(c, defaults.getTestQueryString())).containsExactly("1");
            }
        }

        @Test
        void keepsWhatIsCreatedInsertedAndSelected() throws Exception {
            try (Connection c = connect(defaults); Statement st = c.createStatement()) {
                st.execute("CREATE TABLE round_trip (id int PRIMARY KEY, word text)");
                assertThat(st.executeUpdate("INSERT INTO round_trip VALUES (1, 'one'), (2, 'zwei'), (3, 'três')"))
                        .isEqualTo(3);
            }
            try (Connection c = connect(defaults)) {   // a second connection sees the committed rows
                assertThat(column(c, "SELECT word FROM round_trip ORDER BY id")).containsExactly("one", "zwei", "três");
            }
        }

        @Test
        void loggedTheReadyLineOnceAndRunsFsyncOff() throws Exception {
            assertThat(defaults.logLines()).filteredOn(l -> l.contains(PostgresImage.READY_MESSAGE)).hasSize(1);
            try (Connection c = connect(defaults)) {
                assertThat(column(c, "SHOW fsync")).containsExactly("off");
            }
        }

        @Test
        void refusesAWrongPassword() {
            assertThatThrownBy(() -> DriverManager.getConnection(defaults.getJdbcUrl(), "test", "wrong"))
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("password authentication failed");
        }
    }

    @Nested
    class WithItsOwnUserDatabaseAndPassword {
        @Test
        void connectsAsThatUserToThatDatabase() throws Exception {
            assertThat(custom.getJdbcUrl()).endsWith("/shop");
            try (Connection c = connect(custom)) {
                assertThat(column(c, "SELECT current_user || '@' || current_database()")).containsExactly("app@shop");
                assertThat(column(c, "SELECT rolsuper::text FROM pg_roles WHERE rolname = current_user"))
                        .containsExactly("true");
            }
        }

        @Test
        void ranTheInitScriptBeforeTheTests() throws Exception {
            try (Connection c = connect(custom)) {
                assertThat(column(c, "SELECT name FROM fruit ORDER BY id")).containsExactly("apple", "pear");
            }
        }

        @Test
        void refusesTheDefaultCredentials() {
            assertThatThrownBy(() -> DriverManager.getConnection(custom.getJdbcUrl(), "test", "test"))
                    .isInstanceOf(SQLException.class);
        }
    }

    @Nested
    class Misuse {
        @Test
        void aFailingInitScriptFailsTheStartWithPsqlsErrorAndLeavesNoContainer() {
            PostgreSQLContainer broken = new PostgreSQLContainer().withInitScript("postgres/broken.sql");
            assertThatThrownBy(broken::start)
                    .isInstanceOf(ContainerLaunchException.class)
                    .hasMessageContaining("init script 0-broken.sql failed")
                    .hasMessageContaining("no_such_table");
            assertThat(broken.isRunning()).isFalse();
            assertThat(broken.id()).isNull();
        }

        @Test
        void aMissingInitScriptIsNamedAtOnce() {
            assertThatThrownBy(() -> new PostgreSQLContainer().withInitScript("postgres/nope.sql"))
                    .isInstanceOf(NotFoundException.class)
                    .hasMessageContaining("postgres/nope.sql");
        }

        @Test
        void badNamesAndPasswordsAreRefused() {
            PostgreSQLContainer pg = new PostgreSQLContainer();
            assertThatThrownBy(() -> pg.withDatabaseName("")).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("database name");
            assertThatThrownBy(() -> pg.withUsername("x".repeat(64))).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("user name");
            assertThatThrownBy(() -> pg.withPassword("")).isInstanceOf(InvalidArgumentException.class);
        }

        @Test
        void aStartedContainerCannotBeReconfigured() {
            assertThatThrownBy(() -> defaults.withDatabaseName("other"))
                    .isInstanceOf(FailedPreconditionException.class);
        }
    }
}

package dev.berth.examples;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.junit.BerthTest;
import dev.berth.junit.Container;
import dev.berth.junit.postgres.PostgreSQLContainer;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

/**
 * A test author's PostgreSQL test: one server for the class (the test kit's PostgreSQL 15 image, no registry),
 * a schema from the class path, and plain JDBC against {@code getJdbcUrl()}.
 */
@BerthTest
class PostgresExampleIT {
    @Container
    static PostgreSQLContainer postgres = new PostgreSQLContainer()
            .withDatabaseName("shop")
            .withUsername("shopkeeper")
            .withPassword("keep-it-secret")
            .withInitScript("shop-schema.sql");

    private static Connection connect() throws SQLException {
        return DriverManager.getConnection(postgres.getJdbcUrl(), postgres.getUsername(), postgres.getPassword());
    }

    @Test
    void findsTheProductsTheSchemaInserted() throws Exception {
        try (Connection c = connect();
             PreparedStatement q = c.prepareStatement("SELECT name FROM product WHERE cents < ? ORDER BY sku")) {
            q.setInt(1, 5000);
            try (ResultSet rs = q.executeQuery()) {
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("anchor");
                assertThat(rs.next()).isTrue();
                assertThat(rs.getString(1)).isEqualTo("rope");
                assertThat(rs.next()).isFalse();
            }
        }
    }

    @Test
    void aPriceBelowZeroIsRefusedByTheDatabase() throws Exception {
        try (Connection c = connect();
             PreparedStatement insert = c.prepareStatement("INSERT INTO product VALUES (?, ?, ?)")) {
            insert.setString(1, "X-0");
            insert.setString(2, "free lunch");
            insert.setInt(3, -1);
            org.assertj.core.api.Assertions.assertThatThrownBy(insert::executeUpdate)
                    .isInstanceOf(SQLException.class)
                    .hasMessageContaining("product_cents_check");
        }
    }
}

package dev.berth.metadata.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetaDbTest {
    @TempDir
    Path tmp;

    private static String pragma(Path file, String name) throws Exception {
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + file);
             Statement st = c.createStatement(); ResultSet rs = st.executeQuery("PRAGMA " + name)) {
            rs.next();
            return rs.getString(1);
        }
    }

    @Test
    void newDatabaseIsInWalModeAtTheCurrentSchemaVersion() throws Exception {
        Path file = tmp.resolve("meta.db");
        MetaDb.open(file, Duration.ofSeconds(5)).close();
        assertThat(pragma(file, "journal_mode")).isEqualTo("wal");
        assertThat(pragma(file, "user_version")).isEqualTo(String.valueOf(MetaDb.SCHEMA_VERSION));
    }

    @Test
    void nestedWritesJoinTheOuterTransaction() {
        try (MetaDb db = MetaDb.open(tmp.resolve("meta.db"), Duration.ofSeconds(5))) {
            long seqs = db.write(tx -> {
                long a = MetaDb.nextSequence(tx, "s");
                long b = db.write(inner -> MetaDb.nextSequence(inner, "s"));
                return a * 10 + b;
            });
            assertThat(seqs).isEqualTo(12);
            assertThatThrownBy(() -> db.read(tx -> db.write(inner -> MetaDb.nextSequence(inner, "s"))))
                    .isInstanceOf(IllegalStateException.class)
                    .hasMessageContaining("inside a read transaction");
        }
    }
}

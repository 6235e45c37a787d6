package dev.berth.metadata.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class MetaDbTest {
    @TempDir
    Path tmp;

    @Test
    void newDatabaseIsInWalModeAtTheCurrentSchemaVersion() {
        try (MetaDb db = MetaDb.open(tmp.resolve("meta.db"), Duration.ofSeconds(5))) {
            String mode = db.read(tx -> tx.one("PRAGMA journal_mode", rs -> rs.getString(1)).orElseThrow());
            long version = db.read(tx -> tx.count("PRAGMA user_version"));

            assertThat(mode).isEqualTo("wal");
            assertThat(version).isEqualTo(MetaDb.SCHEMA_VERSION);
        }
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

package dev.berth.snapshot;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.Map;
import java.util.List;
import java.util.TreeMap;

/** Reads a snapshotter root behind its back: the records in metadata.db and the directories on disk. */
final class RootInspector {
    private RootInspector() {
    }

    /** Snapshot ids and their keys, straight from SQLite. */
    static Map<Long, String> records(Path root) throws Exception {
        Map<Long, String> out = new TreeMap<>();
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + root.resolve("metadata.db"));
             Statement st = c.createStatement();
             ResultSet rs = st.executeQuery("SELECT id, key FROM snapshots")) {
            while (rs.next()) {
                out.put(rs.getLong(1), rs.getString(2));
            }
        }
        return out;
    }

    static List<String> entries(Path root) throws Exception {
        List<String> out = new ArrayList<>();
        try (DirectoryStream<Path> ds = Files.newDirectoryStream(root.resolve("snapshots"))) {
            ds.forEach(p -> out.add(p.getFileName().toString()));
        }
        out.sort(null);
        return out;
    }

    /** Every record has its directory (all snapshots in these tests own one). */
    static void assertEveryRecordHasItsDirectory(Path root) throws Exception {
        for (Map.Entry<Long, String> r : records(root).entrySet()) {
            assertThat(root.resolve("snapshots").resolve(Long.toString(r.getKey())))
                    .as("directory of snapshot " + r.getValue()).isDirectory();
        }
    }

    /** After cleanup: exactly one directory per record, nothing else. */
    static void assertNoLeftovers(Path root) throws Exception {
        List<String> expected = new ArrayList<>();
        records(root).keySet().forEach(id -> expected.add(Long.toString(id)));
        expected.sort(null);
        assertThat(entries(root)).isEqualTo(expected);
    }
}

package dev.berth.testing;

import dev.berth.sys.FileTrees;
import java.io.IOException;
import java.nio.file.Path;

/** File helpers tests and benchmarks share. */
public final class TestFiles {
    private TestFiles() {
    }

    /**
     * Deletes {@code path} and, for a directory, everything below it, with Berth's own delete
     * ({@link FileTrees#deleteTree}): symbolic links are removed, not followed, and a mount point inside
     * is refused. Nothing happens if {@code path} is null (a set-up that failed before creating it) or
     * does not exist.
     */
    public static void deleteTree(Path path) throws IOException {
        FileTrees.deleteTree(path);
    }
}

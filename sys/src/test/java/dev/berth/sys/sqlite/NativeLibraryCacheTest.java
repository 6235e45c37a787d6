package dev.berth.sys.sqlite;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NativeLibraryCacheTest {
    private static final String RESOURCE = "org/sqlite/native/Linux/"
            + (System.getProperty("os.arch").equals("aarch64") ? "aarch64" : "x86_64") + "/libsqlitejdbc.so";

    @TempDir
    Path dir;

    @Test
    void theLibraryIsCopiedOnceByteForByteWithPrivateModes() throws Exception {
        Optional<Path> first = NativeLibraryCache.cached(dir);

        assertThat(first).isPresent();
        Path lib = first.get();
        assertThat(lib.getParent()).isEqualTo(dir.resolve(".sqlite-native"));
        byte[] expected;
        try (InputStream in = org.sqlite.JDBC.class.getClassLoader().getResourceAsStream(RESOURCE)) {
            expected = in.readAllBytes();
        }
        assertThat(Files.readAllBytes(lib)).isEqualTo(expected);
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(lib))).isEqualTo("r-x------");
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(lib.getParent()))).isEqualTo("rwx------");
        try (var files = Files.list(lib.getParent())) {
            assertThat(files).containsExactly(lib); // no temporary file left
        }
    }

    @Test
    void aLaterJvmFindsTheCopyAndDoesNotWriteItAgain() throws Exception {
        Path lib = NativeLibraryCache.cached(dir).orElseThrow();
        Object inode = Files.readAttributes(lib, java.nio.file.attribute.BasicFileAttributes.class).fileKey();

        Path again = NativeLibraryCache.cached(dir).orElseThrow();

        assertThat(again).isEqualTo(lib);
        assertThat(Files.readAttributes(again, java.nio.file.attribute.BasicFileAttributes.class).fileKey()).isEqualTo(inode);
    }

    @Test
    void aTruncatedCopyIsReplaced() throws Exception {
        Path lib = NativeLibraryCache.cached(dir).orElseThrow();
        long size = Files.size(lib);
        Files.setPosixFilePermissions(lib, PosixFilePermissions.fromString("rw-------"));
        Files.write(lib, new byte[10]);

        Path again = NativeLibraryCache.cached(dir).orElseThrow();

        assertThat(Files.size(again)).isEqualTo(size);
    }
}

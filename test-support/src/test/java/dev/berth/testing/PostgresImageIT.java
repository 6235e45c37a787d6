package dev.berth.testing;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.api.InvalidArgumentException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Builds the Postgres image from the host's postgresql-15 into a private cache, then checks what it holds
 * by running its programs under chroot, and that the cache serves it again without a build.
 */
class PostgresImageIT {
    private static Path cache;
    private static Path rootfs;
    private static PostgresImage.Archives built;

    @BeforeAll
    static void buildIntoAFreshCache() throws Exception {
        cache = Files.createTempDirectory("berth-pg-cache-");
        long t0 = System.nanoTime();
        built = PostgresImage.builder().cacheDir(cache).build();
        System.out.printf("built %s in %d ms%n", built, (System.nanoTime() - t0) / 1_000_000);
        rootfs = Files.createTempDirectory("berth-pg-rootfs-");
        Files.setAttribute(rootfs, "unix:mode", 0755);   // the programs run as uid 999 below it
        Path layers = Files.createTempDirectory("berth-pg-docker-");
        BusyboxIT.untar(built.dockerArchive(), layers);
        JsonNode manifest = new ObjectMapper().readTree(layers.resolve("manifest.json").toFile()).get(0);
        assertThat(manifest.get("RepoTags").get(0).asText()).isEqualTo(PostgresImage.DEFAULT_NAME);
        BusyboxIT.untar(layers.resolve(manifest.get("Layers").get(0).asText()), rootfs);
        TestFiles.deleteTree(layers);
    }

    @AfterAll
    static void removeTrees() throws IOException {
        TestFiles.deleteTree(rootfs);
        TestFiles.deleteTree(cache);
    }

    @Test
    void theFirstBuildBuildsAndNamesTheInstalledPackageVersion() {
        assertThat(built.builtNow()).isTrue();
        assertThat(built.packageVersion()).isEqualTo(PostgresImage.installedVersion(PostgresImage.SERVER_PACKAGE))
                .startsWith("15.");
        assertThat(built.ociArchive()).startsWith(cache).isRegularFile();
    }

    @Test
    void aSecondBuildInAnotherJvmStateComesFromTheCacheWithTheSameDigest() throws Exception {
        FileTime before = Files.getLastModifiedTime(built.ociArchive());
        PostgresImage.forgetThisJvm();
        long t0 = System.nanoTime();
        PostgresImage.Archives again = PostgresImage.builder().cacheDir(cache).build();
        long millis = (System.nanoTime() - t0) / 1_000_000;

        assertThat(again.builtNow()).isFalse();
        assertThat(again.manifestDigest()).isEqualTo(built.manifestDigest());
        assertThat(again.ociArchive()).isEqualTo(built.ociArchive());
        assertThat(Files.getLastModifiedTime(again.ociArchive())).isEqualTo(before);
        assertThat(millis).as("cache hit time in ms").isLessThan(1000);
        // and within this JVM it is remembered
        assertThat(PostgresImage.builder().cacheDir(cache).build()).isEqualTo(again);
    }

    @Test
    void anotherNameIsAnotherCacheEntry() {
        PostgresImage.Archives other = PostgresImage.builder().cacheDir(cache).name("example.org/pg:test").build();
        assertThat(other.ociArchive().getParent()).isNotEqualTo(built.ociArchive().getParent());
        assertThat(other.name()).isEqualTo("example.org/pg:test");
    }

    @Test
    void theOciArchiveNamesTheImage() throws Exception {
        Map<String, byte[]> files;
        try (InputStream in = Files.newInputStream(built.ociArchive())) {
            files = TarReading.readFiles(in);
        }
        String index = new String(files.get("index.json"), java.nio.charset.StandardCharsets.UTF_8);
        assertThat(index).contains(PostgresImage.DEFAULT_NAME).contains(built.manifestDigest().toString());
    }

    @Test
    void theServerAndTheClientRunInTheRootfsWithOnlyItsOwnLibraries() throws Exception {
        BusyboxIT.Result server = BusyboxIT.run("chroot", "--userspec=999:999", rootfs.toString(),
                "/usr/lib/postgresql/15/bin/postgres", "--version");
        assertThat(server.exit()).as(server.output()).isZero();
        assertThat(server.output()).startsWith("postgres (PostgreSQL) 15.");
        BusyboxIT.Result psql = BusyboxIT.run("chroot", rootfs.toString(), "/usr/lib/postgresql/15/bin/psql", "--version");
        assertThat(psql.exit()).as(psql.output()).isZero();
        // the cluster's catalog and the entrypoint's shell tools
        BusyboxIT.Result shell = BusyboxIT.run("chroot", "--userspec=999:999", rootfs.toString(), "/bin/sh", "-c",
                "id -un; cat $0/PG_VERSION; sed -n 1p $0/berth-init", PostgresImage.PGDATA);
        assertThat(shell.exit()).as(shell.output()).isZero();
        assertThat(shell.output()).isEqualTo("postgres\n15\ntest\n");
    }

    @Test
    void theClusterBelongsToPostgresAndIsPrivate() throws Exception {
        Path data = rootfs.resolve(PostgresImage.PGDATA.substring(1));
        assertThat(Files.getAttribute(data, "unix:uid")).isEqualTo(PostgresImage.UID);
        assertThat(Files.getAttribute(data, "unix:mode")).isEqualTo(040700);
        assertThat(Files.readString(data.resolve("postgresql.conf"))).contains("listen_addresses = '*'");
        assertThat(Files.readString(data.resolve("pg_hba.conf"))).contains("host all all all scram-sha-256");
        assertThat(Files.readString(rootfs.resolve("etc/passwd"))).contains("postgres:x:999:999:");
        assertThat(Files.getAttribute(rootfs.resolve("usr/local/bin/docker-entrypoint.sh"), "unix:mode"))
                .isEqualTo(0100755);
    }

    @Test
    void theJitAndManPagesAreLeftOut() {
        assertThat(rootfs.resolve("usr/lib/postgresql/15/lib/plpgsql.so")).isRegularFile();
        assertThat(rootfs.resolve("usr/lib/postgresql/15/lib/llvmjit.so")).doesNotExist();
        assertThat(rootfs.resolve("usr/share/postgresql/15/man")).doesNotExist();
    }

    @Test
    void aNameWithADigestIsRefused() {
        assertThatThrownBy(() -> PostgresImage.builder().name("pg@sha256:00"))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("pg@sha256:00");
    }
}

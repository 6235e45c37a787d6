package dev.berth.testing;

import dev.berth.api.Digest;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.MediaTypes.Compression;
import dev.berth.api.Platform;
import dev.berth.testing.internal.HostFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Properties;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A PostgreSQL 15 server image built on this host from Debian's {@code postgresql-15} and
 * {@code postgresql-client-15} packages (as installed by {@code scripts/install-deps}), with no registry:
 * written once as an OCI layout tar (for {@code Namespace.importImage}) and a {@code docker save} tar
 * (for {@code docker load}), cached under {@link #DEFAULT_CACHE_DIR} by the package version.
 *
 * <pre>{@code
 * PostgresImage.Archives pg = PostgresImage.builder().build();      // built once, then milliseconds
 * ns.importImage(pg.ociArchive());
 * ns.run(pg.name(), RunOptions.builder()
 *         .env("POSTGRES_PASSWORD=secret")
 *         .container(ContainerOptions.network("default"), ContainerOptions.publish("5432"))
 *         .build());
 * // wait for READY_MESSAGE in the log or for a JDBC connection to 127.0.0.1:container.port(5432)
 * }</pre>
 *
 * <p><b>Contents</b> (one uncompressed layer, about 90 MB): {@code /usr/lib/postgresql/15} (server and
 * client programs, extension modules; not the LLVM JIT, which would bring a 100 MB library), {@code
 * /usr/share/postgresql/15} (without man pages), {@code /usr/share/zoneinfo}, every shared library
 * {@code ldd} finds for those programs and modules (with the loader, at the host's paths and behind its
 * merged-/usr symlinks), the host's static busybox as {@code /usr/bin/busybox} with its applets (the
 * entrypoint's shell), {@code /etc/passwd} with {@code postgres} ({@value #UID}:{@value #UID}), and a
 * cluster made by {@code initdb} at build time in {@code /var/lib/postgresql/data} for user, password and
 * database {@value #DEFAULT_USER}/{@value #DEFAULT_PASSWORD}/{@value #DEFAULT_DATABASE} (locale C,
 * UTF8, time zone UTC, {@code listen_addresses='*'}).
 *
 * <p><b>Config</b>: user {@code postgres}, entrypoint {@code docker-entrypoint.sh}, cmd {@code postgres},
 * {@code PGDATA=/var/lib/postgresql/data}. The entrypoint reads the official image's variables
 * ({@code POSTGRES_USER} default postgres, {@code POSTGRES_PASSWORD} required unless {@code
 * POSTGRES_HOST_AUTH_METHOD=trust}, {@code POSTGRES_DB} default the user, {@code
 * POSTGRES_HOST_AUTH_METHOD} default {@code scram-sha-256} for TCP from any address; local and loopback
 * connections are trusted). With the baked values the server starts at once; other values are applied to
 * the baked cluster in single-user mode first (a fraction of a second). Arguments after {@code postgres}
 * go to the server ({@code postgres -c fsync=off}); an argument list starting with {@code -} gets
 * {@code postgres} put in front; any other command runs as given. Postgres listens on
 * {@code 0.0.0.0:5432} in the foreground and logs {@value #READY_MESSAGE} to stderr once.
 *
 * <p><b>Cache</b>: {@code <cacheDir>/postgres/<package version>-<format>-<name hash>/} holds both tars and
 * {@code image.properties}; a build takes a file lock, so concurrent JVMs build once, and moves the
 * finished directory into place atomically. A later call (any JVM) only reads the dpkg status and that
 * properties file. Builders are not thread-safe; {@link #build()} may be called from several threads
 * and processes at once.
 */
public final class PostgresImage {
    /** The image's name unless {@link #name} changes it. */
    public static final String DEFAULT_NAME = "berth.dev/testing/postgres:15";
    /** Where built images are kept unless {@link #cacheDir} changes it. */
    public static final Path DEFAULT_CACHE_DIR = Path.of("/var/cache/berth-testing");
    /** The server's TCP port in the container. */
    public static final int PORT = 5432;
    /** What postgres logs once it accepts connections. */
    public static final String READY_MESSAGE = "database system is ready to accept connections";
    /** Credentials the baked cluster has (Testcontainers' defaults); other ones cost a single-user run. */
    public static final String DEFAULT_USER = "test";
    public static final String DEFAULT_PASSWORD = "test";
    public static final String DEFAULT_DATABASE = "test";
    /** The {@code postgres} user's uid and gid in the image (as in the official image). */
    public static final int UID = 999;
    /** The Debian packages the image is made of; the version of the first keys the cache. */
    public static final String SERVER_PACKAGE = "postgresql-15";
    public static final String CLIENT_PACKAGE = "postgresql-client-15";
    /** Where the data directory is in the image. */
    public static final String PGDATA = "/var/lib/postgresql/data";

    /** Bumped whenever the image's contents or layout change, so old cache entries are not used. */
    static final String FORMAT = "f2";
    static final String PG_LIB = "usr/lib/postgresql/15";
    static final String PG_SHARE = "usr/share/postgresql/15";
    private static final String AUTH_DEFAULT = "scram-sha-256";
    private static final Path DPKG_STATUS = Path.of("/var/lib/dpkg/status");
    private static final Path DPKG_INFO = Path.of("/var/lib/dpkg/info");
    private static final Map<Path, Archives> BUILT_IN_THIS_JVM = new ConcurrentHashMap<>();

    /**
     * The built image.
     *
     * @param name           the image name both archives carry
     * @param ociArchive     an OCI image layout tar ({@code index.json} names the image)
     * @param dockerArchive  a {@code docker save} tar ({@code manifest.json} tags the image)
     * @param manifestDigest the OCI manifest's digest (the image's identity)
     * @param packageVersion the version of {@value #SERVER_PACKAGE} inside
     * @param builtNow       whether this call built it (false: it came from the cache)
     */
    public record Archives(String name, Path ociArchive, Path dockerArchive, Digest manifestDigest,
                           String packageVersion, boolean builtNow) {
        public Archives {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(ociArchive, "ociArchive");
            Objects.requireNonNull(dockerArchive, "dockerArchive");
            Objects.requireNonNull(manifestDigest, "manifestDigest");
            Objects.requireNonNull(packageVersion, "packageVersion");
        }
    }

    private Path cacheDir = DEFAULT_CACHE_DIR;
    private String name = DEFAULT_NAME;

    private PostgresImage() {
    }

    public static PostgresImage builder() {
        return new PostgresImage();
    }

    /** The cache root (default {@link #DEFAULT_CACHE_DIR}); created if missing. */
    public PostgresImage cacheDir(Path dir) {
        this.cacheDir = Objects.requireNonNull(dir, "dir");
        return this;
    }

    /** The image name in both archives (default {@value #DEFAULT_NAME}), e.g. {@code example.org/pg:15}. */
    public PostgresImage name(String imageName) {
        Objects.requireNonNull(imageName, "imageName");
        if (imageName.isBlank() || imageName.contains("@") || !imageName.equals(imageName.strip())) {
            throw new InvalidArgumentException("image name \"" + imageName + "\" must be a tagged name without digest");
        }
        this.name = imageName;
        return this;
    }

    /**
     * The image from the cache, or built now (15-60 s on a loaded 2-core VM) if the cache has none for the installed
     * package version.
     *
     * @throws FailedPreconditionException if {@value #SERVER_PACKAGE} (or a library it needs) is not
     *                                     installed, or the cache directory cannot be written
     */
    public Archives build() {
        String version = installedVersion(SERVER_PACKAGE);
        if (version == null) {
            throw new FailedPreconditionException(SERVER_PACKAGE + " is not installed: run scripts/install-deps"
                    + " (apt-get install postgresql-15; its service is not started)");
        }
        String nameHash = Digest.sha256(name.getBytes(StandardCharsets.UTF_8)).hex().substring(0, 12);
        Path dir = cacheDir.resolve("postgres").resolve(version + "-" + FORMAT + "-" + nameHash).toAbsolutePath();
        Archives known = BUILT_IN_THIS_JVM.get(dir);
        if (known != null && Files.isRegularFile(known.ociArchive()) && Files.isRegularFile(known.dockerArchive())) {
            return withBuiltNow(known, false);
        }
        Archives cached = readCached(dir);
        if (cached != null) {
            BUILT_IN_THIS_JVM.put(dir, cached);
            return cached;
        }
        synchronized (PostgresImage.class) {   // a FileLock is per process: threads queue here first
            try {
                Files.createDirectories(dir.getParent());
                try (FileChannel lockFile = FileChannel.open(dir.getParent().resolve(".lock"),
                        StandardOpenOption.CREATE, StandardOpenOption.WRITE);
                     FileLock lock = lockFile.lock()) {
                    cached = readCached(dir);   // another process may have built it while we waited
                    Archives result = cached != null ? cached : buildInto(dir, version);
                    if (result.builtNow()) {
                        removeOlderBuilds(dir, nameHash);
                    }
                    BUILT_IN_THIS_JVM.put(dir, withBuiltNow(result, false));
                    return result;
                }
            } catch (IOException e) {
                throw new FailedPreconditionException("cannot build the postgres image in " + dir + ": " + e, e);
            }
        }
    }

    /** Forgets what this JVM built or found, so the next build reads the cache directory (for tests). */
    static void forgetThisJvm() {
        BUILT_IN_THIS_JVM.clear();
    }

    /** Other package versions or formats of the same name: a host upgrade would leave them forever. */
    private static void removeOlderBuilds(Path current, String nameHash) throws IOException {
        try (Stream<Path> siblings = Files.list(current.getParent())) {
            for (Path p : (Iterable<Path>) siblings::iterator) {
                String n = p.getFileName().toString();
                if (!p.equals(current) && !n.startsWith(".") && n.endsWith("-" + nameHash)) {
                    TestFiles.deleteTree(p);
                }
            }
        }
    }

    private static Archives withBuiltNow(Archives a, boolean builtNow) {
        return new Archives(a.name(), a.ociArchive(), a.dockerArchive(), a.manifestDigest(), a.packageVersion(),
                builtNow);
    }

    private static Archives readCached(Path dir) {
        Path props = dir.resolve("image.properties");
        if (!Files.isRegularFile(props)) {
            return null;
        }
        Properties p = new Properties();
        try (InputStream in = Files.newInputStream(props)) {
            p.load(in);
        } catch (IOException e) {
            return null;
        }
        Path oci = dir.resolve("oci.tar");
        Path docker = dir.resolve("docker.tar");
        if (!Files.isRegularFile(oci) || !Files.isRegularFile(docker) || p.getProperty("manifest") == null) {
            return null;
        }
        return new Archives(p.getProperty("name"), oci, docker, Digest.parse(p.getProperty("manifest")),
                p.getProperty("version"), false);
    }

    private Archives buildInto(Path dir, String version) throws IOException {
        Path work = Files.createTempDirectory(dir.getParent(), ".build-");
        try {
            TestImage image = image(version);
            Path oci = work.resolve("out/oci.tar");
            Files.createDirectories(oci.getParent());
            OciLayout.builder().image(name, image).writeTar(oci);
            DockerArchive.builder().image(image, name).write(work.resolve("out/docker.tar"));
            Properties p = new Properties();
            p.setProperty("name", name);
            p.setProperty("manifest", image.descriptor().digest().toString());
            p.setProperty("version", version);
            p.setProperty("format", FORMAT);
            try (OutputStream out = Files.newOutputStream(work.resolve("out/image.properties"))) {
                p.store(out, "dev.berth.testing.PostgresImage");
            }
            try {
                Files.move(work.resolve("out"), dir, StandardCopyOption.ATOMIC_MOVE);
            } catch (FileAlreadyExistsException | DirectoryNotEmptyException | AtomicMoveNotSupportedException e) {
                // an incomplete directory of an interrupted build outside the lock: replace it
                TestFiles.deleteTree(dir);
                Files.move(work.resolve("out"), dir, StandardCopyOption.ATOMIC_MOVE);
            }
            return new Archives(name, dir.resolve("oci.tar"), dir.resolve("docker.tar"), image.descriptor().digest(),
                    version, true);
        } finally {
            TestFiles.deleteTree(work);
        }
    }

    private TestImage image(String version) throws IOException {
        HostFiles files = new HostFiles();
        List<Path> elves = new ArrayList<>();
        for (String pkg : List.of(SERVER_PACKAGE, CLIENT_PACKAGE)) {
            for (String path : packageFiles(pkg)) {
                String rel = path.substring(1);
                boolean wanted = (rel.startsWith(PG_LIB + "/") || rel.startsWith(PG_SHARE + "/"))
                        && !rel.startsWith(PG_SHARE + "/man/") && !rel.startsWith(PG_LIB + "/lib/bitcode")
                        && !rel.startsWith(PG_LIB + "/lib/llvmjit");
                Path host = Path.of(path);
                if (wanted && (Files.isRegularFile(host) || Files.isSymbolicLink(host))) {
                    files.add(path);
                    if (!Files.isSymbolicLink(host) && HostFiles.isElf(host)) {
                        elves.add(host);
                    }
                }
            }
        }
        if (!files.contains(PG_LIB + "/bin/postgres")) {
            throw new FailedPreconditionException("/" + PG_LIB + "/bin/postgres is missing although "
                    + SERVER_PACKAGE + " is installed: reinstall it");
        }
        for (String lib : HostFiles.sharedLibraries(elves)) {
            files.add(lib);
        }
        files.addTree("/usr/share/zoneinfo");

        files.add(Busybox.BINARY.toString());
        String busyboxDir = Busybox.BINARY.toRealPath().getParent().toString().substring(1);
        for (String applet : Busybox.applets()) {
            if (!files.contains(busyboxDir + "/" + applet)) {
                files.put(TarEntry.symlink(busyboxDir + "/" + applet, "busybox"));
            }
        }
        files.put(TarEntry.file("etc/passwd", """
                root:x:0:0:root:/root:/bin/sh
                postgres:x:%d:%d:PostgreSQL administrator:/var/lib/postgresql:/bin/sh
                nobody:x:65534:65534:nobody:/nonexistent:/bin/false
                """.formatted(UID, UID)));
        files.put(TarEntry.file("etc/group", """
                root:x:0:
                postgres:x:%d:
                nogroup:x:65534:
                """.formatted(UID)));
        files.put(TarEntry.file("etc/nsswitch.conf", "passwd: files\ngroup: files\nhosts: files dns\n"));
        try (InputStream in = PostgresImage.class.getResourceAsStream("postgres-entrypoint.sh")) {
            if (in == null) {
                throw new IllegalStateException("postgres-entrypoint.sh is missing from berth-testing's jar");
            }
            files.put(TarEntry.file("usr/local/bin/docker-entrypoint.sh", in.readAllBytes()).withMode(0755));
        }
        for (String d : List.of("dev", "proc", "sys", "usr/local", "usr/local/bin", "var", "var/lib", "var/run")) {
            files.put(TarEntry.dir(d));
        }
        files.put(TarEntry.dir("root").withMode(0700));
        files.put(TarEntry.dir("tmp").withMode(01777));
        files.put(TarEntry.dir("var/lib/postgresql").withOwner(UID, UID));
        files.put(TarEntry.dir("var/run/postgresql").withMode(02775).withOwner(UID, UID));
        for (TarEntry e : cluster()) {
            files.put(e);
        }

        TestLayer layer = LayerBuilder.create().entries(files.entries()).parents().build(Compression.NONE);
        return TestImageBuilder.create()
                .platform(Platform.host())
                .layer(layer)
                .user("postgres")
                .entrypoint("docker-entrypoint.sh")
                .cmd("postgres")
                .env("PATH=/" + PG_LIB + "/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                        "PGDATA=" + PGDATA)
                .label("dev.berth.testing.postgres.version", version)
                .history("berth-testing PostgresImage: Debian " + SERVER_PACKAGE + " " + version
                        + ", its libraries, busybox and an initdb cluster", false)
                .build();
    }

    /**
     * Runs the host's initdb as nobody (initdb refuses root) into a temporary directory, sets it up as the
     * entrypoint expects and returns its entries at {@link #PGDATA}, owned by {@link #UID}.
     */
    private static List<TarEntry> cluster() throws IOException {
        // initdb runs as nobody, who may not reach into the cache directory: a directory of its own in /tmp
        Path base = Files.createTempDirectory("berth-pg-initdb-");
        try {
            return initdb(base);
        } finally {
            TestFiles.deleteTree(base);
        }
    }

    private static List<TarEntry> initdb(Path base) throws IOException {
        Path data = base.resolve("data");
        Path pwfile = base.resolve("pw");
        Files.writeString(pwfile, DEFAULT_PASSWORD + "\n");
        chown(base, 65534);
        chown(pwfile, 65534);
        run(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
                "/" + PG_LIB + "/bin/initdb", "-D", data.toString(), "--username=" + DEFAULT_USER,
                "--pwfile=" + pwfile, "--auth-local=trust", "--auth-host=" + AUTH_DEFAULT, "--locale=C",
                "--encoding=UTF8", "--no-sync"), Map.of("TZ", "UTC", "LANG", "C", "LC_ALL", "C"), base, null);
        // initdb makes only postgres, template0 and template1
        run(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
                "/" + PG_LIB + "/bin/postgres", "--single", "-D", data.toString(), "-c", "fsync=off", "postgres"),
                Map.of("TZ", "UTC", "LANG", "C", "LC_ALL", "C"), base,
                ("CREATE DATABASE \"" + DEFAULT_DATABASE + "\"\n").getBytes(StandardCharsets.UTF_8));
        String singleUser = Files.readString(base.resolve("log"));
        if (singleUser.contains("ERROR:") || singleUser.contains("FATAL:")) {
            throw new IllegalStateException("creating database " + DEFAULT_DATABASE + " failed: " + singleUser);
        }
        Files.writeString(data.resolve("postgresql.conf"), "\n# berth-testing PostgresImage\nlisten_addresses = '*'\n",
                StandardOpenOption.APPEND);
        Files.writeString(data.resolve("pg_hba.conf"), """
                # berth-testing PostgresImage; the entrypoint sets the last line's method
                # TYPE  DATABASE  USER  ADDRESS  METHOD
                local all all trust
                host all all 127.0.0.1/32 trust
                host all all ::1/128 trust
                local replication all trust
                host replication all 127.0.0.1/32 trust
                host replication all ::1/128 trust
                host all all all %s
                """.formatted(AUTH_DEFAULT));
        String passwordHash = Digest.sha256(DEFAULT_PASSWORD.getBytes(StandardCharsets.UTF_8)).hex();
        Files.writeString(data.resolve("berth-init"),
                DEFAULT_USER + "\n" + DEFAULT_DATABASE + "\n" + passwordHash + "\n" + AUTH_DEFAULT + "\n");

        List<TarEntry> out = new ArrayList<>();
        String prefix = PGDATA.substring(1);
        try (Stream<Path> walk = Files.walk(data)) {
            for (Path p : (Iterable<Path>) walk.sorted()::iterator) {
                String rel = data.relativize(p).toString();
                String entryName = rel.isEmpty() ? prefix : prefix + "/" + rel;
                TarEntry e;
                if (Files.isDirectory(p)) {
                    e = TarEntry.dir(entryName).withMode(0700);
                } else if (Files.isRegularFile(p)) {
                    e = TarEntry.file(entryName, Files.readAllBytes(p)).withMode(0600);
                } else {
                    throw new IllegalStateException("unexpected file in the initdb cluster: " + p);
                }
                out.add(e.withOwner(UID, UID));
            }
        }
        return out;
    }

    private static void chown(Path p, int id) throws IOException {
        Files.setAttribute(p, "unix:uid", id);
        Files.setAttribute(p, "unix:gid", id);
    }

    private static void run(List<String> cmd, Map<String, String> env, Path logDir, byte[] stdin) throws IOException {
        Path log = logDir.resolve("log");
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
        pb.environment().putAll(env);
        try {
            Process p = pb.start();
            try (OutputStream in = p.getOutputStream()) {
                if (stdin != null) {
                    in.write(stdin);
                }
            }
            if (!p.waitFor(5, TimeUnit.MINUTES)) {
                p.destroyForcibly();
                throw new IllegalStateException(String.join(" ", cmd) + " did not finish in 5 minutes");
            }
            if (p.exitValue() != 0) {
                throw new FailedPreconditionException(String.join(" ", cmd) + " failed (exit " + p.exitValue()
                        + "): " + Files.readString(log));
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException("interrupted while running " + cmd.get(0), e);
        }
    }

    /** The files dpkg lists for an installed package ({@code dpkg -L}, read from dpkg's database). */
    static List<String> packageFiles(String pkg) {
        Path list = DPKG_INFO.resolve(pkg + ".list");
        if (!Files.isRegularFile(list)) {
            list = DPKG_INFO.resolve(pkg + ":" + Platform.host().architecture() + ".list");
        }
        try {
            return Files.readAllLines(list).stream().filter(l -> l.startsWith("/")).toList();
        } catch (IOException e) {
            throw new FailedPreconditionException(pkg + " is not installed (no " + list
                    + "): run scripts/install-deps", e);
        }
    }

    /**
     * The installed version of {@code pkg} from {@code /var/lib/dpkg/status}, or null when it is not
     * installed. Read directly: it is what keys the cache, and a dpkg-query process would cost more than
     * the whole cache hit.
     */
    static String installedVersion(String pkg) {
        String text;
        try {
            text = Files.readString(DPKG_STATUS, StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new FailedPreconditionException("cannot read " + DPKG_STATUS + ": is this a Debian system?", e);
        }
        for (String stanza : text.split("\n\n")) {
            if (!stanza.startsWith("Package: " + pkg + "\n")) {
                continue;
            }
            String version = null;
            boolean installed = false;
            for (String line : stanza.split("\n")) {
                if (line.startsWith("Version: ")) {
                    version = line.substring(9).strip();
                } else if (line.startsWith("Status: ")) {
                    installed = line.endsWith(" installed");
                }
            }
            if (installed && version != null) {
                return version;
            }
        }
        return null;
    }

}

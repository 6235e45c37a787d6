package dev.berth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.FailedPreconditionException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.NotFoundException;
import dev.berth.api.task.RunResult;
import dev.berth.api.task.Task;
import dev.berth.testing.ChildJvm;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/** The facade's exec (bytes, users by name), file copies both ways, session-scoped and rm containers. */
class ContainerFilesAndSessionsIT {
    private static final String SUFFIX = UUID.randomUUID().toString().substring(0, 6);
    private static TestRoots dirs;
    private static Berth berth;
    private static Namespace ns;

    @BeforeAll
    static void open() throws Exception {
        dirs = new TestRoots();
        berth = dirs.open();
        ns = berth.namespace("files-" + SUFFIX);
        ns.importImage(TestRoots.busyboxArchive());
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
            berth.close();
        } finally {
            dirs.close();
        }
    }

    private static byte[] randomBytes(int n) {
        byte[] b = new byte[n];
        new Random(42).nextBytes(b);
        return b;
    }

    private static Container sleeper(String id) {
        ns.run(TestRoots.BUSYBOX, RunOptions.builder().id(id).args("sleep", "600").build());
        return ns.containers().get(id);
    }

    private static void remove(Container c) {
        c.task().ifPresent(t -> t.delete(true));
        c.delete();
    }

    @Nested
    class Exec {
        @Test
        void binaryOutputComesBackByteExact() throws Exception {
            Container c = sleeper("bin-" + SUFFIX);
            try {
                byte[] data = randomBytes(262_144);
                c.copyTo("/data/blob.bin", data, 0644);
                RunResult r = c.exec("cat", "/data/blob.bin");
                assertThat(r.exitCode()).isZero();
                assertThat(r.stdoutBytes()).hasSize(262_144).isEqualTo(data);
            } finally {
                remove(c);
            }
        }

        @Test
        void userIsResolvedByNameInTheContainer() throws Exception {
            Container c = sleeper("user-" + SUFFIX);
            try {
                RunResult r = c.exec(ExecOptions.builder("sh", "-c", "id -u; id -g; echo $GREETING; pwd")
                        .user("app").env("GREETING", "ahoy").cwd("/home/app").build());
                assertThat(r).isEqualTo(new RunResult("1000\n1000\nahoy\n/home/app\n", "", 0));
                assertThatThrownBy(() -> c.exec(ExecOptions.builder("true").user("nosuchuser").build()))
                        .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("nosuchuser");
            } finally {
                remove(c);
            }
        }

        @Test
        void needsARunningTask() {
            Container c = ns.containers().create("idle-" + SUFFIX, TestRoots.BUSYBOX);
            try {
                assertThatThrownBy(() -> c.exec("true")).isInstanceOf(FailedPreconditionException.class)
                        .hasMessageContaining("no running task");
            } finally {
                c.delete();
            }
        }
    }

    @Nested
    class Copy {
        @Test
        void intoAContainerBeforeItStartsWithModeAndOwner() throws Exception {
            String id = "pre-" + SUFFIX;
            Container c = ns.containers().create(id, ContainerOptions.image(TestRoots.BUSYBOX),
                    ContainerOptions.spec(dev.berth.runtime.spec.SpecOptions.args("sleep", "600")));
            try {
                c.copyTo("/opt/app/run.sh", "#!/bin/sh\necho ran\n".getBytes(StandardCharsets.UTF_8), 0750, 1000, 1000);
                c.newTask().start();
                assertThat(c.exec("/opt/app/run.sh").stdout()).isEqualTo("ran\n");
                assertThat(c.exec("stat", "-c", "%a %u:%g", "/opt/app/run.sh").stdout()).isEqualTo("750 1000:1000\n");
            } finally {
                remove(c);
            }
        }

        @Test
        void outOfARunningContainerToTheHostKeepingItsMode(@org.junit.jupiter.api.io.TempDir Path tmp) throws Exception {
            Container c = sleeper("out-" + SUFFIX);
            try {
                c.exec("sh", "-c", "head -c 100000 /dev/urandom > /tmp/r.bin && chmod 600 /tmp/r.bin");
                byte[] inside = c.exec("cat", "/tmp/r.bin").stdoutBytes();
                Path host = tmp.resolve("r.bin");
                c.copyFrom("/tmp/r.bin", host);
                assertThat(Files.readAllBytes(host)).hasSize(100_000).isEqualTo(inside);
                assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(host))).isEqualTo("rw-------");
                assertThat(c.readFile("/tmp/r.bin")).isEqualTo(inside);
                Path source = tmp.resolve("in.bin");
                Files.write(source, randomBytes(5000));
                Files.setPosixFilePermissions(source, PosixFilePermissions.fromString("rwxr-x---"));
                c.copyTo("/in.bin", source);
                assertThat(c.exec("stat", "-c", "%a %s", "/in.bin").stdout()).isEqualTo("750 5000\n");
            } finally {
                remove(c);
            }
        }

        @Test
        void symlinksAreFollowedInsideTheRootfsNeverOnTheHost() throws Exception {
            Container c = sleeper("esc-" + SUFFIX);
            String hostName = "berth-escape-" + SUFFIX;
            try {
                c.exec("ln", "-s", "../../../../../../../../tmp/" + hostName, "/relative-link");
                c.exec("ln", "-s", "/tmp", "/absolute-link");
                c.copyTo("/relative-link", "in".getBytes(StandardCharsets.UTF_8), 0644);
                c.copyTo("/absolute-link/" + hostName + "-2", "in".getBytes(StandardCharsets.UTF_8), 0644);
                assertThat(Path.of("/tmp", hostName)).doesNotExist();
                assertThat(Path.of("/tmp", hostName + "-2")).doesNotExist();
                assertThat(c.exec("cat", "/tmp/" + hostName, "/tmp/" + hostName + "-2").stdout()).isEqualTo("inin");
                assertThatThrownBy(() -> c.copyTo("/tmp/../../etc/x", new byte[1], 0644))
                        .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("..");
                assertThatThrownBy(() -> c.readFile("/no/such/file")).isInstanceOf(NotFoundException.class);
            } finally {
                remove(c);
            }
        }
    }

    @Nested
    class Cleanup {
        @Test
        void rmRunThenCloseLeavesNoRecordOrSnapshot() throws Exception {
            try (TestRoots own = new TestRoots()) {
                String id = "rm-" + SUFFIX;
                try (Berth b = own.open()) {
                    b.importImage(TestRoots.busyboxArchive());
                    Task t = b.run(TestRoots.BUSYBOX, RunOptions.builder().id(id).args("true").rm(true).build());
                    t.waitFor();
                }
                try (Berth b = own.open()) {
                    assertThat(b.containers().list()).isEmpty();
                    assertThat(snapshotsOf(b, id)).isEmpty();
                }
            }
        }

        @Test
        void sessionScopedContainersGoWithTheirBerth() throws Exception {
            String id = "sess-" + SUFFIX;
            Task t = ns.run(TestRoots.BUSYBOX, RunOptions.builder().id(id).args("sleep", "600").sessionScoped(true)
                    .build());
            int pid = t.pid();
            try (TestRoots own = new TestRoots()) {
                try (Berth b = own.open()) {
                    b.importImage(TestRoots.busyboxArchive());
                    Task other = b.run(TestRoots.BUSYBOX, RunOptions.builder().id(id).args("sleep", "600")
                            .sessionScoped(true).build());
                    int otherPid = other.pid();
                    assertThat(ProcessHandle.of(otherPid)).isPresent();
                    b.close();
                    assertThat(ProcessHandle.of(otherPid).filter(ProcessHandle::isAlive)).isEmpty();
                }
                try (Berth b = own.open()) {
                    assertThat(b.containers().list()).isEmpty();
                    assertThat(snapshotsOf(b, id)).isEmpty();
                }
            }
            assertThat(ProcessHandle.of(pid)).isPresent(); // the other Berth's session is its own
            t.delete(true);
            ns.containers().delete(id);
        }

        @Test
        void aKilledJvmsSessionContainerIsGoneAfterTheNextOpen() throws Exception {
            try (TestRoots own = new TestRoots()) {
                String id = "killed-" + SUFFIX;
                int pid;
                try (ChildJvm child = ChildJvm.start(SessionChild.class, List.of(), own.root.toString(),
                        own.state.toString(), TestRoots.busyboxArchive().toString(), "sess", id)) {
                    pid = Integer.parseInt(child.awaitLine("PID ", Duration.ofSeconds(60)).substring(4));
                    child.kill();
                    child.waitForExit(Duration.ofSeconds(30));
                }
                Awaitility.await().atMost(Duration.ofSeconds(20))
                        .until(() -> ProcessHandle.of(pid).map(p -> !p.isAlive()).orElse(true));
                try (Berth b = own.open()) {
                    assertThat(b.namespace("sess").containers().list()).isEmpty();
                    assertThat(snapshotsOf(b.namespace("sess"), id)).isEmpty();
                }
                assertThat(Path.of(own.state.toString(), "tasks", "sess", id)).doesNotExist();
                assertThat(shimsFor(id)).isEmpty();
            }
        }
    }

    private static List<String> snapshotsOf(Berth b, String key) {
        return snapshotsOf(b.defaultNamespace(), key);
    }

    private static List<String> snapshotsOf(Namespace n, String key) {
        List<String> keys = new java.util.ArrayList<>();
        n.snapshots().walk(info -> keys.add(info.name()));
        return keys.stream().filter(k -> k.equals(key)).toList();
    }

    private static List<Long> shimsFor(String id) {
        return ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").contains("-id " + id))
                .map(ProcessHandle::pid).toList();
    }
}

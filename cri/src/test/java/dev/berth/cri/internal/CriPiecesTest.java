package dev.berth.cri.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.InvalidArgumentException;
import dev.berth.cri.internal.proto.AuthConfig;
import dev.berth.cri.internal.proto.DNSConfig;
import dev.berth.cri.internal.proto.PodSandboxConfig;
import dev.berth.cri.internal.proto.Signal;
import dev.berth.registry.Credential;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Base64;
import java.util.List;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CriPiecesTest {

    @Nested
    class Records {
        /** PRAGMA synchronous of the connection a write runs on: 2 FULL (fsync at commit), 1 NORMAL (none). */
        private long synchronousOfAWrite(dev.berth.sys.sqlite.SqliteDb db) {
            return db.write(tx -> {
                tx.exec("INSERT INTO t(v) VALUES ('x')");
                return tx.count("PRAGMA synchronous");
            });
        }

        @Test
        void criRecordsCommitWithoutWaitingForTheDiskAndOtherWritesStillSync(@TempDir Path dir) {
            try (var db = dev.berth.sys.sqlite.SqliteDb.open(dir.resolve("meta.db"), "test", java.time.Duration.ofSeconds(5),
                    List.of(tx -> tx.exec("CREATE TABLE t(v TEXT)")))) {
                assertThat(CriState.SYNC_RECORDS).as("berth.cri.syncRecords is off by default").isFalse();
                long inScope = CriState.unsynced(() -> synchronousOfAWrite(db));
                assertThat(inScope).isEqualTo(1);
                assertThat(synchronousOfAWrite(db)).as("a write outside the CRI's record scope").isEqualTo(2);
                long[] inRun = new long[1];
                CriState.unsyncedRun(() -> inRun[0] = synchronousOfAWrite(db));
                assertThat(inRun[0]).isEqualTo(1);
                long rows = db.read(tx -> tx.count("SELECT count(*) FROM t"));
                assertThat(rows).isEqualTo(3);
            }
        }
    }

    @Nested
    class NetworkCounters {
        private static final String NET_DEV = """
                Inter-|   Receive                                                |  Transmit
                 face |bytes    packets errs drop fifo frame compressed multicast|bytes    packets errs drop fifo colls carrier compressed
                    lo:     840      10    0    0    0     0          0         0      840      10    0    0    0     0       0          0
                  eth0: 18446744073709551615  91    3    0    0     0          0         0     5230      40    2    0    0     0       0          0
                  net1:     100       1    0    0    0     0          0         0      200       2    0    0    0     0       0          0
                """;

        @Test
        void eth0IsTheDefaultInterfaceAndLoopbackIsLeftOut() {
            var usage = PodNetworkStats.parse(NET_DEV, 42);

            assertThat(usage.getTimestamp()).isEqualTo(42);
            assertThat(usage.getDefaultInterface().getName()).isEqualTo("eth0");
            assertThat(usage.getDefaultInterface().getRxBytes().getValue()).as("a counter past 2^63").isEqualTo(-1L);
            assertThat(usage.getDefaultInterface().getRxErrors().getValue()).isEqualTo(3);
            assertThat(usage.getDefaultInterface().getTxBytes().getValue()).isEqualTo(5230);
            assertThat(usage.getDefaultInterface().getTxErrors().getValue()).isEqualTo(2);
            assertThat(usage.getInterfacesList()).extracting(i -> i.getName()).containsExactly("eth0", "net1");
        }

        @Test
        void aNamespaceWithoutEth0HasNoDefaultInterface() {
            var usage = PodNetworkStats.parse(NET_DEV.replace("eth0", "ens3"), 1);

            assertThat(usage.hasDefaultInterface()).isFalse();
            assertThat(usage.getInterfacesCount()).isEqualTo(2);
        }
    }

    @Nested
    class ProcessArgs {
        @Test
        void commandReplacesTheEntrypointAndArgsReplaceCmd() {
            assertThat(CriContainers.args(List.of("/bin/app"), List.of("-v"), List.of("/entry"), List.of("cmd")))
                    .containsExactly("/bin/app", "-v");
            assertThat(CriContainers.args(List.of(), List.of("-v"), List.of("/entry"), List.of("cmd")))
                    .containsExactly("/entry", "-v");
            assertThat(CriContainers.args(List.of(), List.of(), List.of("/entry"), List.of("cmd")))
                    .containsExactly("/entry", "cmd");
            assertThat(CriContainers.args(List.of(), List.of(), null, null)).isEmpty();
        }
    }

    @Nested
    class LogFile {
        @TempDir
        Path dir;

        @Test
        void linesBecomeTimedRecordsAndLongLinesArePartial() throws Exception {
            Clock clock = Clock.fixed(Instant.parse("2026-12-06T10:00:00.123456789Z"), ZoneOffset.UTC);
            Path file = dir.resolve("c/0.log");
            try (CriLog log = new CriLog(file, clock)) {
                OutputStream out = log.stream("stdout");
                OutputStream err = log.stream("stderr");
                out.write("one\ntw".getBytes(StandardCharsets.UTF_8));
                err.write("oops\n".getBytes(StandardCharsets.UTF_8));
                out.write("o\n".getBytes(StandardCharsets.UTF_8));
                out.write("x".repeat(CriLog.MAX_LINE + 5).getBytes(StandardCharsets.UTF_8));
                out.close();
            }
            List<String> lines = Files.readAllLines(file);
            String t = "2026-12-06T10:00:00.123456789Z";
            assertThat(lines).containsExactly(t + " stdout F one", t + " stderr F oops", t + " stdout F two",
                    t + " stdout P " + "x".repeat(CriLog.MAX_LINE), t + " stdout F xxxxx");
        }

        @Test
        void aCarriageReturnEndingALineIsDroppedEvenWhereALongLineIsSplit() throws Exception {
            Clock clock = Clock.fixed(Instant.parse("2026-12-06T10:00:00Z"), ZoneOffset.UTC);
            Path file = dir.resolve("tty.log");
            try (CriLog log = new CriLog(file, clock)) {
                OutputStream out = log.stream("stdout");
                out.write("a\r\nb\rc\r\n\r\n".getBytes(StandardCharsets.UTF_8)); // a tty's line ends
                // a \r\n that straddles the split of a long line
                out.write(("y".repeat(CriLog.MAX_LINE - 1) + "\r").getBytes(StandardCharsets.UTF_8));
                out.write("\n".getBytes(StandardCharsets.UTF_8));
            }
            String t = "2026-12-06T10:00:00Z";
            assertThat(Files.readString(file)).isEqualTo(t + " stdout F a\n" + t + " stdout F b\rc\n" + t
                    + " stdout F \n" + t + " stdout P " + "y".repeat(CriLog.MAX_LINE - 1) + "\n" + t + " stdout F \n");
        }

        @Test
        void reopenWritesAFreshFileAtThePath() throws Exception {
            Path file = dir.resolve("r.log");
            try (CriLog log = new CriLog(file, Clock.systemUTC())) {
                OutputStream out = log.stream("stdout");
                out.write("before\n".getBytes(StandardCharsets.UTF_8));
                Files.move(file, dir.resolve("r.log.1"));
                log.reopen();
                out.write("after\n".getBytes(StandardCharsets.UTF_8));
            }
            assertThat(Files.readString(dir.resolve("r.log.1"))).contains("before").doesNotContain("after");
            assertThat(Files.readString(file)).contains("stdout F after").doesNotContain("before");
        }
    }

    @Nested
    class Credentials {
        @Test
        void userAndPasswordAuthStringAndTokensAreRead() {
            assertThat(CriImages.credential(AuthConfig.newBuilder().setUsername("u").setPassword("p").build()))
                    .contains(Credential.basic("u", "p"));
            String auth = Base64.getEncoder().encodeToString("me:pa:ss".getBytes(StandardCharsets.UTF_8));
            assertThat(CriImages.credential(AuthConfig.newBuilder().setAuth(auth).build()))
                    .contains(Credential.basic("me", "pa:ss"));
            assertThat(CriImages.credential(AuthConfig.newBuilder().setIdentityToken("tok").build()))
                    .contains(Credential.identityToken("tok"));
            assertThat(CriImages.credential(AuthConfig.getDefaultInstance())).isEmpty();
            assertThatThrownBy(() -> CriImages.credential(AuthConfig.newBuilder().setAuth("bm9jb2xvbg==").build()))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("user:password");
        }

        @Test
        void serverAddressesBecomeHosts() {
            assertThat(CriImages.hostOf("https://index.docker.io/v1/")).isEqualTo("index.docker.io");
            assertThat(CriImages.hostOf("127.0.0.1:5000")).isEqualTo("127.0.0.1:5000");
        }
    }

    @Test
    void signalsByNameAndBack() {
        assertThat(Signals.number("SIGTERM")).isEqualTo(15);
        assertThat(Signals.number("QUIT")).isEqualTo(3);
        assertThat(Signals.number("9")).isEqualTo(9);
        assertThat(Signals.number("SIGRTMINPLUS3")).isEqualTo(37);
        assertThat(Signals.number("SIGRTMAXMINUS1")).isEqualTo(63);
        assertThat(Signals.cri(15)).isEqualTo(Signal.SIGTERM);
        assertThatThrownBy(() -> Signals.number("SIGNOPE")).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("SIGNOPE");
    }

    @Test
    void resolvConfComesFromTheDnsConfig() throws Exception {
        PodSandboxConfig c = PodSandboxConfig.newBuilder().setDnsConfig(DNSConfig.newBuilder()
                .addServers("10.96.0.10").addSearches("default.svc.cluster.local").addSearches("svc.cluster.local")
                .addOptions("ndots:5")).build();
        assertThat(PodSandboxes.resolvConf(c)).isEqualTo("search default.svc.cluster.local svc.cluster.local\n"
                + "nameserver 10.96.0.10\noptions ndots:5\n");
    }

    @Test
    void oomScoreIsNeverBelowTheServersOwn() throws Exception {
        int own = Integer.parseInt(Files.readString(Path.of("/proc/self/oom_score_adj")).trim());
        assertThat(CriRuntime.oomScoreAdj(-998)).isEqualTo(Math.max(-998, own));
        assertThat(CriRuntime.oomScoreAdj(5000)).isEqualTo(1000);
    }
}

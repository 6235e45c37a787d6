package dev.berth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.NotFoundException;
import dev.berth.api.image.Image;
import dev.berth.api.snapshot.Kind;
import dev.berth.api.task.RunResult;
import dev.berth.image.ResolvedImage;
import dev.berth.registry.Credentials;
import dev.berth.registry.ProgressListener;
import dev.berth.registry.RegistryClient;
import dev.berth.testing.TestFiles;
import dev.berth.testing.TestRegistry;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The facade's pull and push against a real docker-registry on loopback, and running what was pulled. */
class PullPushIT {
    private TestRoots source;
    private TestRoots target;
    private Path registryDir;
    private TestRegistry registry;

    @BeforeEach
    void start() throws Exception {
        assertThat(TestRegistry.available()).as("docker-registry unpacked by scripts/install-deps").isTrue();
        source = new TestRoots();
        target = new TestRoots();
        registryDir = Files.createTempDirectory("berth-registry-");
        registry = TestRegistry.create(registryDir).start();
    }

    @AfterEach
    void stop() throws Exception {
        try {
            registry.close();
            source.close();
            target.close();
        } finally {
            TestFiles.deleteTree(registryDir);
        }
    }

    private String pushBusybox(String repository) {
        String reference = registry.host() + "/" + repository;
        try (Berth berth = source.open()) {
            berth.importImage(TestRoots.busyboxArchive());
            berth.namespace(Berth.DEFAULT_NAMESPACE).push(TestRoots.BUSYBOX, reference, PushSettings.defaults(), null);
        }
        return reference;
    }

    @Test
    void pulledImageIsRecordedUnpackedAndRuns() throws Exception {
        String reference = pushBusybox("berth/busybox:1");
        Recording progress = new Recording();

        try (Berth berth = target.open()) {
            Image pulled = berth.pull(reference, progress);

            assertThat(pulled.name()).isEqualTo(reference);
            assertThat(berth.images().get(reference).target()).isEqualTo(pulled.target());
            ResolvedImage resolved = berth.images().resolve(reference);
            for (Digest chainId : resolved.chainIds()) {
                assertThat(berth.namespace(Berth.DEFAULT_NAMESPACE).snapshots().stat(chainId.toString()).kind()).isEqualTo(Kind.COMMITTED);
            }
            assertThat(progress.unpacked).containsExactlyElementsOf(resolved.layers());
            assertThat(progress.done).containsExactly(reference);

            berth.gc();
            RunResult run = berth.runAndWait(reference, RunOptions.builder().args("echo", "pulled and running")
                    .rm(true).build());
            assertThat(run.exitCode()).isZero();
            assertThat(run.stdout()).isEqualTo("pulled and running\n");
        }
    }

    @Test
    void pullingAgainFetchesNoBlobAndKeepsTheImage() {
        String reference = pushBusybox("berth/busybox:again");
        try (Berth berth = target.open()) {
            Image first = berth.pull(reference, null);
            Recording second = new Recording();

            Image again = berth.pull(reference, second);

            assertThat(again.target()).isEqualTo(first.target());
            assertThat(second.started).as("blobs downloaded by the second pull").isEmpty();
            assertThat(berth.images().list()).extracting(Image::name).containsExactly(reference);
        }
    }

    @Test
    void missingTagIsNotFoundAndRecordsNothing() {
        pushBusybox("berth/busybox:present");
        try (Berth berth = target.open()) {
            String missing = registry.host() + "/berth/busybox:absent";

            assertThatThrownBy(() -> berth.pull(missing, null)).isInstanceOf(NotFoundException.class)
                    .hasMessageContaining("berth/busybox:absent");

            assertThat(berth.images().list()).isEmpty();
            berth.gc();
            List<Digest> blobs = new CopyOnWriteArrayList<>();
            berth.content().walk(i -> blobs.add(i.digest()));
            assertThat(blobs).isEmpty();
        }
    }

    @Test
    void pullsOfOneBerthReuseOneClientsConnections() throws Exception {
        String reference = pushBusybox("berth/busybox:shared");
        try (Berth berth = target.open()) {
            berth.pull(reference, null);
            Set<Integer> afterFirst = clientPortsTo(registry.port());
            assertThat(afterFirst).as("the client keeps its connections to the registry open").isNotEmpty();

            berth.pull(reference, null);
            assertThat(clientPortsTo(registry.port())).as("no new connection: the same client served both pulls")
                    .isSubsetOf(afterFirst);
        }
    }

    @Test
    void suppliedRegistryClientServesThePullsAndPushesOfSeveralRoots() {
        Recording seen = new Recording();
        try (RegistryClient shared = RegistryClient.builder().credentials(Credentials.none()).progress(seen)
                .build()) {
            String reference = registry.host() + "/berth/busybox:supplied";
            try (Berth berth = source.builder().registryClient(shared).build()) {
                berth.importImage(TestRoots.busyboxArchive());
                berth.namespace(Berth.DEFAULT_NAMESPACE).push(TestRoots.BUSYBOX, reference, PushSettings.defaults(),
                        null);
            }
            try (Berth berth = target.builder().registryClient(shared).build()) {
                Image pulled = berth.pull(reference, null);
                assertThat(berth.images().get(reference).target()).isEqualTo(pulled.target());
            }

            assertThat(seen.done).as("the client's own listener saw the push and the pull")
                    .containsExactly(reference, reference);
            assertThat(seen.unpacked).isNotEmpty();
        }
    }

    /**
     * Local ports of this machine's established TCP connections to 127.0.0.1:{@code port} (the JVM's
     * sockets are IPv6 ones holding an IPv4-mapped address, so both tables are read).
     */
    private static Set<Integer> clientPortsTo(int port) throws IOException {
        String remote = String.format("0100007F:%04X", port);
        Set<Integer> ports = new TreeSet<>();
        for (String table : List.of("/proc/net/tcp", "/proc/net/tcp6")) {
            for (String line : Files.readAllLines(Path.of(table))) {
                String[] f = line.trim().split("\\s+");
                if (f.length > 3 && f[3].equals("01") && f[2].endsWith(remote)) {
                    ports.add(Integer.parseInt(f[1].substring(f[1].indexOf(':') + 1), 16));
                }
            }
        }
        return ports;
    }

    private static final class Recording implements ProgressListener {
        final List<Descriptor> started = new CopyOnWriteArrayList<>();
        final List<Descriptor> unpacked = new CopyOnWriteArrayList<>();
        final List<String> done = new CopyOnWriteArrayList<>();

        @Override
        public void blobStarted(Descriptor blob, long resumedAt) {
            started.add(blob);
        }

        @Override
        public void layerUnpacked(Descriptor layer) {
            unpacked.add(layer);
        }

        @Override
        public void done(String reference, Descriptor target) {
            done.add(reference);
        }
    }
}

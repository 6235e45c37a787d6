package dev.berth.junit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.Berth;
import dev.berth.api.NotFoundException;
import dev.berth.snapshot.mount.Mounts;
import dev.berth.testing.ChildJvm;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;

/** A test JVM killed with SIGKILL mid-test leaves nothing: container, shim, mounts, netns, network, records. */
class KilledJvmIT {
    @Test
    void everythingAKilledJvmStartedIsGoneWithinSeconds() throws Exception {
        String id;
        int pid;
        String network;
        int hostPort;
        long shim;
        try (ChildJvm child = ChildJvm.start(KilledChild.class, ReuseIT.childProperties())) {
            String[] up = child.awaitLine("UP ", Duration.ofSeconds(90)).split(" ");
            id = up[1];
            pid = Integer.parseInt(up[2]);
            network = up[3];
            hostPort = Integer.parseInt(up[4]);
            assertThat(ProcessHandle.of(pid)).isPresent();
            // the container's shim: its own, or the spare it took (named for the spare, not the container)
            shim = ProcessHandle.of(pid).flatMap(ProcessHandle::parent).orElseThrow().pid();
            assertThat(ProcessHandle.of(shim).flatMap(p -> p.info().command()).orElse(""))
                    .endsWith("containerd-shim-runc-v2");
            child.kill(); // SIGKILL
        }
        Berth berth = BerthEnvironment.berth();
        Path state = berth.stateDir();
        // the session reaper (a watcher outside the JVM) kills and deletes the task and its shim by itself
        Awaitility.await().atMost(Duration.ofSeconds(30)).pollInterval(Duration.ofMillis(100)).untilAsserted(() -> {
            assertThat(ProcessHandle.of(pid).filter(ProcessHandle::isAlive)).isEmpty();
            assertThat(ProcessHandle.of(shim).filter(ProcessHandle::isAlive)).as("the container's shim").isEmpty();
            assertThat(shimsOf(id)).isEmpty();
            assertThat(state.resolve("tasks").resolve(BerthEnvironment.namespace().name()).resolve(id)).doesNotExist();
        });
        // records, snapshot, network attachment and network go with the next open (or this clean-up of a live peer)
        BerthEnvironment.cleanUp();
        assertThatThrownBy(() -> BerthEnvironment.namespace().containers().get(id)).isInstanceOf(NotFoundException.class);
        assertThatThrownBy(() -> BerthEnvironment.namespace().snapshots().stat(id)).isInstanceOf(NotFoundException.class);
        assertThat(berth.networks().attachment(BerthEnvironment.namespace().name(), id)).isEmpty();
        assertThat(berth.networks().list()).noneMatch(n -> n.name().equals(network));
        assertThat(Files.exists(berth.networks().netnsPath(BerthEnvironment.namespace().name(), id))).isFalse();
        assertThat(Mounts.mountPointsUnder(state)).noneMatch(p -> p.toString().contains(id));
        assertThat(Mounts.mountPointsUnder(berth.root())).noneMatch(p -> p.toString().contains(id));
        assertThat(portOpen(hostPort)).isFalse();
    }

    private static java.util.List<Long> shimsOf(String id) {
        return ProcessHandle.allProcesses().filter(p -> p.info().commandLine().orElse("").contains("-id " + id))
                .map(ProcessHandle::pid).toList();
    }

    private static boolean portOpen(int port) {
        try (Socket s = new Socket("127.0.0.1", port)) {
            return true;
        } catch (java.io.IOException e) {
            return false;
        }
    }
}

package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.stream.Stream;

/** Asserts that a deleted task left nothing behind: shim, socket, bundle, FIFOs, mounts, runc state. */
final class Leftovers {
    private Leftovers() {
    }

    /** The socket path containerd-shim-runc-v2 1.6 derives from its -address, namespace and id. */
    static Path shimSocket(Path stateDir, String namespace, String id) {
        String address = stateDir.resolve("berth.sock").toString();
        try {
            byte[] hash = MessageDigest.getInstance("SHA-256")
                    .digest((address + "/" + namespace + "/" + id).getBytes(StandardCharsets.UTF_8));
            return Path.of("/run/containerd/s", HexFormat.of().formatHex(hash));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** Pids of shim processes started for {@code id} (their command line names it). */
    static List<Long> shimProcesses(String id) {
        return liveShims(" -id " + id + " ");
    }

    /** Pids of live (not zombie) containerd shims whose command line contains {@code argument}. */
    static List<Long> liveShims(String argument) {
        List<Long> pids = new ArrayList<>();
        try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
            for (Path p : (Iterable<Path>) procs::iterator) {
                String name = p.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    String cmdline = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8)
                            .replace('\0', ' ');
                    if (cmdline.contains("containerd-shim") && cmdline.contains(argument)
                            && isRunning(Long.parseLong(name))) {
                        pids.add(Long.parseLong(name));
                    }
                } catch (IOException | RuntimeException e) {
                    // process went away while looking
                }
            }
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
        return pids;
    }

    /** Whether {@code pid} is a live process (not gone, not a zombie waiting to be reaped). */
    static boolean isRunning(long pid) {
        try {
            String stat = Files.readString(Path.of("/proc", Long.toString(pid), "stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state != 'Z' && state != 'X';
        } catch (IOException e) {
            return false;
        }
    }

    /** Cgroup directories runc would create for {@code id} by default, in every v1 hierarchy. */
    static List<Path> cgroupsNamed(String id) throws IOException {
        List<Path> found = new ArrayList<>();
        for (String line : Files.readAllLines(Path.of("/proc/self/cgroup"))) {
            String[] parts = line.split(":", 3);
            if (parts.length < 3 || parts[1].isEmpty()) {
                continue;
            }
            String controller = parts[1].startsWith("name=") ? parts[1].substring(5) : parts[1].split(",")[0];
            Path root = Path.of("/sys/fs/cgroup", controller);
            for (Path candidate : List.of(root.resolve(id), Path.of(root + parts[2]).resolve(id))) {
                if (Files.exists(candidate)) {
                    found.add(candidate);
                }
            }
        }
        return found;
    }

    private static List<Path> beingDeleted(Path nsDir, String id) throws IOException {
        try (Stream<Path> entries = Files.list(nsDir)) {
            return entries.filter(p -> p.getFileName().toString().startsWith("." + id)).toList();
        }
    }

    static void assertNone(Path stateDir, String namespace, String id) throws IOException {
        assertThat(shimProcesses(id)).as("shim processes of %s", id).isEmpty();
        assertThat(shimSocket(stateDir, namespace, id)).as("shim socket").doesNotExist();
        Path nsDir = stateDir.resolve("tasks").resolve(namespace);
        assertThat(nsDir.resolve(id)).as("bundle").doesNotExist();
        // Removed off the deleting thread after an atomic rename to .<id>.<n>.
        org.awaitility.Awaitility.await("bundle of " + id + " being removed").atMost(java.time.Duration.ofSeconds(10))
                .until(() -> !Files.exists(nsDir) || beingDeleted(nsDir, id).isEmpty());
        assertThat(stateDir.resolve("fifo").resolve(namespace).resolve(id)).as("fifo dir").doesNotExist();
        Path runcState = stateDir.resolve("runc").resolve(namespace).resolve(id);
        assertThat(runcState).as("runc state").doesNotExist();
        assertThat(cgroupsNamed(id)).as("cgroups of %s", id).isEmpty();
        String mounts = Files.readString(Path.of("/proc/self/mountinfo"));
        assertThat(mounts).as("mounts").doesNotContain(stateDir.toString());
    }
}

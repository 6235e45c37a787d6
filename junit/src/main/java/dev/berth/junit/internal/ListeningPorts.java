package dev.berth.junit.internal;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;

/**
 * The TCP ports listening in a process's network namespace, read from {@code /proc/<pid>/net/tcp} and
 * {@code tcp6}: these files show the sockets of the namespace the process lives in, so the host sees what
 * the container sees, without entering it.
 */
final class ListeningPorts {
    private static final String LISTEN = "0A";

    private ListeningPorts() {
    }

    static Set<Integer> of(int pid) throws IOException {
        Set<Integer> ports = new TreeSet<>();
        for (String table : List.of("tcp", "tcp6")) {
            List<String> lines;
            try {
                lines = Files.readAllLines(Path.of("/proc", Integer.toString(pid), "net", table));
            } catch (NoSuchFileException e) {
                continue; // no IPv6 in the kernel, or the process is gone
            }
            ports.addAll(parse(lines));
        }
        return ports;
    }

    /** Lines of the form {@code sl local_address rem_address st ...}, local address {@code hex-ip:hex-port}. */
    static Set<Integer> parse(List<String> lines) {
        Set<Integer> ports = new TreeSet<>();
        for (int i = 1; i < lines.size(); i++) {
            String[] f = lines.get(i).trim().split("\\s+");
            if (f.length > 3 && f[3].equals(LISTEN)) {
                int colon = f[1].lastIndexOf(':');
                if (colon > 0) {
                    ports.add(Integer.parseInt(f[1].substring(colon + 1), 16));
                }
            }
        }
        return ports;
    }
}

package dev.berth.network.internal;

import dev.berth.network.Attachment;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.List;

/** A container's {@code /etc/hosts}, {@code /etc/hostname} and {@code /etc/resolv.conf}. */
public final class NameFiles {
    private NameFiles() {
    }

    /** Writes {@code hostname} and {@code resolv.conf} for container {@code id} into {@code dir}. */
    public static void writeFor(Path dir, String id) throws IOException {
        write(dir.resolve("hostname"), (id.length() > 63 ? id.substring(0, 63) : id) + "\n");
        StringBuilder resolv = new StringBuilder();
        try {
            for (String line : Files.readAllLines(Path.of("/etc/resolv.conf"), StandardCharsets.UTF_8)) {
                // a loopback resolver (systemd-resolved's 127.0.0.53) is not reachable from the container
                if (!line.matches("\\s*nameserver\\s+(127\\.|::1).*")) {
                    resolv.append(line).append('\n');
                }
            }
        } catch (NoSuchFileException noHostResolver) {
            // the container gets an empty resolv.conf
        }
        write(dir.resolve("resolv.conf"), resolv.toString());
        if (!Files.exists(dir.resolve("hosts"))) {
            write(dir.resolve("hosts"), "");
        }
    }

    /** The hosts file of {@code self}: localhost, itself with its aliases, then its {@code peers}. */
    public static String hosts(Attachment self, List<Attachment> peers) {
        StringBuilder sb = new StringBuilder("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n");
        line(sb, self);
        for (Attachment p : peers) {
            if (!(p.namespace().equals(self.namespace()) && p.containerId().equals(self.containerId()))) {
                line(sb, p);
            }
        }
        return sb.toString();
    }

    private static void line(StringBuilder sb, Attachment a) {
        sb.append(a.ip()).append('\t').append(a.containerId());
        a.aliases().forEach(x -> sb.append(' ').append(x));
        sb.append('\n');
    }

    /** Writes {@code f} in place: a container's bind mount of it follows the inode, not the name. */
    public static void write(Path f, String content) throws IOException {
        Files.writeString(f, content, StandardCharsets.UTF_8, StandardOpenOption.CREATE,
                StandardOpenOption.TRUNCATE_EXISTING, StandardOpenOption.WRITE);
    }
}

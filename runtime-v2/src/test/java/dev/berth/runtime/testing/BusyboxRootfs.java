package dev.berth.runtime.testing;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.List;

/**
 * A minimal root filesystem made from the host's static busybox: {@code /bin/busybox} plus a symlink per
 * applet, {@code /etc/passwd} and {@code /etc/group} with root and user 1000, and the mount points runc
 * needs.
 */
public final class BusyboxRootfs {
    private static final Path BUSYBOX = Path.of("/bin/busybox");

    private BusyboxRootfs() {
    }

    public static Path populate(Path rootfs) throws IOException, InterruptedException {
        Path bin = Files.createDirectories(rootfs.resolve("bin"));
        Files.copy(BUSYBOX, bin.resolve("busybox"), StandardCopyOption.REPLACE_EXISTING);
        Files.setPosixFilePermissions(bin.resolve("busybox"), PosixFilePermissions.fromString("rwxr-xr-x"));
        for (String applet : applets()) {
            Path link = bin.resolve(applet);
            if (!applet.equals("busybox") && !Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
                Files.createSymbolicLink(link, Path.of("busybox"));
            }
        }
        for (String dir : List.of("proc", "sys", "dev", "tmp", "etc", "root", "home/user")) {
            Files.createDirectories(rootfs.resolve(dir));
        }
        Files.writeString(rootfs.resolve("etc/passwd"),
                "root:x:0:0:root:/root:/bin/sh\nuser:x:1000:1000:user:/home/user:/bin/sh\n", StandardCharsets.UTF_8);
        Files.writeString(rootfs.resolve("etc/group"), "root:x:0:\nuser:x:1000:\n", StandardCharsets.UTF_8);
        return rootfs;
    }

    private static List<String> applets() throws IOException, InterruptedException {
        Process p = new ProcessBuilder(BUSYBOX.toString(), "--list").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (p.waitFor() != 0) {
            throw new IOException("busybox --list failed: " + out);
        }
        List<String> applets = new ArrayList<>();
        for (String line : out.split("\n")) {
            if (!line.isBlank() && !line.contains("/")) {
                applets.add(line.trim());
            }
        }
        return applets;
    }
}

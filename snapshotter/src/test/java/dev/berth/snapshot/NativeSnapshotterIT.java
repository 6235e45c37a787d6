package dev.berth.snapshot;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.Mount;
import dev.berth.api.snapshot.Snapshotter;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class NativeSnapshotterIT extends SnapshotterContract {

    @Override
    Snapshotter open(Path root, boolean syncRemove) {
        return Snapshotters.nativeBuilder(root).syncRemove(syncRemove).build();
    }

    @Test
    void childrenAreFullCopiesThatLeaveTheParentUntouched() throws Exception {
        layer("l1", null, Map.of("f", "parent"));
        List<Mount> mounts = snapshotter.prepare("a", "l1");
        withMounted(mounts, dir -> Files.writeString(dir.resolve("f"), "child"));

        withMounted(snapshotter.view("v", "l1"), dir -> assertThat(dir.resolve("f")).hasContent("parent"));
        assertThat(layerDir(mounts).resolve("f")).hasContent("child");
        assertThat(snapshotter.name()).isEqualTo("native");
    }

    @Test
    void copiesPreserveOwnersModesTimesXattrsHardlinksAndSpecialFiles() throws Exception {
        List<Mount> base = snapshotter.prepare("base", null);
        Path src = layerDir(base);
        Files.setAttribute(src, "unix:mode", 0750);
        Path file = Files.writeString(src.resolve("setuid"), "bin");
        Files.setAttribute(file, "unix:uid", 1234);
        Files.setAttribute(file, "unix:gid", 5678);
        Files.setAttribute(file, "unix:mode", 04755);
        Files.createLink(src.resolve("hardlink"), file);
        Path sticky = Files.createDirectory(src.resolve("tmp"));
        Files.setAttribute(sticky, "unix:mode", 01777);
        Path link = Files.createSymbolicLink(src.resolve("link"), Path.of("setuid"));
        Files.setAttribute(link, "unix:uid", 42, LinkOption.NOFOLLOW_LINKS);
        run("mknod", src.resolve("null").toString(), "c", "1", "3");
        run("mkfifo", src.resolve("fifo").toString());
        byte[] capability = HexFormat.of().parseHex("0000000200200000000000000000000000000000");
        TestXattrs.set(file, "security.capability", capability);
        TestXattrs.set(file, "trusted.note", "t");
        TestXattrs.set(sticky, "user.note", "u");
        FileTime mtime = FileTime.from(Instant.parse("2020-01-02T03:04:05.123456789Z"));
        Files.setLastModifiedTime(file, mtime);
        Files.setLastModifiedTime(sticky, mtime);
        snapshotter.commit("l1", "base");

        Path copy = layerDir(snapshotter.prepare("copy", "l1"));

        assertThat(Files.getAttribute(copy, "unix:mode")).isEqualTo(040750);
        Path c = copy.resolve("setuid");
        assertThat(c).hasContent("bin");
        assertThat(Files.getAttribute(c, "unix:uid")).isEqualTo(1234);
        assertThat(Files.getAttribute(c, "unix:gid")).isEqualTo(5678);
        assertThat(Files.getAttribute(c, "unix:mode")).isEqualTo(0104755);
        assertThat(Files.getLastModifiedTime(c)).isEqualTo(mtime);
        assertThat(Files.getLastModifiedTime(copy.resolve("tmp"))).isEqualTo(mtime);
        assertThat(Files.getAttribute(c, "unix:ino")).isEqualTo(Files.getAttribute(copy.resolve("hardlink"), "unix:ino"))
                .isNotEqualTo(Files.getAttribute(file, "unix:ino"));
        assertThat(Files.getAttribute(copy.resolve("tmp"), "unix:mode")).isEqualTo(041777);
        assertThat(Files.readSymbolicLink(copy.resolve("link"))).isEqualTo(Path.of("setuid"));
        assertThat(Files.getAttribute(copy.resolve("link"), "unix:uid", LinkOption.NOFOLLOW_LINKS)).isEqualTo(42);
        assertThat(OverlaySnapshotterIT.isCharDevice(copy.resolve("null"))).isTrue();
        assertThat(Files.getAttribute(copy.resolve("null"), "unix:rdev", LinkOption.NOFOLLOW_LINKS))
                .isEqualTo(Files.getAttribute(src.resolve("null"), "unix:rdev", LinkOption.NOFOLLOW_LINKS));
        int fifoMode = (Integer) Files.getAttribute(copy.resolve("fifo"), "unix:mode", LinkOption.NOFOLLOW_LINKS);
        assertThat(fifoMode & 0170000).isEqualTo(0010000);
        assertThat(TestXattrs.get(c, "security.capability")).hasValue(capability);
        assertThat(TestXattrs.get(c, "trusted.note")).hasValueSatisfying(v -> assertThat(new String(v)).isEqualTo("t"));
        assertThat(TestXattrs.get(copy.resolve("tmp"), "user.note")).isPresent();
    }

    @Test
    void viewsOfAParentNeedNoCopy() throws Exception {
        layer("l1", null, Map.of("f", "1"));
        List<String> before = listTree(root.resolve("snapshots"));

        snapshotter.view("v", "l1");

        assertThat(listTree(root.resolve("snapshots"))).isEqualTo(before);
    }

    private static void run(String... cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor()).as(String.join(" ", cmd) + ": " + out).isZero();
    }
}

package dev.berth.examples;

import dev.berth.content.LocalContentStore;
import dev.berth.image.ImageService;
import dev.berth.image.LayerContent;
import dev.berth.sys.FileTrees;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Builds the demo image — a tiny Linux userland made of Debian's statically linked {@code /bin/busybox}
 * (package {@code busybox-static}) — with Berth's image builder, and writes it as an OCI image archive.
 * Its command greets, prints the container's hostname and lists its processes.
 *
 * <pre>
 *   java -cp ... dev.berth.examples.DemoImage demo.tar [name]
 * </pre>
 */
public final class DemoImage {
    /** The name the demo image is stored under. */
    public static final String NAME = "berth.dev/demo:latest";
    static final Path BUSYBOX = Path.of("/bin/busybox");

    private static final String GREET = """
            #!/bin/sh
            echo "Hello from a Berth container: no daemon, no network."
            echo "hostname: $(hostname)"
            echo "processes:"
            ps
            """;

    private DemoImage() {
    }

    public static void main(String[] args) throws Exception {
        if (args.length < 1 || args.length > 2) {
            System.err.println("usage: DemoImage ARCHIVE.tar [NAME]");
            System.exit(2);
        }
        Path archive = Path.of(args[0]);
        String name = args.length > 1 ? args[1] : NAME;
        write(archive, name);
        System.out.println(name + " -> " + archive);
    }

    /** The demo image's files: busybox, a symlink per applet, users, and the greeting script. */
    public static LayerContent layer() throws IOException, InterruptedException {
        if (!Files.isExecutable(BUSYBOX)) {
            throw new IllegalStateException(BUSYBOX + " is missing: install Debian's busybox-static");
        }
        LayerContent.Builder b = LayerContent.builder()
                .file("/bin/busybox", Files.readAllBytes(BUSYBOX), 0755)
                .file("/etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n")
                .file("/etc/group", "root:x:0:\nnobody:x:65534:\n")
                .file("/usr/local/bin/greet", GREET.getBytes(StandardCharsets.UTF_8), 0755)
                .dir("/tmp", 01777)
                .dir("/root", 0700)
                .dir("/proc")
                .dir("/sys")
                .dir("/dev");
        for (String applet : applets()) {
            if (!applet.equals("busybox")) {
                b.symlink("/bin/" + applet, "busybox");
            }
        }
        return b.build();
    }

    private static List<String> applets() throws IOException, InterruptedException {
        Process p = new ProcessBuilder(BUSYBOX.toString(), "--list").redirectErrorStream(true).start();
        List<String> names = new ArrayList<>();
        for (String line : new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).split("\n")) {
            if (!line.isBlank() && !line.contains("/")) {
                names.add(line.trim());
            }
        }
        if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0 || names.isEmpty()) {
            throw new IllegalStateException(BUSYBOX + " --list failed");
        }
        return names;
    }

    /**
     * Builds the image in a scratch content store and exports it (OCI layout tar with a Docker
     * {@code manifest.json}) to {@code archive}.
     */
    public static void write(Path archive, String name) throws IOException, InterruptedException {
        Path scratch = Files.createTempDirectory("berth-demo-build-");
        try (LocalContentStore store = LocalContentStore.open(scratch.resolve("content"));
             ImageService images = ImageService.builder(store).build();
             OutputStream out = Files.newOutputStream(archive)) {
            images.newImage()
                    .layer(layer())
                    .env("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
                    .cmd("/usr/local/bin/greet")
                    .label("org.opencontainers.image.title", "Berth demo")
                    .build(name);
            images.export(out, name);
        } finally {
            FileTrees.deleteTree(scratch); // Berth's own delete: no symlink followed, no mount crossed
        }
    }
}

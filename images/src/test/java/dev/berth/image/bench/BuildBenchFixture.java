package dev.berth.image.bench;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.content.ReaderAt;
import dev.berth.content.LocalContentStore;
import dev.berth.image.ImageService;
import dev.berth.image.LayerContent;
import dev.berth.image.ResolvedImage;
import dev.berth.testing.TestFiles;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Date;
import java.util.List;
import java.util.Random;
import java.util.zip.GZIPInputStream;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Builds the import benchmark's fixture from a debootstrap directory: a 2-layer image (layer 1 = the
 * directory, layer 2 adds files and deletes some of layer 1's) written as an OCI layout tar (gzip layers)
 * and as a {@code docker save} tar (uncompressed {@code <id>/layer.tar}). Run on demand by
 * {@code bench/import.sh}; not a test.
 *
 * <p>Usage: {@code BuildBenchFixture <rootfs dir> <output dir>}
 */
public final class BuildBenchFixture {
    static final String NAME = "docker.io/library/berth-bench-debian:bookworm";

    private BuildBenchFixture() {
    }

    public static void main(String[] args) throws Exception {
        Path rootfs = Path.of(args[0]);
        Path out = Path.of(args[1]);
        Files.createDirectories(out);
        Path work = Files.createTempDirectory(out, "build-");
        try (LocalContentStore store = LocalContentStore.open(work.resolve("content"));
             ImageService images = ImageService.builder(store).build()) {
            LayerContent.Builder second = LayerContent.builder()
                    .delete("/usr/share/doc")
                    .delete("/usr/share/man")
                    .delete("/var/cache/apt/archives")
                    .delete("/etc/motd")
                    .file("/etc/berth-bench.conf", "layer = 2\n");
            Random random = new Random(42);
            for (int i = 0; i < 400; i++) {
                byte[] data = new byte[4096 + random.nextInt(32 << 10)];
                random.nextBytes(data);
                second.file(String.format("/opt/bench/data/%03d/file-%04d.bin", i % 20, i), data);
            }
            long t0 = System.nanoTime();
            images.newImage()
                    .layer(LayerContent.builder().copy(rootfs, "/").build())
                    .layer(second.build())
                    .entrypoint("/bin/bash")
                    .env("PATH", "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin")
                    .build(NAME);
            System.out.printf("built image in %.1f s%n", (System.nanoTime() - t0) / 1e9);
            Path oci = out.resolve("debian-oci.tar");
            try (OutputStream os = Files.newOutputStream(oci)) {
                images.export(os, NAME);
            }
            ResolvedImage image = images.resolve(NAME);
            writeDockerSave(store, image, out.resolve("debian-docker.tar"), work);
            System.out.printf("wrote %s (%d MB) and %s (%d MB)%n", oci, Files.size(oci) >> 20,
                    out.resolve("debian-docker.tar"), Files.size(out.resolve("debian-docker.tar")) >> 20);
        } finally {
            TestFiles.deleteTree(work);
        }
    }

    /** {@code docker save} layout: {@code <chainID hex>/layer.tar} uncompressed, {@code <config hex>.json}, manifest.json. */
    static void writeDockerSave(LocalContentStore store, ResolvedImage image, Path file, Path work) throws IOException {
        ObjectMapper json = new ObjectMapper();
        List<Digest> chain = image.chainIds();
        try (OutputStream os = Files.newOutputStream(file);
             TarArchiveOutputStream tar = new TarArchiveOutputStream(os, 1 << 16)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            ArrayNode layers = json.createArrayNode();
            for (int i = 0; i < image.layers().size(); i++) {
                Descriptor layer = image.layers().get(i);
                Path plain = work.resolve("layer-" + i + ".tar");
                try (ReaderAt r = store.readerAt(layer); InputStream in = new GZIPInputStream(r.inputStream(), 1 << 16)) {
                    Files.copy(in, plain);
                }
                String dir = chain.get(i).hex();
                TarArchiveEntry d = new TarArchiveEntry(dir + "/");
                d.setModTime(new Date(0));
                tar.putArchiveEntry(d);
                tar.closeArchiveEntry();
                TarArchiveEntry e = new TarArchiveEntry(dir + "/layer.tar");
                e.setSize(Files.size(plain));
                e.setModTime(new Date(0));
                tar.putArchiveEntry(e);
                Files.copy(plain, tar);
                tar.closeArchiveEntry();
                Files.delete(plain);
                layers.add(dir + "/layer.tar");
            }
            byte[] config;
            try (ReaderAt r = store.readerAt(image.manifest().config())) {
                config = r.inputStream().readAllBytes();
            }
            String configName = image.manifest().config().digest().hex() + ".json";
            put(tar, configName, config);
            ArrayNode manifest = json.createArrayNode();
            ObjectNode entry = manifest.addObject();
            entry.put("Config", configName);
            entry.putArray("RepoTags").add("berth-bench-debian:bookworm");
            entry.set("Layers", layers);
            put(tar, "manifest.json", json.writeValueAsBytes(manifest));
            ObjectNode repos = json.createObjectNode();
            repos.putObject("berth-bench-debian").put("bookworm", chain.get(chain.size() - 1).hex());
            put(tar, "repositories", json.writeValueAsBytes(repos));
        }
    }

    private static void put(TarArchiveOutputStream tar, String name, byte[] bytes) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setSize(bytes.length);
        e.setModTime(new Date(0));
        tar.putArchiveEntry(e);
        tar.write(bytes);
        tar.closeArchiveEntry();
    }
}

package dev.berth.image;

import dev.berth.api.MediaTypes.Compression;
import dev.berth.api.Platform;
import dev.berth.testing.LayerBuilder;
import dev.berth.testing.TestImage;
import dev.berth.testing.TestImageBuilder;
import dev.berth.testing.fuzz.Fuzz;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.ForAll;
import net.jqwik.api.Property;
import net.jqwik.api.Provide;
import net.jqwik.api.lifecycle.AfterContainer;
import net.jqwik.api.lifecycle.BeforeContainer;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveOutputStream;

/**
 * Fuzz target: the archive importer's index and manifest parsing. The seeds in {@code fuzz/archive-json} are
 * an OCI {@code index.json} or a docker {@code manifest.json} with placeholders for a small real image's
 * digests; each mutated document is packed with that image's blobs into an archive and imported. An archive
 * is imported or refused with a {@link dev.berth.api.BerthException}, in bounded time.
 */
class ArchiveImportFuzzTest {
    private static Path dir;
    private static Fixture fixture;
    private static TestImage image;
    private static Map<String, String> placeholders;

    @BeforeContainer
    static void open() throws IOException {
        dir = Files.createTempDirectory("berth-import-fuzz-");
        fixture = new Fixture(dir);
        image = TestImageBuilder.create().platform(Platform.host())
                .layer(LayerBuilder.create().dir("etc").file("etc/hello", "hi").build(Compression.NONE)).build();
        placeholders = new LinkedHashMap<>();
        placeholders.put("@MANIFEST_DIGEST@", image.descriptor().digest().toString());
        placeholders.put("@MANIFEST_SIZE@", Long.toString(image.descriptor().size()));
        placeholders.put("@CONFIG_HEX@", image.config().digest().hex());
        placeholders.put("@LAYER_HEX@", image.layers().get(0).digest().hex());
        placeholders.put("@LAYER_DIGEST@", image.layers().get(0).digest().toString());
        placeholders.put("@LAYER_SIZE@", Long.toString(image.layers().get(0).size()));
        placeholders.put("@DIFF_ID@", image.diffIds().get(0).toString());
        placeholders.put("@ARCH@", image.platform().architecture());
    }

    @AfterContainer
    static void close() throws IOException {
        fixture.close();
        dev.berth.testing.TestFiles.deleteTree(dir);
    }

    @Provide
    Arbitrary<byte[]> documents() {
        return Fuzz.mutated(Fuzz.corpus("archive-json"));
    }

    @Property(shrinking = net.jqwik.api.ShrinkingMode.BOUNDED)
    void importsOrRefuses(@ForAll("documents") byte[] document) {
        byte[] archive = archive(document);
        Fuzz.check("archive import", document, () -> fixture.service.importArchive(new ByteArrayInputStream(archive)));
    }

    private static byte[] archive(byte[] document) {
        String text = new String(document, StandardCharsets.UTF_8);
        for (Map.Entry<String, String> p : placeholders.entrySet()) {
            text = text.replace(p.getKey(), p.getValue());
        }
        byte[] json = text.getBytes(StandardCharsets.UTF_8);
        boolean docker = text.stripLeading().startsWith("[");
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (TarArchiveOutputStream tar = new TarArchiveOutputStream(out)) {
            tar.setLongFileMode(TarArchiveOutputStream.LONGFILE_POSIX);
            if (docker) {
                put(tar, "manifest.json", json);
                put(tar, image.config().digest().hex() + ".json", image.configBytes());
                put(tar, image.layers().get(0).digest().hex() + "/layer.tar", image.layers().get(0).blob());
            } else {
                put(tar, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}".getBytes(StandardCharsets.UTF_8));
                put(tar, "index.json", json);
                for (var blob : image.blobs().entrySet()) {
                    put(tar, "blobs/sha256/" + blob.getKey().hex(), blob.getValue());
                }
            }
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        return out.toByteArray();
    }

    private static void put(TarArchiveOutputStream tar, String name, byte[] content) throws IOException {
        TarArchiveEntry e = new TarArchiveEntry(name);
        e.setSize(content.length);
        tar.putArchiveEntry(e);
        tar.write(content);
        tar.closeArchiveEntry();
    }
}

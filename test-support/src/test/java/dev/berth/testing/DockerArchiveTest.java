package dev.berth.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.api.Digest;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DockerArchiveTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private final TestLayer base = LayerBuilder.create().file("base", "b").build();
    private final TestLayer empty = LayerBuilder.create().build();
    private final TestImage app = TestImageBuilder.create().layer(base).layer(empty)
            .layer(LayerBuilder.create().file("app", "a").build()).layer(empty).build();
    private final TestImage other = TestImageBuilder.create().layer(base).build();

    private Map<String, byte[]> readTar(Path tar) throws IOException {
        try (InputStream in = Files.newInputStream(tar)) {
            return TarReading.readFiles(in);
        }
    }

    @Test
    void manifestListsConfigAndLayerPathsThatExistWithMatchingDigests() throws IOException {
        Path tar = tmp.resolve("save.tar");
        DockerArchive.Written written = DockerArchive.builder()
                .image(app, "example.com/app:1", "app:latest").write(tar);

        Map<String, byte[]> files = readTar(tar);
        JsonNode manifest = JSON.readTree(files.get("manifest.json"));
        assertThat(manifest).hasSize(1);
        JsonNode entry = manifest.get(0);
        String config = entry.get("Config").asText();
        assertThat(config).isEqualTo(app.config().digest().hex() + ".json");
        assertThat(Digest.sha256(files.get(config))).isEqualTo(app.config().digest());
        assertThat(entry.get("RepoTags")).extracting(JsonNode::asText).containsExactly("example.com/app:1", "app:latest");
        assertThat(entry.get("Layers")).hasSize(4);
        for (int i = 0; i < 4; i++) {
            String path = entry.get("Layers").get(i).asText();
            assertThat(path).isEqualTo(app.chainIds().get(i).hex() + "/layer.tar");
            assertThat(Digest.sha256(files.get(path))).as(path).isEqualTo(app.diffIds().get(i));
            assertThat(files).containsKey(path.replace("layer.tar", "VERSION"));
        }
        assertThat(written.entries()).singleElement().satisfies(e -> {
            assertThat(e.config()).isEqualTo(config);
            assertThat(e.image()).isEqualTo(app);
        });
        assertThat(written.manifestJson()).isEqualTo(files.get("manifest.json"));
        assertThat(written.symlinks()).isEmpty();

        JsonNode repositories = JSON.readTree(files.get("repositories"));
        String top = app.chainIds().get(3).hex();
        assertThat(repositories.get("example.com/app").get("1").asText()).isEqualTo(top);
        assertThat(repositories.get("app").get("latest").asText()).isEqualTo(top);
    }

    @Test
    void duplicateLayerBecomesSymlinkToItsFirstCopy() throws IOException {
        Path tar = tmp.resolve("save.tar");
        DockerArchive.Written written = DockerArchive.builder().symlinkDuplicateLayers().image(app, "app:1").write(tar);

        String first = app.chainIds().get(1).hex() + "/layer.tar";
        String second = app.chainIds().get(3).hex() + "/layer.tar";
        assertThat(written.symlinks()).containsExactly(Map.entry(second, "../" + first));
        assertThat(new String(readTar(tar).get(second), StandardCharsets.UTF_8)).isEqualTo("-> ../" + first);
    }

    @Test
    void imagesSharingBaseLayersShareItsDirectory() throws IOException {
        Path tar = tmp.resolve("save.tar");
        DockerArchive.builder().image(app, "app:1").image(other).write(tar);

        Map<String, byte[]> files = readTar(tar);
        JsonNode manifest = JSON.readTree(files.get("manifest.json"));
        assertThat(manifest).hasSize(2);
        assertThat(manifest.get(1).get("Layers").get(0).asText()).isEqualTo(manifest.get(0).get("Layers").get(0).asText());
        assertThat(manifest.get(1).get("RepoTags").isNull()).isTrue();
        assertThat(files.keySet().stream().filter(n -> n.endsWith("/layer.tar")).count()).isEqualTo(4);
    }

    @Test
    void compressedLayersStoreTheBlobs() throws IOException {
        Path tar = tmp.resolve("save.tar");
        DockerArchive.builder().compressedLayers().image(other, "o:1").write(tar);

        assertThat(readTar(tar).get(other.chainIds().get(0).hex() + "/layer.tar")).isEqualTo(base.blob());
    }
}

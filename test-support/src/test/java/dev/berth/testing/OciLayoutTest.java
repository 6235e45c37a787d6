package dev.berth.testing;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.api.Digest;
import dev.berth.api.MediaTypes;
import dev.berth.api.Platform;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class OciLayoutTest {
    static final ObjectMapper JSON = new ObjectMapper();

    @TempDir
    Path tmp;

    private final TestImage small = TestImageBuilder.create()
            .layer(LayerBuilder.create().file("hello", "hi").build()).entrypoint("/hello").build();
    private final TestIndex multi = IndexBuilder.create()
            .manifest(TestImageBuilder.create().platform(Platform.parse("linux/amd64"))
                    .layer(LayerBuilder.create().file("p", "amd64").build()).build())
            .manifest(TestImageBuilder.create().platform(Platform.parse("linux/arm64"))
                    .layer(LayerBuilder.create().file("p", "arm64").build()).build())
            .build();

    /** Follows every descriptor from index.json and checks each blob's digest and size against its bytes. */
    static Set<Digest> verifyReachable(Function<String, byte[]> files) throws IOException {
        assertThat(JSON.readTree(files.apply("oci-layout")).get("imageLayoutVersion").asText()).isEqualTo("1.0.0");
        Deque<JsonNode> todo = new ArrayDeque<>();
        JSON.readTree(files.apply("index.json")).get("manifests").forEach(todo::add);
        Set<Digest> seen = new HashSet<>();
        while (!todo.isEmpty()) {
            JsonNode d = todo.pop();
            Digest digest = Digest.parse(d.get("digest").asText());
            byte[] blob = files.apply("blobs/sha256/" + digest.hex());
            assertThat(blob).as("blob %s", digest).isNotNull();
            assertThat(Digest.sha256(blob)).isEqualTo(digest);
            assertThat((long) blob.length).isEqualTo(d.get("size").asLong());
            seen.add(digest);
            String type = d.get("mediaType").asText();
            if (MediaTypes.isIndex(type)) {
                JSON.readTree(blob).get("manifests").forEach(todo::add);
            } else if (MediaTypes.isManifest(type)) {
                JsonNode m = JSON.readTree(blob);
                todo.add(m.get("config"));
                m.get("layers").forEach(todo::add);
            }
        }
        return seen;
    }

    private static byte[] read(Path p) {
        try {
            return Files.exists(p) ? Files.readAllBytes(p) : null;
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    @Test
    void directoryLayoutHasValidIndexAndEveryBlobUnderItsDigest() throws IOException {
        Path dir = tmp.resolve("layout");
        OciLayout.Written written = OciLayout.builder()
                .image("docker.io/library/small:1.0", small)
                .image("example.com/multi:latest", multi)
                .writeDirectory(dir);

        Set<Digest> reachable = verifyReachable(name -> read(dir.resolve(name)));
        assertThat(reachable).containsAll(small.blobs().keySet()).containsAll(multi.blobs().keySet());
        try (Stream<Path> files = Files.list(dir.resolve("blobs/sha256"))) {
            assertThat(files.count()).isEqualTo(reachable.size());
        }
        assertThat(written.path()).isEqualTo(dir);
        assertThat(written.blobs()).containsEntry(small.config().digest(), "blobs/sha256/" + small.config().digest().hex());
        assertThat(Files.readAllBytes(dir.resolve("index.json"))).isEqualTo(written.indexJson());
    }

    @Test
    void indexJsonNamesImagesWithContainerdAndOciAnnotations() throws IOException {
        OciLayout.Written written = OciLayout.builder()
                .image("docker.io/library/small:1.0", small)
                .ref("v2", multi)
                .entry(small, Map.of())
                .writeDirectory(tmp.resolve("l"));

        JsonNode manifests = JSON.readTree(written.indexJson()).get("manifests");
        assertThat(manifests).hasSize(3);
        JsonNode first = manifests.get(0);
        assertThat(first.get("digest").asText()).isEqualTo(small.descriptor().digest().toString());
        assertThat(first.get("mediaType").asText()).isEqualTo(MediaTypes.OCI_MANIFEST);
        assertThat(first.get("annotations").get(OciLayout.CONTAINERD_NAME).asText())
                .isEqualTo("docker.io/library/small:1.0");
        assertThat(first.get("annotations").get(OciLayout.OCI_REF_NAME).asText()).isEqualTo("1.0");
        assertThat(manifests.get(1).get("mediaType").asText()).isEqualTo(MediaTypes.OCI_INDEX);
        assertThat(manifests.get(1).get("annotations").get(OciLayout.OCI_REF_NAME).asText()).isEqualTo("v2");
        assertThat(manifests.get(1).get("annotations").has(OciLayout.CONTAINERD_NAME)).isFalse();
        assertThat(manifests.get(2).has("annotations")).isFalse();
    }

    @Test
    void refNameIsTheTagOrDigestOfTheName() {
        assertThat(OciLayout.refNameOf("localhost:5000/a/b:tag")).isEqualTo("tag");
        assertThat(OciLayout.refNameOf("localhost:5000/a/b")).isEqualTo("localhost:5000/a/b");
        assertThat(OciLayout.refNameOf("a@sha256:abc")).isEqualTo("sha256:abc");
    }

    @Test
    void tarLayoutHoldsTheSameFilesAsTheDirectory() throws IOException {
        Path tar = tmp.resolve("layout.tar");
        OciLayout layout = OciLayout.builder().image("docker.io/library/multi:latest", multi);
        OciLayout.Written written = layout.writeTar(tar);

        Map<String, byte[]> files;
        try (var in = Files.newInputStream(tar)) {
            files = TarReading.readFiles(in);
        }
        assertThat(files.keySet()).startsWith("oci-layout", "index.json", "blobs/", "blobs/sha256/");
        verifyReachable(files::get);
        assertThat(files.get("index.json")).isEqualTo(written.indexJson());
        assertThat(written.blobs()).hasSize(multi.blobs().size());

        ByteArrayOutputStream again = new ByteArrayOutputStream();
        layout.writeTar(again);
        assertThat(again.toByteArray()).as("deterministic").isEqualTo(Files.readAllBytes(tar));
    }

    @Test
    void omittedBlobIsMissingFromTheLayout() throws IOException {
        Digest layer = small.layers().get(0).digest();
        OciLayout.Written written = OciLayout.builder().image("x:1", small).omitBlob(layer)
                .writeDirectory(tmp.resolve("l"));

        assertThat(written.blobs()).doesNotContainKey(layer).containsKey(small.config().digest());
        assertThat(tmp.resolve("l").resolve(OciLayout.blobPath(layer))).doesNotExist();
    }
}

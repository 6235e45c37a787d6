package dev.berth.api;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.oci.image.Index;
import dev.berth.api.oci.image.Manifest;
import dev.berth.api.oci.image.OciJson;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The OCI 1.1 descriptor fields {@code artifactType} and {@code data} survive parsing and writing. */
class DescriptorOci11Test {
    private static final byte[] EMPTY_JSON = "{}".getBytes(StandardCharsets.UTF_8);
    private static final String EMPTY_DIGEST = "sha256:44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a";

    @Test
    void emptyDescriptorHasTheSpecsWellKnownDigest() {
        Descriptor d = Descriptor.of(MediaTypes.OCI_EMPTY, EMPTY_JSON);
        assertThat(d.digest()).hasToString(EMPTY_DIGEST);
        assertThat(d.size()).isEqualTo(2);
    }

    @Test
    void parsedDescriptorKeepsArtifactTypeAndData() {
        String json = "{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"digest\":\"" + EMPTY_DIGEST
                + "\",\"size\":2,\"data\":\"e30=\",\"artifactType\":\"application/vnd.example+type\"}";
        Descriptor d = OciJson.parseDescriptor(json.getBytes(StandardCharsets.UTF_8));
        assertThat(d.artifactType()).isEqualTo("application/vnd.example+type");
        assertThat(d.data()).isEqualTo(EMPTY_JSON);
        assertThat(d.verifiedData()).hasValueSatisfying(b -> assertThat(b).isEqualTo(EMPTY_JSON));
        assertThat(new String(OciJson.write(d), StandardCharsets.UTF_8)).isEqualTo(json);
    }

    @Test
    void rewrittenIndexAndManifestKeepDescriptorFields() {
        Descriptor config = Descriptor.of(MediaTypes.OCI_EMPTY, EMPTY_JSON).withData(EMPTY_JSON);
        Descriptor layer = new Descriptor("application/vnd.example.payload", Digest.sha256(new byte[] {1}), 1)
                .withArtifactType("application/vnd.example.kind");
        Manifest m = new Manifest(2, MediaTypes.OCI_MANIFEST, "application/vnd.example.artifact", config,
                List.of(layer), null, Map.of(), Map.of(), null);
        Manifest back = OciJson.parseManifest(OciJson.write(m));
        assertThat(back.config()).isEqualTo(config);
        assertThat(back.layers()).containsExactly(layer);
        assertThat(back.artifactType()).isEqualTo("application/vnd.example.artifact");

        Descriptor entry = Descriptor.of(MediaTypes.OCI_MANIFEST, OciJson.write(m))
                .withArtifactType("application/vnd.example.artifact");
        Index index = OciJson.parseIndex(OciJson.write(Index.of(List.of(entry))));
        assertThat(index.manifests()).containsExactly(entry);
    }

    @Test
    void withersKeepTheNewFields() {
        Descriptor d = Descriptor.of(MediaTypes.OCI_EMPTY, EMPTY_JSON).withData(EMPTY_JSON).withArtifactType("a/b");
        Descriptor changed = d.withAnnotations(Map.of("k", "v")).withPlatform(new Platform("linux", "amd64"))
                .withMediaType(MediaTypes.OCI_CONFIG);
        assertThat(changed.artifactType()).isEqualTo("a/b");
        assertThat(changed.data()).isEqualTo(EMPTY_JSON);
    }

    @Test
    void dataIsCopiedInAndOut() {
        byte[] bytes = EMPTY_JSON.clone();
        Descriptor d = Descriptor.of(MediaTypes.OCI_EMPTY, EMPTY_JSON).withData(bytes);
        bytes[0] = 'x';
        d.data()[1] = 'y';
        assertThat(d.data()).isEqualTo(EMPTY_JSON);
        assertThat(d).isEqualTo(Descriptor.of(MediaTypes.OCI_EMPTY, EMPTY_JSON).withData(EMPTY_JSON.clone()));
        assertThat(d).hasSameHashCodeAs(Descriptor.of(MediaTypes.OCI_EMPTY, EMPTY_JSON).withData(EMPTY_JSON.clone()));
    }

    @Test
    void dataNotMatchingSizeOrDigestIsRejectedWhenUsed() {
        Descriptor wrongSize = Descriptor.of(MediaTypes.OCI_EMPTY, EMPTY_JSON).withData("{ }".getBytes());
        assertThatThrownBy(wrongSize::verifiedData).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("3 bytes").hasMessageContaining(EMPTY_DIGEST);
        Descriptor wrongDigest = Descriptor.of(MediaTypes.OCI_EMPTY, EMPTY_JSON).withData("[]".getBytes());
        assertThatThrownBy(wrongDigest::verifiedData).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("embedded data has digest");
    }

    @Test
    void invalidBase64IsRejectedWithItsPath() {
        String json = "{\"schemaVersion\":2,\"config\":{\"mediaType\":\"application/vnd.oci.empty.v1+json\",\"digest\":\""
                + EMPTY_DIGEST + "\",\"size\":2,\"data\":\"!!\"}}";
        assertThatThrownBy(() -> OciJson.parseManifest(json.getBytes(StandardCharsets.UTF_8)))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("config.data")
                .hasMessageContaining("base64");
    }
}

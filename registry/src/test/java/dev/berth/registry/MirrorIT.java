package dev.berth.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.berth.content.LocalContentStore;
import dev.berth.testing.Busybox;
import dev.berth.testing.LayerBuilder;
import dev.berth.testing.TestImage;
import dev.berth.testing.TestImageBuilder;
import dev.berth.testing.TestRegistry;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** hosts.toml mirrors: tried in order before the server, falling through on what they lack. */
class MirrorIT {
    @TempDir
    Path tmp;

    private TestRegistry upstream;
    private TestRegistry mirror;
    private FaultProxy mirrorSpy;

    @BeforeEach
    void start() throws Exception {
        assertThat(TestRegistry.available()).as("docker-registry unpacked by scripts/install-deps").isTrue();
        upstream = TestRegistry.create(tmp.resolve("upstream")).start();
        mirror = TestRegistry.create(tmp.resolve("mirror")).start();
        mirrorSpy = new FaultProxy(mirror.port());
    }

    @AfterEach
    void stop() throws Exception {
        if (mirrorSpy != null) {
            mirrorSpy.close();
        }
        if (mirror != null) {
            mirror.close();
        }
        if (upstream != null) {
            upstream.close();
        }
    }

    private void push(TestRegistry registry, String repoTag, TestImage image) {
        try (LocalContentStore store = Fixtures.store(tmp.resolve("push-" + registry.port() + "-" + image.descriptor()
                .digest().hex().substring(0, 8)));
             RegistryClient client = Fixtures.client(store).build()) {
            Fixtures.load(store, image);
            client.push(registry.host() + "/" + repoTag, image.descriptor(), PushOptions.defaults());
        }
    }

    private Path hostsDir() throws Exception {
        Path hosts = tmp.resolve("certs.d");
        Path dir = Files.createDirectories(hosts.resolve(upstream.host()));
        Files.writeString(dir.resolve("hosts.toml"), """
                server = "http://%s"

                [host."http://%s"]
                  capabilities = ["pull", "resolve"]
                """.formatted(upstream.host(), mirrorSpy.host()));
        return hosts;
    }

    @Test
    void mirrorThatHasTheImageIsUsedFirst() throws Exception {
        TestImage onMirror = Busybox.image();
        TestImage onUpstream = TestImageBuilder.create().layer(LayerBuilder.create().file("upstream", "u").build())
                .build();
        push(mirror, "berth/app:v1", onMirror);
        push(upstream, "berth/app:v1", onUpstream);
        try (LocalContentStore store = Fixtures.store(tmp.resolve("s"));
             RegistryClient client = Fixtures.client(store).hostsDirectory(hostsDir()).build()) {
            PullResult result = client.pull(upstream.host() + "/berth/app:v1", PullOptions.defaults());

            assertThat(result.target().digest()).isEqualTo(onMirror.descriptor().digest());
            assertThat(result.name()).isEqualTo(upstream.host() + "/berth/app:v1");
        }
        assertThat(mirrorSpy.requestHeads()).anyMatch(h -> h.contains("ns=" + upstream.host().replace(":", "%3A"))
                || h.contains("ns=" + upstream.host()));
    }

    @Test
    void mirrorThatLacksTheImageFallsBackToTheServer() throws Exception {
        TestImage onUpstream = Busybox.image();
        push(upstream, "berth/only-upstream:v1", onUpstream);
        try (LocalContentStore store = Fixtures.store(tmp.resolve("s"));
             RegistryClient client = Fixtures.client(store).hostsDirectory(hostsDir()).build()) {
            PullResult result = client.pull(upstream.host() + "/berth/only-upstream:v1", PullOptions.defaults());

            assertThat(result.target().digest()).isEqualTo(onUpstream.descriptor().digest());
            assertThat(store.verify(onUpstream.layers().get(0).digest()).size())
                    .isEqualTo(onUpstream.layers().get(0).size());
        }
        assertThat(mirrorSpy.requestHeads()).anyMatch(h -> h.startsWith("HEAD /v2/berth/only-upstream/manifests/v1"));
    }

    @Test
    void pushGoesToTheServerNotToAPullOnlyMirror() throws Exception {
        TestImage image = Busybox.image();
        try (LocalContentStore store = Fixtures.store(tmp.resolve("s"));
             RegistryClient client = Fixtures.client(store).hostsDirectory(hostsDir()).build()) {
            Fixtures.load(store, image);
            client.push(upstream.host() + "/berth/pushed:v1", image.descriptor(), PushOptions.defaults());
        }
        assertThat(mirrorSpy.requestHeads()).isEmpty();
        assertThat(Files.exists(upstream.blobData(image.layers().get(0).digest()))).isTrue();
    }
}

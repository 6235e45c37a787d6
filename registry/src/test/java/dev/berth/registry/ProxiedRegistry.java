package dev.berth.registry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.Descriptor;
import dev.berth.content.LocalContentStore;
import dev.berth.testing.TestImage;
import dev.berth.testing.TestRegistry;
import java.nio.file.Path;

/**
 * A real registry holding the two-layer image under one reference, reached through a {@link FaultProxy}
 * that cuts, stalls or corrupts the connection on demand: the fixture of the fault tests.
 */
final class ProxiedRegistry implements AutoCloseable {
    final TestRegistry registry;
    final FaultProxy proxy;
    final TestImage image;
    /** The image's larger layer, the one the faults hit. */
    final Descriptor big;
    private final String repository;

    private ProxiedRegistry(TestRegistry registry, FaultProxy proxy, TestImage image, String repository) {
        this.registry = registry;
        this.proxy = proxy;
        this.image = image;
        this.big = Fixtures.bigLayer(image);
        this.repository = repository;
    }

    /** Starts a registry under {@code dir}, pushes the image as {@code repository} (e.g. {@code berth/x:v1}). */
    static ProxiedRegistry start(Path dir, String repository) throws Exception {
        assertThat(TestRegistry.available()).as("docker-registry unpacked by scripts/install-deps").isTrue();
        TestImage image = Fixtures.twoLayerImage();
        TestRegistry registry = TestRegistry.create(dir.resolve("registry")).start();
        try {
            LocalContentStore source = Fixtures.store(dir.resolve("source"));
            Fixtures.load(source, image);
            try (RegistryClient client = Fixtures.client(source).build()) {
                client.push(registry.host() + "/" + repository, image.descriptor(), PushOptions.defaults());
            }
            return new ProxiedRegistry(registry, new FaultProxy(registry.port()), image, repository);
        } catch (Exception | Error e) {
            registry.close();
            throw e;
        }
    }

    /** The image's reference through the proxy. */
    String viaProxy() {
        return proxy.host() + "/" + repository;
    }

    @Override
    public void close() throws Exception {
        try {
            proxy.close();
        } finally {
            registry.close();
        }
    }
}

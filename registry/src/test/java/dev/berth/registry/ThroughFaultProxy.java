package dev.berth.registry;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.Descriptor;
import dev.berth.content.LocalContentStore;
import dev.berth.testing.TestImage;
import dev.berth.testing.TestRegistry;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/**
 * The fixture of the fault tests: a real registry holding the two-layer image under {@link #repository()},
 * reached through a {@link FaultProxy} that cuts, stalls or corrupts the connection on demand.
 */
abstract class ThroughFaultProxy {
    @TempDir
    Path tmp;

    TestRegistry registry;
    FaultProxy proxy;
    final TestImage image = Fixtures.twoLayerImage();
    /** The image's larger layer, the one the faults hit. */
    Descriptor big;

    /** Where the image is pushed, e.g. {@code berth/faults:v1}. */
    abstract String repository();

    @BeforeEach
    void startRegistryAndProxy() throws Exception {
        assertThat(TestRegistry.available()).as("docker-registry unpacked by scripts/install-deps").isTrue();
        registry = TestRegistry.create(tmp.resolve("registry")).start();
        LocalContentStore source = Fixtures.store(tmp.resolve("source"));
        Fixtures.load(source, image);
        try (RegistryClient client = Fixtures.client(source).build()) {
            client.push(registry.host() + "/" + repository(), image.descriptor(), PushOptions.defaults());
        }
        proxy = new FaultProxy(registry.port());
        big = Fixtures.bigLayer(image);
    }

    @AfterEach
    void stopRegistryAndProxy() throws Exception {
        if (proxy != null) {
            proxy.close();
        }
        if (registry != null) {
            registry.close();
        }
    }

    /** The image's reference through the proxy. */
    String viaProxy() {
        return proxy.host() + "/" + repository();
    }
}

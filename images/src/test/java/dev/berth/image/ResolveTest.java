package dev.berth.image;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.Descriptor;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.MediaTypes;
import dev.berth.api.NotFoundException;
import dev.berth.api.Platform;
import dev.berth.api.PlatformMatcher;
import dev.berth.testing.Busybox;
import dev.berth.testing.IndexBuilder;
import dev.berth.testing.LayerBuilder;
import dev.berth.testing.TestImage;
import dev.berth.testing.TestImageBuilder;
import dev.berth.testing.TestIndex;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ResolveTest {
    static final Platform AMD64 = new Platform("linux", "amd64");
    static final Platform ARM64 = new Platform("linux", "arm64");
    static final Platform ARMV7 = new Platform("linux", "arm", "v7");

    @TempDir
    Path tmp;
    Fixture f;

    @BeforeEach
    void open() {
        f = new Fixture(tmp);
    }

    @AfterEach
    void close() {
        f.close();
    }

    static TestImage image(Platform p) {
        return TestImageBuilder.create().platform(p)
                .layer(LayerBuilder.create().file("platform", p.toString()).build())
                .build();
    }

    @Nested
    class PlatformSelection {
        @Test
        void multiPlatformIndexPicksAmd64ByDefaultOnThisHostAndArm64WhenAsked() {
            TestImage amd = image(AMD64);
            TestImage arm = image(ARM64);
            f.add("x", IndexBuilder.create().manifest(arm).manifest(amd).build());

            ResolvedImage forAmd = f.service.resolve("x", PlatformMatcher.only(AMD64));
            assertThat(forAmd.manifestDescriptor().digest()).isEqualTo(amd.descriptor().digest());
            assertThat(forAmd.platform().architecture()).isEqualTo("amd64");
            assertThat(forAmd.config().raw().digest()).isEqualTo(amd.config().digest());

            ResolvedImage forArm = f.service.resolve("x", PlatformMatcher.only(ARM64));
            assertThat(forArm.manifestDescriptor().digest()).isEqualTo(arm.descriptor().digest());
            assertThat(forArm.diffIds()).isEqualTo(arm.diffIds());
            assertThat(forArm.chainIds()).isEqualTo(arm.chainIds());

            assertThat(f.service.resolve("x").platform().architecture()).isEqualTo(Platform.host().architecture());
        }

        @Test
        void nestedIndexIsSearched() {
            TestImage amd = image(AMD64);
            TestImage arm = image(ARM64);
            TestIndex inner = IndexBuilder.create().manifest(arm).manifest(amd).build();
            TestIndex outer = IndexBuilder.create().manifest(image(ARMV7)).manifest(inner).build();
            f.add("nested", outer);

            assertThat(f.service.resolve("nested", PlatformMatcher.only(AMD64)).manifestDescriptor().digest())
                    .isEqualTo(amd.descriptor().digest());
            assertThat(f.service.resolve("nested", PlatformMatcher.only(ARMV7)).platform().variant())
                    .isEqualTo("v7");
        }

        @Test
        void dockerManifestListWithDockerManifests() {
            TestImage amd = TestImageBuilder.create().platform(AMD64).dockerMediaTypes()
                    .layer(LayerBuilder.create().file("a", "a").build()).build();
            TestImage arm = TestImageBuilder.create().platform(ARM64).dockerMediaTypes()
                    .layer(LayerBuilder.create().file("b", "b").build()).build();
            f.add("list", IndexBuilder.create().dockerManifestList().manifest(amd).manifest(arm).build());

            ResolvedImage r = f.service.resolve("list", PlatformMatcher.only(ARM64));
            assertThat(r.manifestDescriptor().mediaType()).isEqualTo(MediaTypes.DOCKER_MANIFEST);
            assertThat(r.manifest().config().mediaType()).isEqualTo(MediaTypes.DOCKER_CONFIG);
            assertThat(r.manifestDescriptor().digest()).isEqualTo(arm.descriptor().digest());
        }

        @Test
        void bestMatchWinsOverDocumentOrder() {
            // arm64 hosts run arm/v7 too, but prefer arm64 wherever it is listed
            TestImage v7 = image(ARMV7);
            TestImage arm64 = image(ARM64);
            f.add("x", IndexBuilder.create().manifest(v7).manifest(arm64).build());
            assertThat(f.service.resolve("x", PlatformMatcher.only(ARM64)).manifestDescriptor().digest())
                    .isEqualTo(arm64.descriptor().digest());
        }

        @Test
        void noMatchIsNotFoundListingWhatIsOffered() {
            f.add("x", IndexBuilder.create().manifest(image(ARM64)).manifest(image(ARMV7)).build());
            assertThatThrownBy(() -> f.service.resolve("x", PlatformMatcher.only(new Platform("linux", "s390x"))))
                    .isInstanceOf(NotFoundException.class)
                    .hasMessageContaining("no manifest matches")
                    .hasMessageContaining("linux/arm64")
                    .hasMessageContaining("linux/arm/v7");
        }

        @Test
        void singleManifestIsCheckedAgainstThePlatformOfItsConfig() {
            f.add("arm", image(ARM64));
            assertThat(f.service.resolve("arm", PlatformMatcher.only(ARM64)).platform()).isEqualTo(ARM64);
            assertThatThrownBy(() -> f.service.resolve("arm", PlatformMatcher.only(AMD64)))
                    .isInstanceOf(NotFoundException.class)
                    .hasMessageContaining("linux/arm64");
        }

        @Test
        void namesAreFoundInNormalizedForm() {
            f.add("docker.io/library/busybox:latest", Busybox.image());
            assertThat(f.service.resolve("busybox").name()).isEqualTo("docker.io/library/busybox:latest");
        }
    }

    @Nested
    class BadContent {
        @Test
        void manifestWithWrongSizeInTheIndexIsRejectedNamingBothSizes() {
            TestImage amd = image(Platform.host());
            f.put(amd);
            Descriptor wrong = Fixture.withSize(amd.descriptor(), amd.descriptor().size() + 1).withPlatform(Platform.host());
            f.add("x", IndexBuilder.create().reference(wrong).build());
            assertThatThrownBy(() -> f.service.resolve("x"))
                    .isInstanceOfSatisfying(BlobMismatchException.class, e -> {
                        assertThat(e.kind()).isEqualTo(BlobMismatchException.Kind.SIZE);
                        assertThat(e.blob()).isEqualTo(amd.descriptor().digest());
                        assertThat(e.expected()).isEqualTo(Long.toString(wrong.size()));
                        assertThat(e.actual()).isEqualTo(Long.toString(amd.descriptor().size()));
                    })
                    .hasMessageContaining(amd.descriptor().digest().toString());
        }

        @Test
        void corruptConfigIsRejectedNamingBothDigests() {
            TestImage img = image(Platform.host());
            f.add("x", img);
            f.corrupt(img.config().digest());
            assertThatThrownBy(() -> f.service.resolve("x"))
                    .isInstanceOfSatisfying(BlobMismatchException.class, e -> {
                        assertThat(e.kind()).isEqualTo(BlobMismatchException.Kind.DIGEST);
                        assertThat(e.expected()).isEqualTo(img.config().digest().toString());
                        assertThat(e.actual()).isNotEqualTo(e.expected()).startsWith("sha256:");
                    })
                    .hasMessageContaining("config of x");
        }

        @Test
        void missingConfigIsNotFoundNamingTheBlob() {
            TestImage img = image(Platform.host());
            f.add("x", img);
            f.remove(img.config().digest());
            assertThatThrownBy(() -> f.service.resolve("x"))
                    .isInstanceOf(NotFoundException.class)
                    .hasMessageContaining(img.config().digest().toString())
                    .hasMessageContaining("missing");
        }

        @Test
        void diffIdCountMustMatchLayerCount() {
            TestImage good = image(Platform.host());
            String config = new String(good.configBytes(), StandardCharsets.UTF_8)
                    .replace("\"diff_ids\":[", "\"diff_ids\":[\"" + good.diffIds().get(0) + "\",");
            TestImage bad = TestImageBuilder.create().platform(Platform.host())
                    .layer(good.layers().get(0)).rawConfig(config.getBytes(StandardCharsets.UTF_8)).build();
            f.add("x", bad);
            assertThatThrownBy(() -> f.service.resolve("x"))
                    .isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("1 layers")
                    .hasMessageContaining("2 diff_ids");
        }

        @Test
        void unknownImageIsNotFound() {
            assertThatThrownBy(() -> f.service.resolve("nope")).isInstanceOf(NotFoundException.class);
        }
    }
}

package dev.berth.cri;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.berth.PushSettings;
import dev.berth.RegistryAccess;
import dev.berth.cri.internal.proto.AuthConfig;
import dev.berth.cri.internal.proto.Image;
import dev.berth.cri.internal.proto.ImageFilter;
import dev.berth.cri.internal.proto.ImageFsInfoRequest;
import dev.berth.cri.internal.proto.ImageSpec;
import dev.berth.cri.internal.proto.ImageStatusRequest;
import dev.berth.cri.internal.proto.ListImagesRequest;
import dev.berth.cri.internal.proto.PullImageRequest;
import dev.berth.cri.internal.proto.RemoveImageRequest;
import dev.berth.registry.Credential;
import dev.berth.testing.TestRegistry;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.util.Base64;
import org.bouncycastle.crypto.generators.OpenBSDBCrypt;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The ImageService against a docker-registry with Basic authentication on 127.0.0.1. */
class CriImagesIT {
    private static final String USER = "kubelet";
    private static final String PASSWORD = "pull-s3cret";
    @TempDir
    static Path dir;
    private static TestRegistry registry;
    private static CriHarness h;
    private static String reference;

    @BeforeAll
    static void start() throws Exception {
        assertThat(TestRegistry.available()).as("docker-registry unpacked by scripts/install-deps").isTrue();
        byte[] salt = new byte[16];
        new SecureRandom().nextBytes(salt);
        Path htpasswd = dir.resolve("htpasswd");
        Files.writeString(htpasswd, USER + ":" + OpenBSDBCrypt.generate("2a", PASSWORD.toCharArray(), salt, 4) + "\n");
        registry = TestRegistry.create(dir.resolve("registry")).htpasswd(htpasswd).start();
        h = new CriHarness();
        reference = registry.host() + "/berth/cri-pull:v1";
        h.berth.namespace(CriServer.NAMESPACE).push(CriHarness.BUSYBOX, reference, PushSettings.of(
                RegistryAccess.defaults().withCredential(registry.host(), Credential.basic(USER, PASSWORD))), null);
    }

    @AfterAll
    static void stop() throws Exception {
        try {
            if (h != null) {
                h.close();
            }
        } finally {
            if (registry != null) {
                registry.close();
            }
        }
    }

    private static PullImageRequest pull(AuthConfig auth) {
        PullImageRequest.Builder b = PullImageRequest.newBuilder().setImage(ImageSpec.newBuilder().setImage(reference));
        if (auth != null) {
            b.setAuth(auth);
        }
        return b.build();
    }

    @Test
    void pullNeedsTheRightCredentialsAndTheImageIsThenListedAndRemovable() {
        StatusRuntimeException anonymous = catchThrowableOfType(StatusRuntimeException.class,
                () -> h.img().pullImage(pull(null)));
        assertThat(anonymous).isNotNull();
        assertThat(anonymous.getStatus().getCode()).isNotEqualTo(Status.Code.OK);
        assertThat(catchThrowableOfType(StatusRuntimeException.class, () -> h.img().pullImage(pull(
                AuthConfig.newBuilder().setUsername(USER).setPassword("wrong").build())))).isNotNull();

        String auth = Base64.getEncoder().encodeToString((USER + ":" + PASSWORD).getBytes(StandardCharsets.UTF_8));
        String ref = h.img().pullImage(pull(AuthConfig.newBuilder().setAuth(auth)
                .setServerAddress("http://" + registry.host()).build())).getImageRef();
        assertThat(ref).startsWith("sha256:");

        // the pulled name and the imported busybox are the same image: one id, both names
        Image listed = h.img().listImages(ListImagesRequest.newBuilder().setFilter(ImageFilter.newBuilder()
                .setImage(ImageSpec.newBuilder().setImage(reference))).build()).getImages(0);
        assertThat(listed.getId()).isEqualTo(ref);
        assertThat(listed.getRepoTagsList()).contains(reference, CriHarness.BUSYBOX);
        assertThat(listed.getRepoDigestsList()).anySatisfy(d -> assertThat(d).startsWith(registry.host() + "/berth/cri-pull@sha256:"));
        assertThat(listed.getSize()).isPositive();
        var status = h.img().imageStatus(ImageStatusRequest.newBuilder().setImage(ImageSpec.newBuilder().setImage(ref))
                .setVerbose(true).build());
        assertThat(status.getImage().getId()).isEqualTo(ref);
        assertThat(status.getInfoMap().get("info")).contains("\"config\"");
        assertThat(h.img().listImages(ListImagesRequest.getDefaultInstance()).getImagesList())
                .anySatisfy(i -> assertThat(i.getPinned()).isFalse());
        assertThat(h.img().imageFsInfo(ImageFsInfoRequest.getDefaultInstance()).getImageFilesystems(0)
                .getUsedBytes().getValue()).isPositive();

        h.img().removeImage(RemoveImageRequest.newBuilder().setImage(ImageSpec.newBuilder().setImage(reference)).build());
        h.img().removeImage(RemoveImageRequest.newBuilder().setImage(ImageSpec.newBuilder().setImage(reference)).build());
        assertThat(h.img().imageStatus(ImageStatusRequest.newBuilder().setImage(ImageSpec.newBuilder().setImage(ref))
                .build()).hasImage()).isFalse();
    }
}

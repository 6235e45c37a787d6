package dev.berth.cri;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import dev.berth.cri.internal.proto.CheckpointContainerRequest;
import dev.berth.cri.internal.proto.PodSandboxConfig;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ThreadLocalRandom;
import org.apache.commons.compress.archivers.tar.TarArchiveEntry;
import org.apache.commons.compress.archivers.tar.TarArchiveInputStream;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * CheckpointContainer through CRIU: an archive of CRIU images where CRIU works, UNIMPLEMENTED naming
 * CRIU's complaint where it does not (both cases are decided by {@code criu check}, as TaskApiIT does).
 */
class CriCheckpointIT {
    private static CriHarness h;
    private static String counter;

    @BeforeAll
    static void start() throws Exception {
        h = new CriHarness();
        PodSandboxConfig pod = CriHarness.pod("ckpt-" + Integer.toHexString(ThreadLocalRandom.current()
                .nextInt(0x10000, 0xfffff))).build();
        String podId = h.runPod(pod);
        counter = h.createAndStart(podId, pod, CriHarness.container("counter", "sh", "-c",
                "i=0; while true; do i=$((i+1)); echo $i > /tmp/count; sleep 0.1; done").build());
    }

    @AfterAll
    static void stop() throws Exception {
        if (h != null) {
            h.close();
        }
    }

    @Test
    void aCheckpointIsACriuArchiveWhereCriuWorksAndUnimplementedWhereNot() throws Exception {
        Path location = h.root.resolve("checkpoints").resolve("counter.tar"); // removed with the harness
        Files.createDirectories(location.getParent());
        CheckpointContainerRequest req = CheckpointContainerRequest.newBuilder().setContainerId(counter)
                .setLocation(location.toString()).build();
        if (criuWorks()) {
            h.rt().checkpointContainer(req);
            List<String> names = new ArrayList<>();
            try (InputStream in = Files.newInputStream(location); TarArchiveInputStream tar = new TarArchiveInputStream(in)) {
                TarArchiveEntry e;
                while ((e = tar.getNextEntry()) != null) {
                    names.add(e.getName());
                }
            }
            assertThat(names).anyMatch(n -> n.endsWith("inventory.img"));
        } else {
            StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class,
                    () -> h.rt().checkpointContainer(req));
            assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.UNIMPLEMENTED);
            assertThat(e.getStatus().getDescription()).contains(counter).contains("CRIU").contains("criu check");
            assertThat(location).doesNotExist();
            assertThat(location.getParent()).isEmptyDirectory(); // no scratch left behind
        }
        assertThat(h.status(counter).getState().name()).isEqualTo("CONTAINER_RUNNING");
    }

    @Test
    void aRelativeLocationIsRefused() {
        StatusRuntimeException e = catchThrowableOfType(StatusRuntimeException.class, () -> h.rt().checkpointContainer(
                CheckpointContainerRequest.newBuilder().setContainerId(counter).setLocation("relative.tar").build()));
        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
        assertThat(e.getStatus().getDescription()).contains("absolute");
    }

    private static boolean criuWorks() throws Exception {
        Process p = new ProcessBuilder("criu", "check").redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        return p.waitFor() == 0 && !out.contains("Error");
    }
}

package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.task.RunResult;
import dev.berth.api.task.Task;
import dev.berth.api.task.TaskConfig;
import dev.berth.runtime.spec.SpecBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;

/** The default seccomp profile as real runc applies it to busybox. */
class SeccompIT extends LiveRuntimeTest {
    private static final String SECCOMP_MODE = "grep '^Seccomp:' /proc/self/status";
    private static final String USERNS_MOUNT = "unshare -U -r -m sh -c 'mount -t tmpfs none /tmp' && echo mounted";

    SeccompIT() {
        super("berth-it-seccomp", "sc-");
    }

    private RunResult run(UnaryOperator<SpecBuilder> options, String script) throws Exception {
        String id = newId();
        SpecBuilder builder = SpecBuilder.defaults(namespace, id).rootfs(rootfs).rootPath(rootfs.toString())
                .args("sh", "-c", script);
        byte[] spec = options.apply(builder).buildJson();
        return runtime.run(TaskConfig.builder(id).namespace(namespace).spec(spec).build());
    }

    @Test
    void defaultContainerRunsInSeccompFilterMode() throws Exception {
        RunResult result = run(b -> b, SECCOMP_MODE);

        assertThat(result.stdout()).isEqualTo("Seccomp:\t2\n");
    }

    @Test
    void defaultContainerCannotMountInANewUserNamespace() throws Exception {
        RunResult result = run(b -> b, USERNS_MOUNT);

        assertThat(result.stdout()).doesNotContain("mounted");
        assertThat(result.exitCode()).isNotZero();
        assertThat(result.stderr()).contains("unshare");
    }

    @Test
    void busyboxBasicsWorkUnderTheFilter() throws Exception {
        RunResult result = run(b -> b,
                "echo hi; ls / | grep -c bin; mkdir /tmp/d && touch /tmp/d/f && ls /tmp/d; "
                        + "(sleep 0; echo child) & wait; date +%Y >/dev/null && id -u");

        assertThat(result).isEqualTo(new RunResult("hi\n1\nf\nchild\n0\n", "", 0));
    }

    @Test
    void unconfinedContainerHasNoFilter() throws Exception {
        RunResult result = run(SpecBuilder::seccompUnconfined, SECCOMP_MODE + "; " + USERNS_MOUNT);

        assertThat(result.stdout()).isEqualTo("Seccomp:\t0\nmounted\n");
    }

    @Test
    void customProfileFromAFileIsApplied(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        // allows everything but mkdir, which then fails with EPERM
        Path file = dir.resolve("profile.json");
        Files.writeString(file, """
                {"defaultAction": "SCMP_ACT_ALLOW",
                 "syscalls": [{"names": ["mkdir", "mkdirat"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
                """);

        RunResult result = run(b -> b.seccompProfile(file), "mkdir /tmp/d 2>&1 || echo denied");

        assertThat(result.stdout()).isEqualTo("mkdir: can't create directory '/tmp/d': Operation not permitted\ndenied\n");
    }
}

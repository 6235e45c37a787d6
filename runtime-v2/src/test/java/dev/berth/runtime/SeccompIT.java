package dev.berth.runtime;

import static org.assertj.core.api.Assertions.assertThat;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.berth.api.task.RunResult;
import dev.berth.api.task.Task;
import dev.berth.api.task.TaskConfig;
import dev.berth.runtime.spec.SpecBuilder;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.function.UnaryOperator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

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

    /**
     * The profile lists only the compat architectures the kernel runs; 32-bit x86 programs must keep working
     * wherever the kernel runs them.
     */
    @Test
    void a32BitX86ProgramRunsUnderTheFilterWhereTheKernelRunsIt(@TempDir Path dir) throws Exception {
        Path program = dir.resolve("hi32");
        Files.write(program, i386WriteHiAndExit());
        Files.setPosixFilePermissions(program, PosixFilePermissions.fromString("r-xr-xr-x"));
        assumeTrue(runsOnTheHost(program), "this machine does not run 32-bit x86 programs");

        RunResult result = run(b -> b.bindMount(dir, "/opt/i386", true), "/opt/i386/hi32; echo \"exit $?\"");

        assertThat(result.stdout()).isEqualTo("hi\nexit 0\n");
    }

    private static boolean runsOnTheHost(Path program) throws InterruptedException {
        try {
            Process process = new ProcessBuilder(program.toString()).redirectErrorStream(true).start();
            byte[] output = process.getInputStream().readAllBytes();
            return process.waitFor() == 0 && new String(output, StandardCharsets.US_ASCII).equals("hi\n");
        } catch (java.io.IOException execFailed) {
            return false;
        }
    }

    /** A static i386 ELF executable that writes "hi\n" with int 0x80 and exits 0. */
    private static byte[] i386WriteHiAndExit() {
        int base = 0x08048000;
        int codeOffset = 52 + 32;
        byte[] code = {
                (byte) 0xb8, 4, 0, 0, 0, // mov eax, 4 (write)
                (byte) 0xbb, 1, 0, 0, 0, // mov ebx, 1
                (byte) 0xb9, 0, 0, 0, 0, // mov ecx, message (patched below)
                (byte) 0xba, 3, 0, 0, 0, // mov edx, 3
                (byte) 0xcd, (byte) 0x80, // int 0x80
                (byte) 0xb8, 1, 0, 0, 0, // mov eax, 1 (exit)
                (byte) 0x31, (byte) 0xdb, // xor ebx, ebx
                (byte) 0xcd, (byte) 0x80}; // int 0x80
        byte[] message = "hi\n".getBytes(StandardCharsets.US_ASCII);
        int size = codeOffset + code.length + message.length;
        ByteBuffer elf = ByteBuffer.allocate(size).order(ByteOrder.LITTLE_ENDIAN);
        elf.put(new byte[] {0x7f, 'E', 'L', 'F', 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0});
        elf.putShort((short) 2).putShort((short) 3).putInt(1) // ET_EXEC, EM_386, EV_CURRENT
                .putInt(base + codeOffset).putInt(52).putInt(0).putInt(0) // entry, phoff, shoff, flags
                .putShort((short) 52).putShort((short) 32).putShort((short) 1) // ehsize, phentsize, phnum
                .putShort((short) 0).putShort((short) 0).putShort((short) 0);
        elf.putInt(1).putInt(0).putInt(base).putInt(base) // PT_LOAD of the whole file
                .putInt(size).putInt(size).putInt(5).putInt(0x1000); // R+X
        ByteBuffer.wrap(code, 11, 4).order(ByteOrder.LITTLE_ENDIAN).putInt(base + codeOffset + code.length);
        elf.put(code).put(message);
        return elf.array();
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

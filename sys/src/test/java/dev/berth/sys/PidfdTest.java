package dev.berth.sys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Taking another process's descriptor over (pidfd_getfd), as the CRI port-forward does with its helper's socket. */
class PidfdTest {
    private final Syscalls sys = Syscalls.get();

    @Test
    void aChildsDescriptorIsCopiedIntoThisProcessAndOutlivesTheChild() throws Exception {
        // the child holds /etc/hostname as fd 3 and waits for its stdin to end
        Process child = new ProcessBuilder("bash", "-c", "exec 3</etc/hostname && echo ready && read -r _").start();
        try {
            assertThat(new String(child.getInputStream().readNBytes(6))).isEqualTo("ready\n");
            int fd = sys.pidfdGetfd(child.pid(), 3);
            try {
                child.getOutputStream().close();
                assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
                assertThat(Files.readSymbolicLink(Path.of("/proc/self/fd/" + fd))).isEqualTo(Path.of("/etc/hostname"));
                assertThat(flags(fd) & Syscalls.O_CLOEXEC).isNotZero();
                assertThat(flags(fd) & Syscalls.O_NONBLOCK).isZero();
                sys.setNonBlocking(fd);
                assertThat(flags(fd) & Syscalls.O_NONBLOCK).isNotZero();
            } finally {
                sys.close(fd);
            }
        } finally {
            child.destroyForcibly();
        }
    }

    @Test
    void aDescriptorTheProcessDoesNotHaveIsAnErrorNamingTheCall() throws Exception {
        Process child = new ProcessBuilder("sleep", "30").start();
        try {
            assertThatThrownBy(() -> sys.pidfdGetfd(child.pid(), 987))
                    .isInstanceOfSatisfying(ErrnoException.class, e -> assertThat(e.errno()).isEqualTo(Errno.EBADF))
                    .hasMessageContaining("pidfd_getfd");
        } finally {
            child.destroyForcibly();
        }
    }

    @Test
    void aSignalReachesTheProcessThatStartedThenAndNoOtherWithItsPid() throws Exception {
        Process child = new ProcessBuilder("sleep", "60").start();
        try {
            ProcessStart started = ProcessStart.of(child.pid()).orElseThrow();
            // the same pid with another start time stands for a later process that took the pid over
            ProcessStart impostor = new ProcessStart(child.pid(), started.startTicks() + 1);
            assertThat(sys.signal(impostor, 9)).isFalse();
            assertThat(child.isAlive()).isTrue();

            assertThat(sys.signal(started, 9)).isTrue();
            assertThat(child.waitFor(30, TimeUnit.SECONDS)).isTrue();
            assertThat(child.exitValue()).isEqualTo(128 + 9);
            assertThat(sys.signal(started, 9)).as("gone").isFalse();
            assertThat(ProcessStart.of(child.pid())).isEmpty();
        } finally {
            child.destroyForcibly();
        }
    }

    @Test
    void aStartTimeIsReadPastACommandNameWithSpacesAndParentheses() throws Exception {
        Path odd = Files.createTempDirectory("pidfd").resolve("a (b) c");
        Files.createSymbolicLink(odd, Path.of("/bin/sleep"));
        Process child = new ProcessBuilder(odd.toString(), "60").start();
        try {
            long ticks = ProcessStart.of(child.pid()).orElseThrow().startTicks();
            long self = ProcessStart.of(ProcessHandle.current().pid()).orElseThrow().startTicks();
            assertThat(ticks).as("started after this JVM").isGreaterThanOrEqualTo(self);
        } finally {
            child.destroyForcibly();
            Files.delete(odd);
            Files.delete(odd.getParent());
        }
    }

    /** The flags line of /proc/self/fdinfo (octal). */
    private static int flags(int fd) throws Exception {
        for (String line : Files.readAllLines(Path.of("/proc/self/fdinfo/" + fd))) {
            if (line.startsWith("flags:")) {
                return Integer.parseInt(line.substring(6).trim(), 8);
            }
        }
        throw new AssertionError("no flags for fd " + fd);
    }
}

package dev.berth.sys;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ErrnoTest {
    @TempDir
    Path dir;

    @Test
    void namesKnownNumbersSymbolically() {
        assertThat(Errno.name(Errno.EPERM)).isEqualTo("EPERM");
        assertThat(Errno.name(Errno.EXDEV)).isEqualTo("EXDEV");
        assertThat(Errno.fallbackName(Errno.ENAMETOOLONG)).isEqualTo("ENAMETOOLONG");
    }

    @Test
    void formatsUnknownNumbersOneWay() {
        assertThat(Errno.fallbackName(4242)).isEqualTo("errno 4242");
        assertThat(Errno.name(4242)).isEqualTo("errno 4242");
    }

    @Test
    void aFailedCallNamesTheCallTheErrnoAndThePath() {
        Path missing = dir.resolve("missing/fifo");

        assertThatThrownBy(() -> Syscalls.get().mkfifo(missing, 0600))
                .isInstanceOfSatisfying(ErrnoException.class, e -> {
                    assertThat(e.errno()).isEqualTo(Errno.ENOENT);
                    assertThat(e.syscall()).isEqualTo("mkfifo");
                })
                .hasMessageContaining("mkfifo").hasMessageContaining("ENOENT")
                .hasMessageContaining(missing.toString());
    }
}

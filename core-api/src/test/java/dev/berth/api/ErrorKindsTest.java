package dev.berth.api;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AccessDeniedException;
import org.junit.jupiter.api.Test;

class ErrorKindsTest {

    @Test
    void closedExceptionIsAFailedPreconditionNamingTheObject() {
        ClosedException e = new ClosedException("content store /var/lib/berth/content");

        assertThat(e).isInstanceOf(FailedPreconditionException.class).isInstanceOf(BerthException.class)
                .hasMessage("content store /var/lib/berth/content is closed");
        assertThat(e.grpcCode()).isEqualTo(StatusCode.FAILED_PRECONDITION.code());
    }

    @Test
    void ioFailureKeepsTheIoExceptionAndNamesAFileSystemErrorsKind() {
        AccessDeniedException cause = new AccessDeniedException("/x");

        IoFailureException e = IoFailureException.of("cannot create /x", cause);

        assertThat(e).hasMessage("cannot create /x: AccessDeniedException: /x").hasCause(cause);
        assertThat(e.grpcCode()).isEqualTo(StatusCode.UNKNOWN.code());
    }

    @Test
    void ioFailureOfAnUncheckedIoExceptionUnwrapsIt() {
        IOException cause = new IOException("disk on fire");

        IoFailureException e = IoFailureException.of("writing", new UncheckedIOException(cause));

        assertThat(e).hasMessage("writing: disk on fire").hasCause(cause);
    }
}

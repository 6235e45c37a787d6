package dev.berth.api.content;

import dev.berth.api.Digest;
import dev.berth.api.IoFailureException;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;
import java.util.Map;

/**
 * An open ingest: bytes go in, are hashed as they are written, and {@link #commit} turns them into a
 * blob. Not thread-safe. {@link #close()} without {@code commit} keeps the ingest for resumption.
 */
public interface Writer extends WritableByteChannel {

    /** Appends the remaining bytes of {@code src}; returns the count written. */
    @Override
    int write(ByteBuffer src);

    /**
     * Appends up to {@code maxBytes} bytes read from {@code src}, stopping early at its end of stream.
     * The bytes are hashed on the way like any others. Implementations may read {@code src} ahead on
     * another thread (so after a failure it may have been read past what was appended); the default reads
     * through a buffer into {@link #write(ByteBuffer)}.
     *
     * @return the number of bytes appended
     * @throws dev.berth.api.IoFailureException if reading {@code src} fails (bytes appended before the failure stay)
     */
    default long transferFrom(ReadableByteChannel src, long maxBytes) {
        ByteBuffer buffer = ByteBuffer.allocate((int) Math.min(1 << 20, Math.max(maxBytes, 1)));
        long done = 0;
        try {
            while (done < maxBytes) {
                buffer.clear().limit((int) Math.min(buffer.capacity(), maxBytes - done));
                int n = src.read(buffer);
                if (n < 0) {
                    break;
                }
                buffer.flip();
                while (buffer.hasRemaining()) {
                    done += write(buffer);
                }
            }
        } catch (IOException e) {
            throw new IoFailureException("reading the source failed after " + done + " bytes", e);
        }
        return done;
    }

    /** An output stream writing to this ingest; closing it does not close the writer. */
    OutputStream asOutputStream();

    /** The digest of the bytes written so far. */
    Digest digest();

    /** Ref, offset, expected total and times of this ingest. */
    Status status();

    /** Discards the data; only {@code size == 0} is supported (containerd's local store rule). */
    void truncate(long size);

    /**
     * Verifies and publishes the blob, then closes this writer.
     *
     * @param size expected size, or 0 to skip the check
     * @param expected expected digest, or null to skip the check
     * @param labels labels to set on the blob (may be empty)
     * @throws dev.berth.api.FailedPreconditionException on a size or digest mismatch ("unexpected commit
     *         size" / both digests named), or when the writer is closed
     * @throws dev.berth.api.AlreadyExistsException if the blob appeared meanwhile; the ingest is removed
     */
    Digest commit(long size, Digest expected, Map<String, String> labels);

    default Digest commit(long size, Digest expected) {
        return commit(size, expected, Map.of());
    }

    /** Releases the ref lock; the ingest stays on disk. Idempotent. */
    @Override
    void close();
}

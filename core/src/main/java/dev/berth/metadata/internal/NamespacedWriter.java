package dev.berth.metadata.internal;

import dev.berth.api.ClosedException;
import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.IoFailureException;
import dev.berth.api.NotImplementedException;
import dev.berth.api.content.ReaderAt;
import dev.berth.api.content.Status;
import dev.berth.api.content.Writer;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.time.Instant;
import java.util.Map;
import java.util.Objects;

/**
 * A writer of one namespace's ingest. Either it wraps a disk writer, or — when the expected blob is
 * already on disk — it starts complete ("shared") and only opens a disk writer if bytes are written
 * anyway, first copying the stored blob so offsets stay consistent (containerd's behaviour).
 * Not thread-safe, like every writer.
 */
final class NamespacedWriter implements Writer {
    private final MetaContentStore store;
    private final String ref;
    private final String backendRef;
    private final Descriptor shared;
    private final Instant startedAt = Instant.now();
    private Writer data;
    private boolean closed;

    NamespacedWriter(MetaContentStore store, String ref, String backendRef, Writer data, Descriptor shared) {
        this.store = store;
        this.ref = ref;
        this.backendRef = backendRef;
        this.data = data;
        this.shared = shared;
    }

    String ref() {
        return ref;
    }

    Writer backendWriter() {
        return data;
    }

    Descriptor sharedDescriptor() {
        return shared;
    }

    private void requireOpen(String what) {
        if (closed) {
            throw new ClosedException("writer of ingest " + ref + " (cannot " + what + ")");
        }
    }

    /** Switches a shared writer to a disk writer, holding a copy of the stored blob unless truncating. */
    private Writer data(boolean copyExisting) {
        if (data == null) {
            Writer w = store.backend().writer(backendRef, null);
            try {
                w.truncate(0);
                if (copyExisting) {
                    try (ReaderAt r = store.backend().readerAt(shared);
                         ReadableByteChannel in = Channels.newChannel(r.inputStream())) {
                        w.transferFrom(in, shared.size());
                    } catch (IOException e) {
                        throw new IoFailureException("ingest " + ref + ": copying " + shared.digest(), e);
                    }
                }
            } catch (RuntimeException e) {
                w.close();
                throw e;
            }
            data = w;
        }
        return data;
    }

    @Override
    public int write(ByteBuffer src) {
        requireOpen("write to");
        return data(true).write(src);
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long maxBytes) {
        requireOpen("write to");
        return data(true).transferFrom(src, maxBytes);
    }

    @Override
    public OutputStream asOutputStream() {
        return new OutputStream() {
            @Override
            public void write(int b) {
                NamespacedWriter.this.write(ByteBuffer.wrap(new byte[] {(byte) b}));
            }

            @Override
            public void write(byte[] b, int off, int len) {
                Objects.checkFromIndexSize(off, len, b.length);
                ByteBuffer buf = ByteBuffer.wrap(b, off, len);
                while (buf.hasRemaining()) {
                    NamespacedWriter.this.write(buf);
                }
            }
        };
    }

    @Override
    public Digest digest() {
        return data == null ? shared.digest() : data.digest();
    }

    @Override
    public Status status() {
        if (data == null) {
            return new Status(ref, shared.size(), shared.size(), shared.digest(), startedAt, startedAt);
        }
        Status s = data.status();
        return new Status(ref, s.offset(), s.total(), shared != null ? shared.digest() : s.expected(),
                s.startedAt(), s.updatedAt());
    }

    @Override
    public void truncate(long size) {
        requireOpen("truncate");
        if (size != 0) {
            throw new NotImplementedException("ingest " + ref + ": truncate to " + size
                    + " is not supported, only to 0");
        }
        if (data == null) {
            data(false);
        } else {
            data.truncate(0);
        }
    }

    @Override
    public Digest commit(long size, Digest expected, Map<String, String> labels) {
        requireOpen("commit");
        try {
            return store.commit(this, size, expected, labels == null ? Map.of() : labels);
        } finally {
            close();
        }
    }

    @Override
    public boolean isOpen() {
        return !closed;
    }

    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        if (data != null) {
            data.close();
        }
    }
}

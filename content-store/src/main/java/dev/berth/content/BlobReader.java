package dev.berth.content;

import dev.berth.api.ClosedException;
import dev.berth.api.Digest;
import dev.berth.api.IoFailureException;
import dev.berth.api.content.ReaderAt;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.FileChannel;

/**
 * Positional reads of one blob file. The file is open from construction, so a blob deleted meanwhile
 * stays readable through this reader. Positional reads are thread-safe.
 */
final class BlobReader implements ReaderAt {
    private final Digest digest;
    private final FileChannel channel;
    private final long size;

    BlobReader(Digest digest, FileChannel channel) throws IOException {
        this.digest = digest;
        this.channel = channel;
        this.size = channel.size();
    }

    @Override
    public int read(ByteBuffer dst, long position) {
        if (position < 0) {
            throw new IllegalArgumentException("negative position " + position);
        }
        try {
            return channel.read(dst, position);
        } catch (ClosedChannelException e) {
            throw new ClosedException("reader of " + digest, e);
        } catch (IOException e) {
            throw new IoFailureException("reading " + digest + " at " + position + " failed: " + e, e);
        }
    }

    @Override
    public long size() {
        return size;
    }

    @Override
    public InputStream inputStream(long position) {
        if (position < 0) {
            throw new IllegalArgumentException("negative position " + position);
        }
        return new InputStream() {
            private long pos = position;
            private long mark = position;

            @Override
            public int read() {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] b, int off, int len) {
                if (len == 0) {
                    return 0;
                }
                int n = BlobReader.this.read(ByteBuffer.wrap(b, off, len), pos);
                if (n > 0) {
                    pos += n;
                }
                return n;
            }

            @Override
            public long skip(long n) {
                long skipped = Math.max(0, Math.min(n, size - pos));
                pos += skipped;
                return skipped;
            }

            @Override
            public int available() {
                return (int) Math.min(Integer.MAX_VALUE, Math.max(0, size - pos));
            }

            @Override
            public boolean markSupported() {
                return true;
            }

            @Override
            public synchronized void mark(int readlimit) {
                mark = pos;
            }

            @Override
            public synchronized void reset() {
                pos = mark;
            }
        };
    }

    @Override
    public void close() {
        try {
            channel.close();
        } catch (IOException e) {
            // nothing was written through it
        }
    }
}

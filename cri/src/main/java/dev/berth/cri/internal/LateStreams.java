package dev.berth.cri.internal;

import java.io.IOException;
import java.io.InputStream;
import java.io.InterruptedIOException;
import java.io.OutputStream;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;

/**
 * Streams whose other end is bound later: the stdio of an exec prepared before its client's streams exist.
 * A read or write waits until {@link Output#bind}/{@link Input#bind}; once discarded, writes fail and reads
 * see EOF.
 */
final class LateStreams {
    private LateStreams() {
    }

    private static <T> T await(CompletableFuture<T> target) throws IOException {
        try {
            return target.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new InterruptedIOException("interrupted waiting for the stream's client");
        } catch (ExecutionException e) {
            throw new IOException("no client came for the stream", e.getCause());
        }
    }

    /** Output bound to the client's stream later. */
    static final class Output extends OutputStream {
        private final CompletableFuture<OutputStream> target = new CompletableFuture<>();

        void bind(OutputStream out) {
            target.complete(out == null ? OutputStream.nullOutputStream() : out);
        }

        void discard() {
            target.completeExceptionally(new IOException("discarded"));
        }

        @Override
        public void write(int b) throws IOException {
            await(target).write(b);
        }

        @Override
        public void write(byte[] b, int off, int len) throws IOException {
            await(target).write(b, off, len);
        }

        @Override
        public void flush() throws IOException {
            if (target.isDone() && !target.isCompletedExceptionally()) { // getNow would throw once discarded
                target.join().flush();
            }
        }

        @Override
        public void close() throws IOException {
            if (target.isDone() && !target.isCompletedExceptionally()) {
                target.join().close();
            }
        }
    }

    /** Input bound to the client's stream later; EOF if discarded. */
    static final class Input extends InputStream {
        private final CompletableFuture<InputStream> source = new CompletableFuture<>();

        void bind(InputStream in) {
            source.complete(in == null ? InputStream.nullInputStream() : in);
        }

        void discard() {
            source.complete(InputStream.nullInputStream());
        }

        @Override
        public int read() throws IOException {
            return await(source).read();
        }

        @Override
        public int read(byte[] b, int off, int len) throws IOException {
            return await(source).read(b, off, len);
        }

        @Override
        public void close() throws IOException {
            if (source.isDone()) {
                source.join().close();
            }
        }
    }
}

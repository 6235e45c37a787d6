package dev.berth.image.internal;

import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.Digester;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.NotFoundException;
import dev.berth.api.VerifyingInputStream;
import dev.berth.api.content.ContentStore;
import dev.berth.api.content.ReaderAt;
import dev.berth.image.BlobMismatchException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;

/** Reading blobs through their descriptors, with the size and digest checked. */
public final class Blobs {
    /** Manifests, indexes and configs larger than this are refused (containerd caps manifests at 4 MiB). */
    static final long MAX_DOCUMENT_SIZE = 64L << 20;

    private Blobs() {
    }

    /**
     * Reads a small blob (manifest, index, config) whole and checks size and digest.
     *
     * @param what how the blob is referred to in errors, e.g. "config of manifest sha256:…"
     * @throws NotFoundException naming the blob and {@code what} if it is not stored
     * @throws BlobMismatchException on a size or digest mismatch
     */
    public static byte[] read(ContentStore store, Descriptor desc, String what) {
        byte[] embedded = embedded(desc, what);
        if (embedded != null) {
            return embedded;
        }
        if (desc.size() > MAX_DOCUMENT_SIZE) {
            throw new InvalidArgumentException("blob " + desc.digest() + " (" + what + ") is " + desc.size()
                    + " bytes; documents above " + MAX_DOCUMENT_SIZE + " bytes are refused");
        }
        try (ReaderAt reader = open(store, desc, what)) {
            byte[] bytes = new byte[(int) desc.size()];
            ByteBuffer buffer = ByteBuffer.wrap(bytes);
            while (buffer.hasRemaining()) {
                if (reader.read(buffer, buffer.position()) < 0) {
                    throw BlobMismatchException.size(desc, buffer.position(), what);
                }
            }
            Digest actual = Digest.of(desc.digest().algorithm(), bytes);
            if (!actual.equals(desc.digest())) {
                throw BlobMismatchException.digest(desc, actual, what);
            }
            return bytes;
        }
    }

    /**
     * The descriptor's embedded {@code data} (OCI 1.1) after checking it against the descriptor's size
     * and digest, or null when it has none.
     *
     * @throws BlobMismatchException if the embedded bytes do not match
     */
    public static byte[] embedded(Descriptor desc, String what) {
        byte[] data = desc.data();
        if (data == null) {
            return null;
        }
        String where = what + ", embedded data";
        if (data.length != desc.size()) {
            throw BlobMismatchException.size(desc, data.length, where);
        }
        Digest actual = Digest.of(desc.digest().algorithm(), data);
        if (!actual.equals(desc.digest())) {
            throw BlobMismatchException.digest(desc, actual, where);
        }
        return data;
    }

    /** Opens a blob and checks its stored size against the descriptor. */
    public static ReaderAt open(ContentStore store, Descriptor desc, String what) {
        ReaderAt reader;
        try {
            reader = store.readerAt(desc);
        } catch (NotFoundException e) {
            throw new NotFoundException("blob " + desc.digest() + " (" + what + ") is missing from the content store",
                    e);
        }
        if (reader.size() != desc.size()) {
            long size = reader.size();
            reader.close();
            throw BlobMismatchException.size(desc, size, what);
        }
        return reader;
    }

    /**
     * A stream of the whole blob that hashes what passes through it and, on reaching the end, throws a
     * {@link VerificationFailure} (an IOException carrying the {@link BlobMismatchException}) if the
     * bytes do not match. Closing the stream closes the reader.
     */
    public static InputStream verifyingStream(ContentStore store, Descriptor desc, String what) {
        ReaderAt reader = open(store, desc, what);
        return new BlobStream(reader, desc, what, true);
    }

    /**
     * Like {@link #verifyingStream(ContentStore, Descriptor, String)} over an opened reader, but checking
     * only the size when {@code hashDigest} is false: for a caller that hashes the very same bytes anyway
     * and compares the result with the descriptor's digest itself ({@link #digestOf} when it cannot).
     */
    static InputStream verifyingStream(ReaderAt reader, Descriptor desc, String what, boolean hashDigest) {
        return new BlobStream(reader, desc, what, hashDigest);
    }

    /** The digest of the stored blob, computed with the descriptor's algorithm. */
    static Digest digestOf(ContentStore store, Descriptor desc, String what) throws IOException {
        Digester digester = Digester.of(desc.digest().algorithm());
        try (ReaderAt reader = open(store, desc, what); InputStream in = reader.inputStream(0)) {
            byte[] buf = new byte[1 << 16];
            for (int n; (n = in.read(buf)) >= 0; ) {
                digester.update(buf, 0, n);
            }
        }
        return digester.digest();
    }

    /** Carries a {@link BlobMismatchException} through APIs that only pass {@link IOException}s. */
    public static final class VerificationFailure extends IOException {
        private static final long serialVersionUID = 1L;

        VerificationFailure(BlobMismatchException cause) {
            super(cause.getMessage(), cause);
        }

        public BlobMismatchException mismatch() {
            return (BlobMismatchException) getCause();
        }
    }

    private static final class BlobStream extends VerifyingInputStream {
        private final ReaderAt reader;

        BlobStream(ReaderAt reader, Descriptor desc, String what, boolean hashDigest) {
            super(reader.inputStream(0), desc.size(), hashDigest ? desc.digest() : null, new Mismatch() {
                @Override
                public IOException size(long actual) {
                    return new VerificationFailure(BlobMismatchException.size(desc, actual, what));
                }

                @Override
                public IOException digest(Digest actual) {
                    return new VerificationFailure(BlobMismatchException.digest(desc, actual, what));
                }
            });
            this.reader = reader;
        }

        @Override
        public void close() throws IOException {
            try {
                super.close();
            } finally {
                reader.close();
            }
        }
    }
}

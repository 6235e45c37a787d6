package dev.berth.content;

import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.MediaTypes;
import java.io.InputStream;
import java.security.MessageDigest;
import java.util.HexFormat;
import java.util.SplittableRandom;

/**
 * A blob of deterministic pseudo-random bytes that any process can regenerate from (seed, size) and open at
 * any offset, so parent and child JVMs agree on content and digest without passing bytes around.
 */
record PseudoRandomBlob(long seed, long size) {
    static final int BLOCK = 64 << 10;

    byte[] block(long index) {
        byte[] b = new byte[BLOCK];
        new SplittableRandom(seed * 0x9E3779B97F4A7C15L + index).nextBytes(b);
        return b;
    }

    InputStream openAt(long offset) {
        return new InputStream() {
            private long pos = offset;
            private long blockIndex = -1;
            private byte[] current;

            @Override
            public int read() {
                byte[] one = new byte[1];
                return read(one, 0, 1) < 0 ? -1 : one[0] & 0xff;
            }

            @Override
            public int read(byte[] dst, int off, int len) {
                if (pos >= size) {
                    return -1;
                }
                long index = pos / BLOCK;
                if (index != blockIndex) {
                    current = block(index);
                    blockIndex = index;
                }
                int within = (int) (pos % BLOCK);
                int n = (int) Math.min(Math.min(len, BLOCK - within), size - pos);
                System.arraycopy(current, within, dst, off, n);
                pos += n;
                return n;
            }
        };
    }

    InputStream stream() {
        return openAt(0);
    }

    Digest digest(String algorithm) {
        try {
            MessageDigest md = MessageDigest.getInstance(algorithm.equals(Digest.SHA512) ? "SHA-512" : "SHA-256");
            try (InputStream in = stream()) {
                byte[] buf = new byte[BLOCK];
                int n;
                while ((n = in.read(buf, 0, buf.length)) > 0) {
                    md.update(buf, 0, n);
                }
            }
            return new Digest(algorithm, HexFormat.of().formatHex(md.digest()));
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    Descriptor descriptor() {
        return new Descriptor(MediaTypes.OCI_LAYER_GZIP, digest(Digest.SHA256), size);
    }
}

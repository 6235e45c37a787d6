package dev.berth.sys;

import dev.berth.api.FailedPreconditionException;
import java.lang.ref.Cleaner;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.DigestException;
import java.security.MessageDigestSpi;
import java.security.NoSuchAlgorithmException;
import java.security.Provider;
import java.security.Security;
import java.util.List;
import jnr.ffi.LibraryLoader;
import jnr.ffi.Pointer;
import jnr.ffi.annotations.In;
import jnr.ffi.annotations.Out;

/**
 * SHA-256 through OpenSSL's libcrypto (its EVP API), as a JCA provider: {@code MessageDigest.getInstance("SHA-256")}
 * returns it once {@link #install} put it first. libcrypto uses the CPU's SHA extensions from the first byte;
 * the JDK's SHA-256 does only once C2 has compiled it, so a JVM that runs C1 only (the CLI) hashes about seven
 * times slower with it. Byte-identical to the JDK's digest; direct buffers go to libcrypto without a copy.
 */
public final class LibCryptoSha256 {
    /** Debian's and Ubuntu's libcrypto of OpenSSL 3 on x86-64. */
    public static final Path DEFAULT_LIBRARY = Path.of("/usr/lib/x86_64-linux-gnu/libcrypto.so.3");
    private static final int DIGEST_LENGTH = 32;
    /** Heap input is copied into a direct buffer of up to this size per call. */
    private static final int COPY_CHUNK = 64 * 1024;
    private static final Cleaner CLEANER = Cleaner.create(r -> {
        Thread t = new Thread(r, "berth-libcrypto-cleaner");
        t.setDaemon(true);
        return t;
    });

    /** The few EVP functions used (public only because jnr-ffi implements it in another class loader). */
    public interface Evp {
        Pointer EVP_sha256();

        Pointer EVP_MD_CTX_new();

        void EVP_MD_CTX_free(Pointer ctx);

        int EVP_DigestInit_ex(Pointer ctx, Pointer type, Pointer engine);

        int EVP_DigestUpdate(Pointer ctx, @In ByteBuffer data, long count);

        int EVP_DigestFinal_ex(Pointer ctx, @Out byte[] md, Pointer size);

        int EVP_MD_CTX_copy_ex(Pointer out, Pointer in);
    }

    private final Evp evp;
    private final Pointer sha256;
    private final Path library;

    private LibCryptoSha256(Evp evp, Pointer sha256, Path library) {
        this.evp = evp;
        this.sha256 = sha256;
        this.library = library;
    }

    /**
     * Binds {@code library} and checks one digest against the JDK's.
     *
     * @throws FailedPreconditionException naming the library when it is missing or is not a working libcrypto
     */
    public static LibCryptoSha256 load(Path library) {
        if (!Files.isRegularFile(library)) {
            throw new FailedPreconditionException("libcrypto not found at " + library
                    + " (Debian: apt-get install libssl3)");
        }
        LibCryptoSha256 lib;
        try {
            Evp evp = LibraryLoader.create(Evp.class).failImmediately().load(library.toString());
            Pointer md = evp.EVP_sha256();
            if (md == null) {
                throw new FailedPreconditionException(library + " has no SHA-256 (EVP_sha256 returned NULL)");
            }
            lib = new LibCryptoSha256(evp, md, library);
        } catch (LinkageError | RuntimeException e) {
            if (e instanceof FailedPreconditionException f) {
                throw f;
            }
            throw new FailedPreconditionException("cannot bind the EVP functions of " + library + ": " + e, e);
        }
        byte[] probe = "berth".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
        Sha256Spi spi = lib.newSpi();
        spi.engineUpdate(probe, 0, probe.length);
        byte[] got = spi.engineDigest();
        try {
            if (!java.util.Arrays.equals(got, java.security.MessageDigest.getInstance("SHA-256", "SUN").digest(probe))) {
                throw new FailedPreconditionException(library + " computes a SHA-256 that differs from the JDK's");
            }
        } catch (NoSuchAlgorithmException | java.security.NoSuchProviderException e) {
            throw new IllegalStateException("the JDK has no SHA-256", e);
        }
        return lib;
    }

    /** The library this was loaded from. */
    public Path library() {
        return library;
    }

    /** A provider of {@code MessageDigest} SHA-256 (also known as SHA256) backed by this library. */
    public Provider provider() {
        return new LibCryptoProvider(this);
    }

    /**
     * Puts {@link #provider()} first among the JVM's providers, so that every {@code MessageDigest.getInstance("SHA-256")}
     * in this JVM (Berth's content store, digests of layers) hashes through libcrypto. Idempotent.
     */
    public void install() {
        if (Security.getProvider(LibCryptoProvider.NAME) == null) {
            Security.insertProviderAt(provider(), 1);
        }
    }

    Sha256Spi newSpi() {
        return new Sha256Spi(this, newContext());
    }

    private Context newContext() {
        Pointer ctx = evp.EVP_MD_CTX_new();
        if (ctx == null) {
            throw new OutOfMemoryError("EVP_MD_CTX_new returned NULL");
        }
        Context c = new Context(evp, ctx);
        c.cleanable = CLEANER.register(c, c.freer());
        return c;
    }

    /** An {@code EVP_MD_CTX}, freed when its digest is unreachable. */
    private static final class Context {
        final Pointer ctx;
        private final Evp evp;
        Cleaner.Cleanable cleanable;

        Context(Evp evp, Pointer ctx) {
            this.evp = evp;
            this.ctx = ctx;
        }

        Runnable freer() { // captures no reference to this Context, or it would never become unreachable
            Evp e = evp;
            Pointer p = ctx;
            return () -> e.EVP_MD_CTX_free(p);
        }
    }

    private static final class LibCryptoProvider extends Provider {
        static final String NAME = "BerthLibCrypto";
        private static final long serialVersionUID = 1L;

        LibCryptoProvider(LibCryptoSha256 lib) {
            super(NAME, "1.0", "SHA-256 through " + lib.library());
            putService(new Service(this, "MessageDigest", "SHA-256", Sha256Spi.class.getName(),
                    List.of("SHA256", "2.16.840.1.101.3.4.2.1", "OID.2.16.840.1.101.3.4.2.1"), null) {
                @Override
                public Object newInstance(Object constructorParameter) {
                    return lib.newSpi();
                }
            });
        }
    }

    static final class Sha256Spi extends MessageDigestSpi implements Cloneable {
        private final LibCryptoSha256 lib;
        private Context context;
        private ByteBuffer copy;

        Sha256Spi(LibCryptoSha256 lib, Context context) {
            this.lib = lib;
            this.context = context;
            init();
        }

        private void init() {
            check(lib.evp.EVP_DigestInit_ex(context.ctx, lib.sha256, null), "EVP_DigestInit_ex");
        }

        private static void check(int rc, String function) {
            if (rc != 1) {
                throw new IllegalStateException(function + " failed");
            }
        }

        @Override
        protected int engineGetDigestLength() {
            return DIGEST_LENGTH;
        }

        @Override
        protected void engineUpdate(byte input) {
            engineUpdate(new byte[] {input}, 0, 1);
        }

        @Override
        protected void engineUpdate(byte[] input, int offset, int len) {
            java.util.Objects.checkFromIndexSize(offset, len, input.length);
            if (len == 0) {
                return;
            }
            if (copy == null || copy.capacity() < Math.min(len, COPY_CHUNK)) {
                // sized to the input (TLS and HMAC feed a few bytes at a time), up to the chunk
                copy = ByteBuffer.allocateDirect(Math.min(COPY_CHUNK, Math.max(len, 512)));
            }
            while (len > 0) {
                int n = Math.min(len, copy.capacity());
                copy.clear();
                copy.put(input, offset, n).flip();
                check(lib.evp.EVP_DigestUpdate(context.ctx, copy, n), "EVP_DigestUpdate");
                offset += n;
                len -= n;
            }
        }

        @Override
        protected void engineUpdate(ByteBuffer input) {
            if (!input.isDirect()) {
                super.engineUpdate(input);
                return;
            }
            int n = input.remaining();
            if (n > 0) {
                // jnr-ffi passes a direct buffer as its address plus its position
                check(lib.evp.EVP_DigestUpdate(context.ctx, input, n), "EVP_DigestUpdate");
                input.position(input.limit());
            }
        }

        @Override
        protected byte[] engineDigest() {
            byte[] out = new byte[DIGEST_LENGTH];
            check(lib.evp.EVP_DigestFinal_ex(context.ctx, out, null), "EVP_DigestFinal_ex");
            init(); // a MessageDigest is reset after digest()
            return out;
        }

        @Override
        protected int engineDigest(byte[] buf, int offset, int len) throws DigestException {
            if (len < DIGEST_LENGTH) {
                throw new DigestException("SHA-256 needs " + DIGEST_LENGTH + " bytes, got " + len);
            }
            System.arraycopy(engineDigest(), 0, buf, offset, DIGEST_LENGTH);
            return DIGEST_LENGTH;
        }

        @Override
        protected void engineReset() {
            init();
        }

        @Override
        public Object clone() throws CloneNotSupportedException {
            Sha256Spi c = (Sha256Spi) super.clone();
            c.context = lib.newContext();
            c.copy = null;
            check(lib.evp.EVP_MD_CTX_copy_ex(c.context.ctx, context.ctx), "EVP_MD_CTX_copy_ex");
            return c;
        }
    }
}

package dev.berth.registry;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.content.Writer;
import dev.berth.content.LocalContentStore;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A registry client user has the content store without jnr-ffi (Berth's sys module is an optional dependency of
 * the content store, for its early write-back): large blobs are still written, byte-exact, the fsync at commit
 * writing them back alone.
 */
class ContentStoreWithoutNativesTest {
    @TempDir
    Path tmp;

    @Test
    void aLargeBlobIsStoredByteExactWithoutJnrOnTheClassPath() throws Exception {
        assertThatThrownBy(() -> Class.forName("jnr.ffi.LibraryLoader")).isInstanceOf(ClassNotFoundException.class);
        byte[] blob = new byte[(9 << 20) + 3];
        new Random(21).nextBytes(blob);
        Digest digest = Digest.sha256(blob);
        try (LocalContentStore store = LocalContentStore.open(tmp.resolve("content"))) {
            try (Writer w = store.writer("no-natives", null)) {
                for (int at = 0; at < blob.length; at += 1 << 16) {
                    w.write(ByteBuffer.wrap(blob, at, Math.min(1 << 16, blob.length - at)));
                }
                assertThat(w.commit(blob.length, digest)).isEqualTo(digest);
            }
            try (var r = store.readerAt(new Descriptor("application/octet-stream", digest, blob.length));
                 var in = r.inputStream()) {
                assertThat(in.readAllBytes()).isEqualTo(blob);
            }
        }
    }
}

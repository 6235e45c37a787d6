package dev.berth.content;

import dev.berth.api.Descriptor;
import dev.berth.api.UnavailableException;
import dev.berth.api.content.Writer;
import java.io.BufferedReader;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * The other process in the fault tests, started by {@link dev.berth.testing.ChildJvm}. Reports progress on stdout, one
 * line per event, so the parent can act at the right moment.
 *
 * <pre>
 *   write-slowly ROOT REF SIZE SEED FAST   write FAST bytes at full speed, print "OFFSET n", then crawl on
 *   commit ROOT REF SIZE SEED              write everything and commit, print "COMMITTED"
 *   hold ROOT REF                          open a writer, print "HOLDING", close it when stdin ends
 *   try-writer ROOT REF                    print "OPENED" or "UNAVAILABLE message"
 * </pre>
 */
public final class IngestChild {
    private IngestChild() {
    }

    public static void main(String[] args) throws Exception {
        String mode = args[0];
        try (LocalContentStore store = LocalContentStore.open(Path.of(args[1]))) {
            String ref = args[2];
            switch (mode) {
                case "write-slowly" -> writeSlowly(store, ref, new PseudoRandomBlob(Long.parseLong(args[4]),
                        Long.parseLong(args[3])), Long.parseLong(args[5]));
                case "commit" -> commit(store, ref, new PseudoRandomBlob(Long.parseLong(args[4]),
                        Long.parseLong(args[3])));
                case "hold" -> hold(store, ref);
                case "try-writer" -> tryWriter(store, ref);
                default -> throw new IllegalArgumentException("unknown mode " + mode);
            }
        }
    }

    private static void writeSlowly(LocalContentStore store, String ref, PseudoRandomBlob blob, long fast)
            throws Exception {
        Descriptor desc = blob.descriptor();
        try (Writer writer = store.writer(ref, desc); InputStream in = blob.stream()) {
            byte[] buf = new byte[PseudoRandomBlob.BLOCK];
            long written = 0;
            boolean announced = false;
            int n;
            while ((n = in.read(buf, 0, buf.length)) > 0) {
                writer.write(ByteBuffer.wrap(buf, 0, n));
                written += n;
                if (written >= fast) {
                    if (!announced) {
                        System.out.println("OFFSET " + written);
                        System.out.flush();
                        announced = true;
                    }
                    Thread.sleep(20); // the parent kills us in here
                }
            }
            writer.commit(desc.size(), desc.digest());
            System.out.println("COMMITTED");
        }
    }

    private static void commit(LocalContentStore store, String ref, PseudoRandomBlob blob) throws Exception {
        Descriptor desc = blob.descriptor();
        try (Writer writer = store.writer(ref, desc); InputStream in = blob.stream()) {
            writer.transferFrom(java.nio.channels.Channels.newChannel(in), desc.size());
            System.out.println("WRITTEN");
            System.out.flush();
            writer.commit(desc.size(), desc.digest());
        }
        System.out.println("COMMITTED");
    }

    private static void hold(LocalContentStore store, String ref) throws Exception {
        try (Writer writer = store.writer(ref, null)) {
            writer.write(ByteBuffer.wrap("held".getBytes(StandardCharsets.UTF_8)));
            System.out.println("HOLDING");
            System.out.flush();
            BufferedReader stdin = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            while (stdin.readLine() != null) {
                // wait for the parent to close our stdin
            }
        }
        System.out.println("RELEASED");
    }

    private static void tryWriter(LocalContentStore store, String ref) {
        try (Writer writer = store.writer(ref, null)) {
            System.out.println("OPENED");
        } catch (UnavailableException e) {
            System.out.println("UNAVAILABLE " + e.getMessage());
        }
    }
}

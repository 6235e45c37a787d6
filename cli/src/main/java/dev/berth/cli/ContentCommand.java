package dev.berth.cli;

import dev.berth.api.AlreadyExistsException;
import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.IoFailureException;
import dev.berth.api.Labels;
import dev.berth.api.content.ContentStore;
import dev.berth.api.content.Info;
import dev.berth.api.content.ReaderAt;
import dev.berth.api.content.Writer;
import java.io.FileDescriptor;
import java.io.FileInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.channels.Channels;
import java.nio.channels.ReadableByteChannel;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "content", description = "Manage blobs in the content store",
        subcommands = {ContentCommand.Ls.class, ContentCommand.Ingest.class, ContentCommand.Get.class,
            ContentCommand.Rm.class, ContentCommand.Verify.class})
final class ContentCommand {
    @ParentCommand
    Main main;

    abstract static class Sub implements Callable<Integer> {
        @ParentCommand
        ContentCommand parent;
        @Spec
        CommandSpec spec;

        ContentStore store() {
            return parent.main.ns().content();
        }

        Output out() {
            return parent.main.out(spec);
        }
    }

    @Command(name = "ls", aliases = "list", description = "List blobs")
    static final class Ls extends Sub {
        @Option(names = {"-q", "--quiet"}, description = "Print only the digests")
        boolean quiet;
        @Parameters(paramLabel = "FILTER")
        List<String> filters = new ArrayList<>();

        @Override
        public Integer call() {
            List<Info> blobs = store().list(filters.toArray(String[]::new));
            if (quiet && !out().json()) {
                blobs.forEach(i -> out().line(i.digest().toString()));
                return 0;
            }
            Output.Table t = out().table("DIGEST", "SIZE", "AGE", "LABELS");
            for (Info i : blobs) {
                t.row(i.digest().toString(), out().json() ? i.size() : Output.size(i.size()), age(i.createdAt()),
                        i.labels());
            }
            t.print();
            return 0;
        }
    }

    static String age(Instant created) {
        if (created == null) {
            return "-";
        }
        Duration d = Duration.between(created, Instant.now());
        if (d.toDays() > 0) {
            return d.toDays() + " days";
        }
        if (d.toHours() > 0) {
            return d.toHours() + " hours";
        }
        if (d.toMinutes() > 0) {
            return d.toMinutes() + " minutes";
        }
        return Math.max(0, d.toSeconds()) + " seconds";
    }

    @Command(name = "ingest", description = "Store stdin as a blob under ingest REF; prints its digest. The blob "
            + "is labelled containerd.io/gc.root so it stays until 'content rm'.")
    static final class Ingest extends Sub {
        @Parameters(index = "0", paramLabel = "REF")
        String ref;
        @Option(names = "--expected-digest", paramLabel = "DIGEST")
        String expectedDigest;
        @Option(names = "--expected-size", paramLabel = "N")
        Long expectedSize;

        @Override
        public Integer call() throws IOException {
            Digest expected = expectedDigest == null ? null : Digest.parse(expectedDigest);
            Descriptor desc = expected == null || expectedSize == null ? null
                    : new Descriptor("application/octet-stream", expected, expectedSize);
            Digest digest;
            boolean existed = false;
            Map<String, String> labels = Map.of(Labels.GC_ROOT, Instant.now().toString());
            try (Writer w = store().writer(ref, desc)) {
                // through the writer's channel path (read ahead, 256 KiB writes, hashing on a second thread):
                // InputStream.transferTo's 8 KiB writes made a 1 GiB ingest four times slower than the floor
                w.transferFrom(stdin(), Long.MAX_VALUE);
                dev.berth.cli.internal.CliSteps.mark("ingest-transfer");
                long size = w.status().offset();
                if (expectedSize != null && size != expectedSize) {
                    throw new dev.berth.api.FailedPreconditionException("ingest " + ref + ": read " + size
                            + " bytes, expected " + expectedSize);
                }
                digest = w.digest(); // known before commit, which fails when the blob is already here
                try {
                    digest = w.commit(size, expected, labels);
                    dev.berth.cli.internal.CliSteps.mark("ingest-commit");
                } catch (AlreadyExistsException e) {
                    existed = true;
                }
            } catch (AlreadyExistsException e) {
                digest = expected; // refused before reading: the expected blob is already here
                existed = true;
            }
            if (existed) {
                // the blob may have come from an image, a lease or another ingest: protect it as promised
                store().update(store().info(digest).withLabels(labels), "labels." + Labels.GC_ROOT);
            }
            out().line(digest.toString());
            return 0;
        }
    }

    /**
     * Standard input as a channel that reads straight into the writer's direct buffers, 256 KiB per call.
     * {@link Channels#newChannel(InputStream)} over {@code System.in} reads 8 KiB at a time through a heap
     * array (and asks {@code available()} between reads): about a second of CPU on a 1 GiB ingest.
     * {@code -Dberth.cli.streamStdin=true} restores that path (for A/B in bench/run), as does a
     * {@code System.in} replaced in this JVM (tests that run {@link Main#run} in-process). Never closed: fd 0.
     */
    static ReadableByteChannel stdin() {
        if (Boolean.getBoolean("berth.cli.streamStdin") || System.in != Main.processStdin) {
            return Channels.newChannel(System.in);
        }
        return new FileInputStream(FileDescriptor.in).getChannel();
    }

    @Command(name = "get", description = "Write a blob to stdout")
    static final class Get extends Sub {
        @Parameters(index = "0", paramLabel = "DIGEST")
        String digest;

        @Override
        public Integer call() {
            Info info = store().info(Digest.parse(digest));
            try (ReaderAt r = store().readerAt(new Descriptor("application/octet-stream", info.digest(), info.size()));
                 InputStream in = r.inputStream()) {
                in.transferTo(System.out);
                System.out.flush();
            } catch (IOException e) {
                throw IoFailureException.of("cannot copy blob " + info.digest() + " to stdout", e);
            }
            return 0;
        }
    }

    @Command(name = "rm", aliases = {"delete", "del", "remove"}, description = "Remove blobs from this namespace")
    static final class Rm extends Sub {
        @Parameters(arity = "1..*", paramLabel = "DIGEST")
        List<String> digests;

        @Override
        public Integer call() {
            for (String d : digests) {
                store().delete(Digest.parse(d));
                out().line(d);
            }
            parent.main.berth().gc();
            return 0;
        }
    }

    @Command(name = "verify", description = "Re-read a blob and check it against its digest")
    static final class Verify extends Sub {
        @Parameters(index = "0", paramLabel = "DIGEST")
        String digest;

        @Override
        public Integer call() {
            Info info = store().verify(Digest.parse(digest));
            out().line(info.digest() + ": ok (" + info.size() + " bytes)");
            return 0;
        }
    }
}

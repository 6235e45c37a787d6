package dev.berth.events.journal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.berth.api.Digest;
import dev.berth.api.Mount;
import dev.berth.api.event.ContainerEvent;
import dev.berth.api.event.ContentEvent;
import dev.berth.api.event.Envelope;
import dev.berth.api.event.Event;
import dev.berth.api.event.TaskEvent;
import dev.berth.api.event.UnknownEvent;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class EventJournalTest {
    @TempDir
    Path dir;

    private static Envelope env(String ns, Event e) {
        return new Envelope(Instant.parse("2026-01-02T03:04:05.123456789Z"), ns, e.topic(), e);
    }

    private static List<Envelope> envelopes(JournalReader r) throws IOException {
        List<Envelope> out = new ArrayList<>();
        for (JournalCodec.Entry e : r.poll()) {
            out.add(e.envelope());
        }
        return out;
    }

    @Test
    void everyKindOfEventComesBackAsItWasAppended() throws IOException {
        List<Envelope> written = List.of(
                env("a", new TaskEvent.Exit("c1", "c1", 42, 137, Instant.parse("2026-01-02T03:04:06Z"))),
                env("a", new TaskEvent.Create("c1", "/b", List.of(new Mount("overlay", "ov", "/", List.of("ro"))),
                        "", "/f/out", "", false, "", 7)),
                env("b", new ContentEvent.Delete(Digest.parse("sha256:" + "ab".repeat(32)))),
                env("b", new ContainerEvent.Update("x", "img", Map.of("k", "v"), "snap")),
                env("b", new UnknownEvent("/x/y", "type.example/Foo", new byte[] {1, 2, 3})));
        try (EventJournal j = EventJournal.open(dir); JournalReader r = j.reader(Optional.of(Instant.EPOCH))) {
            written.forEach(j::append);
            List<Envelope> read = envelopes(r);
            assertThat(read).hasSize(written.size());
            assertThat(read.subList(0, 4)).isEqualTo(written.subList(0, 4));
            UnknownEvent u = (UnknownEvent) read.get(4).event();
            assertThat(u.value()).containsExactly(1, 2, 3);
            assertThat(u.typeUrl()).isEqualTo("type.example/Foo");
        }
    }

    @Test
    void anInterruptedThreadAppendsAndReadsAndTheJournalKeepsWorking() throws IOException {
        // an interrupt closes a FileChannel it finds a thread blocked in: the journal's lock and files must
        // survive a caller's interrupt (a test's timeout, a closing executor) for every later caller
        try (EventJournal j = EventJournal.open(dir); JournalReader r = j.reader(Optional.of(Instant.EPOCH))) {
            Thread.currentThread().interrupt();
            List<Envelope> first;
            try {
                j.append(env("a", new TaskEvent.Oom("c1")));
                first = envelopes(r);
                assertThat(Thread.currentThread().isInterrupted()).as("the interrupt is handed back").isTrue();
            } finally {
                Thread.interrupted();
            }
            assertThat(first).extracting(e -> ((TaskEvent.Oom) e.event()).containerId()).containsExactly("c1");

            j.append(env("a", new TaskEvent.Oom("c2")));
            try (EventJournal other = EventJournal.open(dir)) {
                other.append(env("b", new TaskEvent.Oom("c3")));
            }
            assertThat(envelopes(r)).extracting(e -> ((TaskEvent.Oom) e.event()).containerId())
                    .containsExactly("c2", "c3");
        }
    }

    @Test
    void aReaderSkippingAWriterPassesOverItsRecordsAndReturnsTheOthersInOrder() throws IOException {
        try (EventJournal own = EventJournal.open(dir); EventJournal other = EventJournal.open(dir);
             JournalReader r = own.reader(Optional.of(Instant.EPOCH), own.writerId())) {
            own.append(env("n", new TaskEvent.Oom("own-1")));
            other.append(env("n", new TaskEvent.Oom("other-1")));
            own.append(env("n", new TaskEvent.Oom("own-2")));
            other.append(env("n", new TaskEvent.Oom("other-2")));
            assertThat(r.poll()).extracting(e -> ((TaskEvent.Oom) e.envelope().event()).containerId())
                    .containsExactly("other-1", "other-2");
            assertThat(r.skippedBytes()).isZero();
        }
    }

    @Test
    void withPlainFollowSetAReaderSkippingAWriterStillDecodesItsRecords() throws IOException {
        System.setProperty(JournalReader.PLAIN_FOLLOW_PROPERTY, "true");
        try (EventJournal own = EventJournal.open(dir); EventJournal other = EventJournal.open(dir);
             JournalReader r = own.reader(Optional.of(Instant.EPOCH), own.writerId())) {
            own.append(env("n", new TaskEvent.Oom("own-1")));
            other.append(env("n", new TaskEvent.Oom("other-1")));
            assertThat(r.poll()).extracting(JournalCodec.Entry::writer)
                    .containsExactly(own.writerId(), other.writerId());
        } finally {
            System.clearProperty(JournalReader.PLAIN_FOLLOW_PROPERTY);
        }
    }

    @Test
    void aReaderWithoutSinceStartsAtTheEndAndOneWithSinceSkipsOlderRecords() throws IOException {
        try (EventJournal j = EventJournal.open(dir)) {
            j.append(new Envelope(Instant.parse("2026-01-01T00:00:00Z"), "n", "/tasks/oom", new TaskEvent.Oom("old")));
            j.append(new Envelope(Instant.parse("2026-01-03T00:00:00Z"), "n", "/tasks/oom", new TaskEvent.Oom("new")));
            try (JournalReader tail = j.reader(Optional.empty());
                 JournalReader since = j.reader(Optional.of(Instant.parse("2026-01-02T00:00:00Z")))) {
                assertThat(envelopes(tail)).isEmpty();
                assertThat(envelopes(since)).extracting(e -> ((TaskEvent.Oom) e.event()).containerId())
                        .containsExactly("new");
                j.append(env("n", new TaskEvent.Oom("later")));
                assertThat(envelopes(tail)).extracting(e -> ((TaskEvent.Oom) e.event()).containerId())
                        .containsExactly("later");
            }
        }
    }

    @Nested
    class TornRecords {
        private void appendRaw(byte[] bytes) throws IOException {
            try (FileChannel ch = FileChannel.open(dir.resolve(EventJournal.FILE), StandardOpenOption.APPEND)) {
                ch.write(ByteBuffer.wrap(bytes));
            }
        }

        private byte[] tornRecord() {
            ByteBuffer whole = EventJournal.frame(JournalCodec.encode("w", env("n", new TaskEvent.Oom("torn"))));
            byte[] half = new byte[whole.remaining() / 2];
            whole.get(half);
            return half;
        }

        @Test
        void aTornLastRecordIsNotDeliveredAndWhatIsAppendedAfterItIs() throws IOException {
            try (EventJournal j = EventJournal.open(dir); JournalReader r = j.reader(Optional.of(Instant.EPOCH))) {
                j.append(env("n", new TaskEvent.Oom("first")));
                appendRaw(tornRecord());
                assertThat(envelopes(r)).extracting(e -> ((TaskEvent.Oom) e.event()).containerId())
                        .containsExactly("first");
                j.append(env("n", new TaskEvent.Oom("after")));
                assertThat(envelopes(r)).extracting(e -> ((TaskEvent.Oom) e.event()).containerId())
                        .containsExactly("after");
                assertThat(r.skippedBytes()).isEqualTo(tornRecord().length);
            }
        }

        @Test
        void garbageAndACorruptCrcAreSkipped() throws IOException {
            try (EventJournal j = EventJournal.open(dir)) {
                j.append(env("n", new TaskEvent.Oom("a")));
                appendRaw("no record here at all".getBytes());
                ByteBuffer bad = EventJournal.frame(JournalCodec.encode("w", env("n", new TaskEvent.Oom("bad"))));
                bad.put(bad.limit() - 2, (byte) 'X');
                appendRaw(bad.array());
                j.append(env("n", new TaskEvent.Oom("b")));
                try (JournalReader r = j.reader(Optional.of(Instant.EPOCH))) {
                    assertThat(envelopes(r)).extracting(e -> ((TaskEvent.Oom) e.event()).containerId())
                            .containsExactly("a", "b");
                }
            }
        }
    }

    @Nested
    class Rotation {
        @Test
        void keepsTheJournalBoundedToTwoFiles() throws IOException {
            try (EventJournal j = EventJournal.open(dir, 4096)) {
                for (int i = 0; i < 200; i++) {
                    j.append(env("n", new TaskEvent.Oom("c" + i)));
                }
            }
            assertThat(Files.size(dir.resolve(EventJournal.FILE))).isLessThanOrEqualTo(4096);
            assertThat(Files.size(dir.resolve(EventJournal.FILE + ".1"))).isLessThanOrEqualTo(4096);
        }

        @Test
        void aFollowerReadsEveryRecordInOrderWhileTheWriterRotates() {
            int total = 3000;
            List<String> seen = new CopyOnWriteArrayList<>();
            try (EventJournal j = EventJournal.open(dir, 16 * 1024);
                 JournalFollower f = j.follow(Optional.empty(), null,
                         e -> seen.add(((TaskEvent.Oom) e.event()).containerId()))) {
                for (int i = 0; i < total; i++) {
                    j.append(env("n", new TaskEvent.Oom("c" + i)));
                    if (i % 50 == 49) {
                        // a follower more than a whole file behind loses records: the bound is the point
                        int written = i + 1;
                        await().atMost(Duration.ofSeconds(10)).until(() -> seen.size() >= written - 50);
                    }
                }
                await().atMost(Duration.ofSeconds(10)).until(() -> seen.size() >= total);
            }
            assertThat(seen).containsExactlyElementsOf(IntStream.range(0, total).mapToObj(i -> "c" + i).toList());
        }

        @Test
        void severalJournalsOnOneDirectoryInterleaveWholeRecords() throws Exception {
            int writers = 4;
            int each = 300;
            List<Thread> threads = new ArrayList<>();
            try (EventJournal reader = EventJournal.open(dir, 1 << 20);
                 JournalReader r = reader.reader(Optional.of(Instant.EPOCH))) {
                List<String> seen = new ArrayList<>();
                for (int w = 0; w < writers; w++) {
                    String name = "w" + w;
                    Thread t = new Thread(() -> {
                        try (EventJournal j = EventJournal.open(dir, 1 << 20)) {
                            for (int i = 0; i < each; i++) {
                                j.append(env("n", new TaskEvent.Oom(name + "-" + i)));
                            }
                        }
                    });
                    threads.add(t);
                    t.start();
                }
                for (Thread t : threads) {
                    t.join();
                }
                for (JournalCodec.Entry e : r.poll()) {
                    seen.add(((TaskEvent.Oom) e.envelope().event()).containerId());
                }
                assertThat(r.skippedBytes()).isZero();
                for (int w = 0; w < writers; w++) {
                    String prefix = "w" + w + "-";
                    assertThat(seen.stream().filter(s -> s.startsWith(prefix)).toList())
                            .containsExactlyElementsOf(IntStream.range(0, each).mapToObj(i -> prefix + i).toList());
                }
            }
        }
    }
}

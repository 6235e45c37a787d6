package dev.berth.events.journal;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.zip.CRC32C;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a journal's records in order, across rotations: once the file it reads has been rotated away and
 * read to its end, it goes on with {@code events.journal.1} (if that is not the file it just read: a
 * second rotation came before this reader caught up) and then the new {@code events.journal}. What was
 * rotated out twice before the reader got to it is lost: the journal is bounded.
 */
public final class JournalReader implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(JournalReader.class);
    private final Path file;
    private final Path rotated;
    private final JournalLock lock;
    private final Optional<Instant> since;
    /** The payload prefix of {@code skipWriter}'s records ({@link JournalCodec#writerPrefix}), or null. */
    private final byte[] skipPrefix;
    private FileChannel in;
    private Object inKey;
    private long position;
    private long skipped;

    JournalReader(Path file, Path rotated, JournalLock lock, Optional<Instant> since) throws IOException {
        this(file, rotated, lock, since, null);
    }

    /**
     * A reader that passes over the records {@code skipWriter} appended (null: none) without decoding them:
     * a process follows the journal for the other writers' events, and its own are most of what it reads.
     */
    JournalReader(Path file, Path rotated, JournalLock lock, Optional<Instant> since, String skipWriter)
            throws IOException {
        this.file = file;
        this.rotated = rotated;
        this.lock = lock;
        this.since = since;
        this.skipPrefix = skipWriter == null ? null : JournalCodec.writerPrefix(skipWriter);
        lock.locked(() -> {
            if (since.isPresent() && EventJournal.fileKey(rotated) != null) {
                open(rotated, 0);
            } else if (EventJournal.fileKey(file) != null) {
                open(file, 0);
                position = since.isPresent() ? 0 : in.size();
            }
            return null;
        });
    }

    /** The file read so far, at the same position: still at its path, or rotated away to the other one. */
    private void reopen() throws IOException {
        long at = position;
        if (inKey != null && inKey.equals(EventJournal.fileKey(file)) && open(file, at)) {
            return;
        }
        if (inKey != null && inKey.equals(EventJournal.fileKey(rotated)) && open(rotated, at)) {
            return;
        }
        in = null; // rotated away twice meanwhile: poll starts over at the current file
        inKey = null;
        open(file, 0);
    }

    private boolean open(Path p, long at) throws IOException {
        try {
            FileChannel ch = FileChannel.open(p, StandardOpenOption.READ);
            if (in != null) {
                in.close();
            }
            in = ch;
            inKey = EventJournal.fileKey(p);
            position = at;
            return true;
        } catch (NoSuchFileException e) {
            return false;
        }
    }

    /** Bytes skipped so far as torn or corrupt. */
    public long skippedBytes() {
        return skipped;
    }

    /**
     * The records appended since the last poll (none if there are none yet). The caller's interrupt status
     * is set aside while it reads and set again afterwards: an interrupt closes the channel it reads.
     */
    List<JournalCodec.Entry> poll() throws IOException {
        boolean interrupted = Thread.interrupted();
        try {
            if (in != null && !in.isOpen()) {
                reopen(); // closed by an interrupt that came while a poll read
            }
            return pollOpen();
        } finally {
            if (interrupted) {
                Thread.currentThread().interrupt();
            }
        }
    }

    private List<JournalCodec.Entry> pollOpen() throws IOException {
        boolean plain = Boolean.getBoolean(PLAIN_FOLLOW_PROPERTY);
        // Nothing appended and no rotation: an append grows the file before its lock is released and a
        // rotation renames it, so neither goes unseen without the lock (one fstat and one stat a poll).
        if (!plain && in != null && inKey != null && in.size() <= position
                && inKey.equals(EventJournal.fileKey(file))) {
            return List.of();
        }
        return lock.locked(() -> {
            List<JournalCodec.Entry> out = new ArrayList<>();
            for (int files = 0; files < 3; files++) {
                if (in != null) {
                    readAvailable(out);
                }
                Object now = EventJournal.fileKey(file);
                if (now == null || now.equals(inKey)) {
                    break;
                }
                // What we read was rotated away, and read to its end (appends hold the lock we hold). If
                // events.journal.1 is not that file, a second rotation came first: read it before the new file.
                Object old = EventJournal.fileKey(rotated);
                if (in != null && old != null && !old.equals(inKey)) {
                    open(rotated, 0);
                } else {
                    open(file, 0);
                }
            }
            return out;
        });
    }

    private void readAvailable(List<JournalCodec.Entry> out) throws IOException {
        long size = in.size();
        if (size <= position) {
            return;
        }
        ByteBuffer buf = ByteBuffer.allocate((int) Math.min(size - position, Integer.MAX_VALUE - 16));
        while (buf.hasRemaining() && in.read(buf, position + buf.position()) > 0) {
            // read to the end seen
        }
        buf.flip();
        int p = 0;
        int end = buf.limit();
        boolean skipOwn = skipPrefix != null && !Boolean.getBoolean(PLAIN_FOLLOW_PROPERTY);
        while (p < end) {
            int n = recordAt(buf, p, end);
            if (n > 0) {
                if (skipOwn && startsWith(buf, p + EventJournal.HEADER, skipPrefix)) {
                    p += n;
                    continue;
                }
                byte[] payload = new byte[n - EventJournal.HEADER];
                buf.get(p + EventJournal.HEADER, payload);
                try {
                    JournalCodec.Entry entry = JournalCodec.decode(payload);
                    if (since.isEmpty() || !entry.envelope().timestamp().isBefore(since.get())) {
                        out.add(entry);
                    }
                } catch (IOException | RuntimeException e) {
                    log.warn("skipping an undecodable record in {}: {}", file, e.toString());
                }
                p += n;
                continue;
            }
            // n == 0: incomplete; -1: not a valid record. Appends are whole under the lock we hold, so
            // anything followed by a valid record is torn; an incomplete record at the end may be, too,
            // but nothing is lost by waiting for what follows it.
            int next = nextValid(buf, p + 1, end);
            if (next < 0) {
                if (n < 0 && !startsWithMagic(buf, p)) {
                    // garbage without a magic: skip what we have, keep the tail in case a record begins there
                    int keep = Math.min(end - p, 3);
                    skipped += end - p - keep;
                    p = end - keep;
                }
                break;
            }
            skipped += next - p;
            log.warn("skipped {} torn or corrupt bytes in {} at offset {}", next - p, file, position + p);
            p = next;
        }
        position += p;
    }

    /**
     * {@code true} ({@code -Dberth.journal.plainFollow=true}): every poll takes the lock, and a reader that
     * skips a writer decodes that writer's records too before they are dropped (the behaviour before
     * session 10; the A/B of both).
     */
    static final String PLAIN_FOLLOW_PROPERTY = "berth.journal.plainFollow";

    private static boolean startsWith(ByteBuffer b, int p, byte[] prefix) {
        if (b.limit() - p < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if (b.get(p + i) != prefix[i]) {
                return false;
            }
        }
        return true;
    }

    private static boolean startsWithMagic(ByteBuffer b, int p) {
        return b.limit() - p >= 4 && b.getInt(p) == EventJournal.MAGIC;
    }

    /** The length of the complete, valid record at {@code p}, 0 if it is incomplete, -1 if it is invalid. */
    private static int recordAt(ByteBuffer b, int p, int end) {
        if (end - p < 4) {
            return isMagicPrefix(b, p, end) ? 0 : -1;
        }
        if (b.getInt(p) != EventJournal.MAGIC) {
            return -1;
        }
        if (end - p < EventJournal.HEADER) {
            return 0;
        }
        int len = b.getInt(p + 4);
        if (len < 2 || len > EventJournal.MAX_RECORD) {
            return -1;
        }
        if (end - p - EventJournal.HEADER < len) {
            return 0;
        }
        CRC32C crc = new CRC32C();
        crc.update(b.slice(p + EventJournal.HEADER, len));
        return (int) crc.getValue() == b.getInt(p + 8) ? EventJournal.HEADER + len : -1;
    }

    private static boolean isMagicPrefix(ByteBuffer b, int p, int end) {
        for (int i = 0; p + i < end; i++) {
            if (b.get(p + i) != (byte) (EventJournal.MAGIC >>> (24 - 8 * i))) {
                return false;
            }
        }
        return true;
    }

    private static int nextValid(ByteBuffer b, int from, int end) {
        for (int q = from; q + EventJournal.HEADER <= end; q++) {
            if (b.getInt(q) == EventJournal.MAGIC && recordAt(b, q, end) > 0) {
                return q;
            }
        }
        return -1;
    }

    @Override
    public void close() throws IOException {
        if (in != null) {
            in.close();
        }
    }
}

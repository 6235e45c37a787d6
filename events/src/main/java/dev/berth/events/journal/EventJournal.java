package dev.berth.events.journal;

import dev.berth.api.IoFailureException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.event.Envelope;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.Objects;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import java.util.function.Consumer;
import java.util.zip.CRC32C;

/**
 * A durable, bounded journal of events shared by every process on one state directory (podman's file
 * events backend, with framing): {@code <dir>/events.journal}, rotated to {@code events.journal.1} once it
 * would pass {@code maxBytes}, so at most twice that is kept.
 *
 * <p>A record is {@code magic "BEJ1" | u32 length | u32 CRC-32C of the payload | payload} (big-endian),
 * the payload the envelope as JSON ({@link JournalCodec}). Each record is written by one {@code write}
 * to a file opened with {@code O_APPEND}, under the journal's lock; a reader holds the same lock, so it
 * never sees a record half written. A record torn by a crash (power loss, a full disk) fails its length or
 * CRC check and is skipped: the reader resynchronizes at the next magic that starts a valid record.
 *
 * <p>Durability: records are not {@code fsync}ed (the page cache survives any process crash, SIGKILL
 * included; a power loss may lose the last records); the rotated file is synced before it is renamed.
 */
public final class EventJournal implements AutoCloseable {
    public static final String FILE = "events.journal";
    public static final long DEFAULT_MAX_BYTES = 8L << 20;
    static final int MAGIC = 0x42454A31;
    static final int HEADER = 12;
    static final int MAX_RECORD = 1 << 20;

    private final Path dir;
    private final Path file;
    private final Path rotated;
    private final long maxBytes;
    private final String writerId;
    private final JournalLock lock;
    private FileChannel out;
    private Object outKey;
    private boolean closed;

    private EventJournal(Path dir, long maxBytes) throws IOException {
        this.dir = dir;
        this.file = dir.resolve(FILE);
        this.rotated = dir.resolve(FILE + ".1");
        this.maxBytes = maxBytes;
        // not UUID.randomUUID(): its SecureRandom loads and initialises the security providers on every open
        this.writerId = ProcessHandle.current().pid() + "-"
                + Long.toHexString((ThreadLocalRandom.current().nextInt() & 0xffffffffL) | (1L << 32)).substring(1);
        Files.createDirectories(dir);
        this.lock = JournalLock.of(dir.resolve(FILE + ".lock"));
    }

    /** Opens (creating) the journal in {@code dir}; rotated past {@code maxBytes} (at least 4 KiB). */
    public static EventJournal open(Path dir, long maxBytes) {
        if (maxBytes < 4096) {
            throw new InvalidArgumentException("journal bound " + maxBytes + " is below 4096 bytes");
        }
        try {
            return new EventJournal(dir, maxBytes);
        } catch (IOException e) {
            throw IoFailureException.of("cannot open event journal in " + dir, e);
        }
    }

    public static EventJournal open(Path dir) {
        return open(dir, DEFAULT_MAX_BYTES);
    }

    /** Identifies this journal's records among those of other processes (and other journals in this JVM). */
    public String writerId() {
        return writerId;
    }

    public Path directory() {
        return dir;
    }

    /** Appends one envelope. */
    public void append(Envelope envelope) {
        Objects.requireNonNull(envelope, "envelope");
        byte[] payload = JournalCodec.encode(writerId, envelope);
        if (payload.length > MAX_RECORD) {
            throw new InvalidArgumentException("event " + envelope.topic() + " is " + payload.length
                    + " bytes as JSON, more than the journal's " + MAX_RECORD);
        }
        ByteBuffer record = frame(payload);
        try {
            lock.locked(() -> {
                synchronized (this) {
                    if (closed) {
                        return null;
                    }
                    FileChannel ch = current();
                    if (ch.size() > 0 && ch.size() + record.remaining() > maxBytes) {
                        rotate(ch);
                        ch = current();
                    }
                    while (record.hasRemaining()) {
                        ch.write(record);
                    }
                    return null;
                }
            });
        } catch (IOException e) {
            throw IoFailureException.of("cannot append to event journal " + file, e);
        }
    }

    static ByteBuffer frame(byte[] payload) {
        CRC32C crc = new CRC32C();
        crc.update(payload);
        ByteBuffer b = ByteBuffer.allocate(HEADER + payload.length);
        b.putInt(MAGIC).putInt(payload.length).putInt((int) crc.getValue()).put(payload).flip();
        return b;
    }

    /** The channel on the file now at {@code events.journal} (another process may have rotated it). */
    private FileChannel current() throws IOException {
        Object key = fileKey(file);
        // a channel an interrupt closed (while the writer held the lock) is opened again
        if (out == null || !out.isOpen() || key == null || !key.equals(outKey)) {
            if (out != null) {
                out.close();
            }
            out = FileChannel.open(file, Set.of(StandardOpenOption.CREATE, StandardOpenOption.WRITE,
                    StandardOpenOption.APPEND), PosixFilePermissions.asFileAttribute(
                    PosixFilePermissions.fromString("rw-r-----")));
            outKey = fileKey(file);
        }
        return out;
    }

    private void rotate(FileChannel ch) throws IOException {
        ch.force(false);
        Files.move(file, rotated, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
        out.close();
        out = null;
    }

    static Object fileKey(Path p) throws IOException {
        try {
            return Files.readAttributes(p, BasicFileAttributes.class).fileKey();
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /**
     * Follows the journal on a daemon thread, handing each envelope to {@code handler} in journal order.
     * With {@code since} empty it starts at the journal's end; otherwise with the oldest kept record whose
     * timestamp is not before {@code since}. Records of {@code skipWriter} (this process's own, typically)
     * are passed over. Close the returned follower to stop.
     */
    public JournalFollower follow(java.util.Optional<Instant> since, String skipWriter, Consumer<Envelope> handler) {
        try {
            JournalReader reader = new JournalReader(file, rotated, lock, since, skipWriter);
            return JournalFollower.start(reader, skipWriter, handler);
        } catch (IOException e) {
            throw IoFailureException.of("cannot follow event journal " + file, e);
        }
    }

    /** A reader that the caller polls itself ({@link JournalReader#poll()}). */
    public JournalReader reader(java.util.Optional<Instant> since) {
        try {
            return new JournalReader(file, rotated, lock, since);
        } catch (IOException e) {
            throw IoFailureException.of("cannot read event journal " + file, e);
        }
    }

    /** Like {@link #reader(java.util.Optional)}, passing over {@code skipWriter}'s records without decoding them. */
    JournalReader reader(java.util.Optional<Instant> since, String skipWriter) {
        try {
            return new JournalReader(file, rotated, lock, since, skipWriter);
        } catch (IOException e) {
            throw IoFailureException.of("cannot read event journal " + file, e);
        }
    }

    @Override
    public synchronized void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            if (out != null) {
                out.close();
            }
        } catch (IOException ignored) {
            // nothing buffered: every record was written whole
        }
    }
}

package dev.berth.content;

import com.github.benmanes.caffeine.cache.Cache;
import com.github.benmanes.caffeine.cache.Caffeine;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileTime;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.concurrent.atomic.LongAdder;

/**
 * Hash states of ingests closed without commit in this JVM, so that reopening a large ingest (a download
 * retried after a network error) continues hashing instead of re-reading every byte already written.
 *
 * <p>An entry is used only if the data file is still the same inode with the same size and mtime: writers
 * only append (truncate(0) and starting over change the size), so equal size and mtime mean equal bytes.
 * Small ingests are not cached: re-hashing them is cheap, and a same-size rewrite within one mtime tick is
 * conceivable only for them.
 */
final class DigestStateCache {
    static final long MIN_SIZE = 16L << 20;

    private record Entry(Object fileKey, long size, FileTime modified, String algorithm, MessageDigest state) {
    }

    /**
     * Made on the first ingest closed without commit: a process that never does one (a CLI call listing
     * images) then never loads or starts caffeine, which costs more than the rest of opening a store.
     */
    private volatile Cache<Path, Entry> cache;
    private final LongAdder hits = new LongAdder();

    private Cache<Path, Entry> cache() {
        Cache<Path, Entry> c = cache;
        if (c == null) {
            synchronized (this) {
                c = cache;
                if (c == null) {
                    c = Caffeine.newBuilder()
                            .maximumSize(64)
                            .expireAfterAccess(Duration.ofMinutes(30))
                            .build();
                    cache = c;
                }
            }
        }
        return c;
    }

    void remember(Path data, String algorithm, MessageDigest md, long offset) {
        if (offset < MIN_SIZE) {
            forget(data);
            return;
        }
        try {
            BasicFileAttributes attrs = Files.readAttributes(data, BasicFileAttributes.class);
            if (attrs.size() == offset && attrs.fileKey() != null) {
                cache().put(data, new Entry(attrs.fileKey(), offset, attrs.lastModifiedTime(), algorithm,
                        (MessageDigest) md.clone()));
                return;
            }
        } catch (IOException | CloneNotSupportedException e) {
            // not cached: the next writer re-hashes
        }
        forget(data);
    }

    /** A copy of the remembered state if {@code attrs} still describe the same bytes, else null. */
    MessageDigest recall(Path data, BasicFileAttributes attrs, String algorithm) {
        Cache<Path, Entry> c = cache;
        Entry e = c == null ? null : c.getIfPresent(data);
        if (e == null || !e.algorithm().equals(algorithm) || e.size() != attrs.size()
                || !e.modified().equals(attrs.lastModifiedTime()) || !e.fileKey().equals(attrs.fileKey())) {
            return null;
        }
        try {
            MessageDigest copy = (MessageDigest) e.state().clone();
            hits.increment();
            return copy;
        } catch (CloneNotSupportedException ex) {
            return null;
        }
    }

    /** How many resumes skipped re-hashing (for tests). */
    long hits() {
        return hits.sum();
    }

    void forget(Path data) {
        Cache<Path, Entry> c = cache;
        if (c != null) {
            c.invalidate(data);
        }
    }

    void clear() {
        Cache<Path, Entry> c = cache;
        if (c != null) {
            c.invalidateAll();
        }
    }
}

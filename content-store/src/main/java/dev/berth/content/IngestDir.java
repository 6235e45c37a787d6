package dev.berth.content;

import dev.berth.api.Digest;
import dev.berth.api.content.Status;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryNotEmptyException;
import java.nio.file.DirectoryStream;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.time.Instant;
import java.time.format.DateTimeParseException;

/**
 * One ingest directory, {@code ingest/<hex sha256 of ref>/}, holding containerd's files: {@code ref},
 * {@code data} (its size is the offset), {@code total} (only when known), {@code startedat},
 * {@code updatedat}. Hashing the ref makes any ref string, {@code "../x"} included, a safe name.
 */
record IngestDir(Path dir) {
    static final String DATA = "data";
    static final String REF = "ref";
    static final String TOTAL = "total";
    static final String STARTED_AT = "startedat";
    static final String UPDATED_AT = "updatedat";

    static String nameOf(String ref) {
        return Digest.sha256(ref.getBytes(StandardCharsets.UTF_8)).hex();
    }

    Path data() {
        return dir.resolve(DATA);
    }

    Path file(String name) {
        return dir.resolve(name);
    }

    String readRef() throws IOException {
        return Files.readString(file(REF), StandardCharsets.UTF_8);
    }

    /** The recorded expected size, or 0 when absent or unreadable (containerd treats it the same). */
    long readTotal() {
        try {
            return Long.parseLong(Files.readString(file(TOTAL), StandardCharsets.US_ASCII).strip());
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }

    /** @return null when the file is missing or not a timestamp */
    Instant readTimestamp(String name) {
        try {
            return IngestTimestamps.parse(Files.readString(file(name), StandardCharsets.US_ASCII));
        } catch (IOException | DateTimeParseException e) {
            return null;
        }
    }

    /** Written beside and renamed into place, so a reader never sees half a timestamp. */
    void writeTimestamp(String name, Instant instant) throws IOException {
        Path tmp = file("." + name + ".tmp");
        Files.deleteIfExists(tmp);
        Files.createFile(tmp, FileModes.PRIVATE_FILE);
        Files.writeString(tmp, IngestTimestamps.format(instant), StandardCharsets.US_ASCII);
        Files.move(tmp, file(name), StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
    }

    void writeTotal(long total) throws IOException {
        if (!Files.exists(file(TOTAL))) {
            Files.createFile(file(TOTAL), FileModes.PRIVATE_FILE);
        }
        Files.writeString(file(TOTAL), Long.toString(total), StandardCharsets.US_ASCII);
    }

    /**
     * The ingest as found on disk. {@code expected} is not part of containerd's layout, so it is null.
     *
     * @throws NoSuchFileException if the directory is incomplete (being created, or left by a crash)
     */
    Status readStatus() throws IOException {
        BasicFileAttributes data = Files.readAttributes(data(), BasicFileAttributes.class);
        String ref = readRef();
        Instant startedAt = readTimestamp(STARTED_AT);
        Instant updatedAt = readTimestamp(UPDATED_AT);
        Instant modified = data.lastModifiedTime().toInstant();
        // updatedat is rewritten on close only; the data file's mtime follows every write
        if (updatedAt == null || modified.isAfter(updatedAt)) {
            updatedAt = modified;
        }
        return new Status(ref, data.size(), readTotal(), null, startedAt == null ? modified : startedAt,
                updatedAt);
    }

    /**
     * Removes the ingest: its files, then the directory. The layout is flat, so anything else inside
     * (a directory) is refused rather than walked.
     */
    void delete() throws IOException {
        try (DirectoryStream<Path> entries = Files.newDirectoryStream(dir)) {
            for (Path entry : entries) {
                if (Files.isDirectory(entry, LinkOption.NOFOLLOW_LINKS)) {
                    throw new IOException("cannot remove ingest " + dir + ": unexpected directory " + entry);
                }
                Files.deleteIfExists(entry);
            }
        } catch (NoSuchFileException e) {
            return;
        }
        try {
            Files.deleteIfExists(dir);
        } catch (DirectoryNotEmptyException e) {
            throw new IOException("cannot remove " + dir + ": something is still writing into it", e);
        }
    }
}

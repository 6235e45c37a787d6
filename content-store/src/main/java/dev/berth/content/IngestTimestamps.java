package dev.berth.content;

import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeFormatterBuilder;
import java.time.format.DateTimeParseException;
import java.time.temporal.ChronoField;

/**
 * The text form of the {@code startedat}/{@code updatedat} files: Go's {@code time.MarshalText}
 * (RFC 3339 with up to nine fraction digits, trailing zeros dropped), so containerd reads what we write
 * and we read what it writes (it writes local time with an offset; we write UTC).
 */
final class IngestTimestamps {
    private static final DateTimeFormatter GO_RFC3339_NANO = new DateTimeFormatterBuilder()
            .appendPattern("uuuu-MM-dd'T'HH:mm:ss")
            .appendFraction(ChronoField.NANO_OF_SECOND, 0, 9, true)
            .appendOffset("+HH:MM", "Z")
            .toFormatter();

    private IngestTimestamps() {
    }

    static String format(Instant instant) {
        return GO_RFC3339_NANO.format(instant.atOffset(ZoneOffset.UTC));
    }

    /** @throws DateTimeParseException if {@code text} is not RFC 3339 */
    static Instant parse(String text) {
        return OffsetDateTime.parse(text.strip(), DateTimeFormatter.ISO_OFFSET_DATE_TIME).toInstant();
    }
}

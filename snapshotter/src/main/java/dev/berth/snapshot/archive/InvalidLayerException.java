package dev.berth.snapshot.archive;

import java.util.Optional;

import dev.berth.api.InvalidArgumentException;

/**
 * The layer cannot be applied because of its content: a corrupt or truncated stream, a bad header,
 * a hardlink to a directory or to a missing target, an unsupported entry type, a symlink loop. Names
 * the entry (when one was being processed) and the offset in the uncompressed stream.
 */
public class InvalidLayerException extends InvalidArgumentException {
    private static final long serialVersionUID = 1L;

    private final String entryName;
    private final long offset;

    public InvalidLayerException(String message, String entryName, long offset) {
        this(message, entryName, offset, null);
    }

    public InvalidLayerException(String message, String entryName, long offset, Throwable cause) {
        super(describe(message, entryName, offset), cause);
        this.entryName = entryName;
        this.offset = offset;
    }

    private static String describe(String message, String entryName, long offset) {
        StringBuilder sb = new StringBuilder("invalid layer: ").append(message);
        if (entryName != null) {
            String shown = entryName.length() > 300 ? entryName.substring(0, 300) + "..." : entryName;
            sb.append(" (entry \"").append(shown).append("\"");
            sb.append(offset >= 0 ? ", uncompressed offset " + offset + ")" : ")");
        } else if (offset >= 0) {
            sb.append(" (uncompressed offset ").append(offset).append(")");
        }
        return sb.toString();
    }

    /** The tar entry being applied when the problem was found, if any. */
    public Optional<String> entryName() {
        return Optional.ofNullable(entryName);
    }

    /** Offset in the uncompressed stream where the problem was found, or -1 if unknown. */
    public long offset() {
        return offset;
    }
}

package dev.berth.api.snapshot;

/** containerd's snapshot kinds, with their wire numbers and JSON names. */
public enum Kind {
    UNKNOWN(0, "Unknown"), VIEW(1, "View"), ACTIVE(2, "Active"), COMMITTED(3, "Committed");

    private final int number;
    private final String displayName;

    Kind(int number, String displayName) {
        this.number = number;
        this.displayName = displayName;
    }

    public int number() {
        return number;
    }

    /** {@code View}, {@code Active}, {@code Committed}: the strings filters and JSON use. */
    public String displayName() {
        return displayName;
    }

    public static Kind parse(String s) {
        for (Kind k : values()) {
            if (k.displayName.equalsIgnoreCase(s) || k.name().equalsIgnoreCase(s)) {
                return k;
            }
        }
        throw new dev.berth.api.InvalidArgumentException("unknown snapshot kind \"" + s + "\"");
    }
}

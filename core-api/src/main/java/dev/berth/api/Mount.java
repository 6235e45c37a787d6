package dev.berth.api;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * A mount as containerd passes it between snapshotters, shims and the host: {@code type}
 * ({@code overlay}, {@code bind}, ...), {@code source}, an optional {@code target} (relative to where the
 * mount list is applied) and fstab-style {@code options} ({@code ro}, {@code rbind},
 * {@code lowerdir=/a:/b}).
 *
 * <p>Actually mounting lives in the snapshotter module ({@code dev.berth.snapshot.Mounts}), which needs
 * syscalls; this record is the plain value.
 */
public record Mount(String type, String source, String target, List<String> options) {
    public Mount {
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(source, "source");
        target = target == null ? "" : target;
        options = options == null ? List.of() : List.copyOf(options);
    }

    public Mount(String type, String source, List<String> options) {
        this(type, source, "", options);
    }

    /** Whether {@code ro} is among the options (the last of {@code ro}/{@code rw} wins, as in fstab). */
    public boolean readOnly() {
        boolean ro = false;
        for (String o : options) {
            if (o.equals("ro")) {
                ro = true;
            } else if (o.equals("rw")) {
                ro = false;
            }
        }
        return ro;
    }

    /** The value of a {@code key=value} option, the last one if repeated. */
    public Optional<String> option(String key) {
        String prefix = key + "=";
        String found = null;
        for (String o : options) {
            if (o.startsWith(prefix)) {
                found = o.substring(prefix.length());
            }
        }
        return Optional.ofNullable(found);
    }

    /** Whether a flag option such as {@code rbind} is present. */
    public boolean hasFlag(String flag) {
        return options.contains(flag);
    }

    /** This mount with {@code option} appended. */
    public Mount withOption(String option) {
        List<String> copy = new ArrayList<>(options);
        copy.add(option);
        return new Mount(type, source, target, copy);
    }

    /** The options joined with commas, as {@code mount -o} takes them. */
    public String optionString() {
        return String.join(",", options);
    }
}

package dev.berth.api.filter;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * Ready-made {@link Filter.FieldPathAdaptor}s, so a store can expose a record to filters in a few lines:
 *
 * <pre>{@code
 * Filter.FieldPathAdaptor a = FieldPaths.builder()
 *         .field("name", image.name())
 *         .field("target.digest", image.target().digest().toString())
 *         .field("target.mediatype", image.target().mediaType())
 *         .map("labels", image.labels())
 *         .build();
 * boolean keep = filter.matches(a);
 * }</pre>
 * Field paths are compared exactly (containerd's field names are lower case). Instances are immutable
 * and thread-safe once built; builders are not thread-safe.
 */
public final class FieldPaths implements Filter.FieldPathAdaptor {
    private final List<Entry> entries;

    private FieldPaths(List<Entry> entries) {
        this.entries = List.copyOf(entries);
    }

    public static Builder builder() {
        return new Builder();
    }

    /**
     * Adapts a tree of maps such as a decoded JSON object or event: each path part selects a key of the
     * current map; the value at the end of the path is present if it is not null and not a map, and is
     * compared as its {@code toString()} ({@code ""} counts as present).
     */
    public static Filter.FieldPathAdaptor ofTree(Map<String, ?> tree) {
        Objects.requireNonNull(tree, "tree");
        return path -> {
            Object current = tree;
            for (String part : path) {
                if (!(current instanceof Map<?, ?> map)) {
                    return Optional.empty();
                }
                current = map.get(part);
            }
            if (current == null || current instanceof Map<?, ?>) {
                return Optional.empty();
            }
            return Optional.of(current.toString());
        };
    }

    @Override
    public Optional<String> field(List<String> fieldPath) {
        Objects.requireNonNull(fieldPath, "fieldPath");
        for (Entry e : entries) {
            Optional<String> v = e.lookup(fieldPath);
            if (v != null) {
                return v;
            }
        }
        return Optional.empty();
    }

    /** Collects fields; later registrations of the same path win. */
    public static final class Builder {
        private final List<Entry> entries = new ArrayList<>();

        private Builder() {
        }

        /**
         * A plain field at a dotted path such as {@code name} or {@code target.digest}. Like containerd's
         * adaptors, the field is present only when {@code value} is neither null nor empty.
         */
        public Builder field(String dottedPath, String value) {
            List<String> path = split(dottedPath);
            boolean present = value != null && !value.isEmpty();
            entries.add(0, new Entry(path, Kind.FIELD, present ? value : null, null, null));
            return this;
        }

        /**
         * A string map such as labels or annotations at {@code dottedPath}: {@code <path>.<key>} is present
         * when the map contains the key (even with an empty value). Keys may contain dots; filters quote
         * them ({@code labels."com.example/app"}). A null map counts as empty.
         */
        public Builder map(String dottedPath, Map<String, String> map) {
            List<String> path = split(dottedPath);
            entries.add(0, new Entry(path, Kind.MAP, null, map == null ? Map.of() : Map.copyOf(map), null));
            return this;
        }

        /** Hands every field path below {@code dottedPath} (prefix removed) to {@code adaptor}. */
        public Builder nested(String dottedPath, Filter.FieldPathAdaptor adaptor) {
            List<String> path = split(dottedPath);
            entries.add(0, new Entry(path, Kind.NESTED, null, null, Objects.requireNonNull(adaptor, "adaptor")));
            return this;
        }

        public FieldPaths build() {
            return new FieldPaths(entries);
        }

        private static List<String> split(String dottedPath) {
            Objects.requireNonNull(dottedPath, "path");
            if (dottedPath.isEmpty()) {
                throw new IllegalArgumentException("field path must not be empty");
            }
            List<String> parts = List.of(dottedPath.split("\\.", -1));
            if (parts.stream().anyMatch(String::isEmpty)) {
                throw new IllegalArgumentException("field path \"" + dottedPath + "\" has an empty part");
            }
            return parts;
        }
    }

    private enum Kind { FIELD, MAP, NESTED }

    private record Entry(List<String> path, Kind kind, String value, Map<String, String> map,
                         Filter.FieldPathAdaptor nested) {
        /** The lookup result if this entry is responsible for {@code fieldPath}, else null. */
        Optional<String> lookup(List<String> fieldPath) {
            int n = path.size();
            return switch (kind) {
                case FIELD -> fieldPath.equals(path) ? Optional.ofNullable(value) : null;
                case MAP -> fieldPath.size() == n + 1 && fieldPath.subList(0, n).equals(path)
                        ? Optional.ofNullable(map.get(fieldPath.get(n))) : null;
                case NESTED -> fieldPath.size() > n && fieldPath.subList(0, n).equals(path)
                        ? Objects.requireNonNull(nested.field(List.copyOf(fieldPath.subList(n, fieldPath.size()))),
                                "nested adaptor returned null")
                        : null;
            };
        }
    }
}

package dev.berth.api.filter;

import java.util.List;
import java.util.Optional;

/**
 * containerd's filter language, parsed once and evaluated against any object through a
 * {@link FieldPathAdaptor}.
 *
 * <pre>
 *   labels."com.example/app"==web,name~="^nginx"     two selectors, both must match (AND)
 *   parent                                             presence: the field exists
 *   topic!="/tasks/exit"                               inequality
 * </pre>
 * A selector is {@code fieldpath[op value]} with op {@code ==}, {@code !=}, {@code ~=} (Java regular
 * expression, unanchored find as Go's {@code MatchString}) or {@code @=} (substring, as containerd 1.7+);
 * field path parts are separated by dots and may be quoted; values may be quoted ({@code "..."},
 * {@code /.../} or {@code |...|}, with Go's backslash escapes). As in containerd a value starting with
 * {@code /} is a quoted literal, so write {@code topic=="/tasks/exit"}. A missing field compares as the
 * empty string for {@code !=}, {@code ~=} and {@code @=}. Commas join selectors with AND;
 * {@link #parse(String...)} joins several filter strings with OR. No filter strings at all, or an empty
 * filter string, match everything. {@link FieldPaths} builds adaptors for records.
 *
 * <p>Instances are immutable and thread-safe. Syntax errors throw
 * {@link dev.berth.api.InvalidArgumentException} naming the filter and the column.
 */
public interface Filter {

    /** Whether the object seen through {@code adaptor} passes. */
    boolean matches(FieldPathAdaptor adaptor);

    /** Parses filter strings: each string is an AND of selectors; the strings are ORed. */
    static Filter parse(String... filters) {
        return FilterParser.parseAll(filters == null ? List.of() : List.of(filters));
    }

    /** Parses filter strings: each string is an AND of selectors; the strings are ORed. */
    static Filter parse(List<String> filters) {
        return FilterParser.parseAll(filters);
    }

    /** The filter that matches everything. */
    static Filter always() {
        return adaptor -> true;
    }

    /** Looks up a field path on some object. */
    @FunctionalInterface
    interface FieldPathAdaptor {
        /**
         * The value at {@code fieldPath} (already split into parts, unquoted), or empty when the field
         * does not exist. A present field with an empty value is {@code Optional.of("")}.
         */
        Optional<String> field(List<String> fieldPath);
    }
}

package dev.berth.api.filter;

import dev.berth.api.InvalidArgumentException;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Scanner and recursive-descent parser for {@link Filter}.
 *
 * <pre>
 *   selectors := selector ("," selector)*
 *   selector  := fieldpath [operator value]
 *   fieldpath := field ("." field)*
 *   field     := quoted | [A-Za-z0-9_-]+
 *   operator  := "==" | "!=" | "~=" | "@="
 *   value     := quoted | [^\s,]+
 *   quoted    := "..." | /.../ | |...|     (backslash escapes as in Go string literals)
 * </pre>
 * As in containerd, a value that starts with a quote character ({@code "}, {@code /} or {@code |}) is a
 * quoted literal, so {@code topic==/tasks/exit} is an error and must be written
 * {@code topic=="/tasks/exit"}. Whitespace between tokens is ignored.
 */
final class FilterParser {
    private final String input;
    private int pos;

    private FilterParser(String input) {
        this.input = input;
    }

    static Filter parseAll(List<String> filters) {
        if (filters == null || filters.isEmpty()) {
            return Filter.always();
        }
        List<List<Selector>> alternatives = new ArrayList<>(filters.size());
        for (String f : filters) {
            Objects.requireNonNull(f, "filter string");
            alternatives.add(parseOne(f));
        }
        return new ParsedFilter(List.copyOf(alternatives), List.copyOf(filters));
    }

    /** One filter string: the AND of its selectors; the empty string matches everything. */
    static List<Selector> parseOne(String filter) {
        if (filter.isEmpty()) {
            return List.of();
        }
        return new FilterParser(filter).selectors();
    }

    private List<Selector> selectors() {
        List<Selector> selectors = new ArrayList<>();
        selectors.add(selector());
        while (true) {
            skipSpace();
            if (atEnd()) {
                return List.copyOf(selectors);
            }
            if (peek() == ',') {
                pos++;
                selectors.add(selector());
                continue;
            }
            throw error(pos, "unexpected input '" + describe(pos)
                    + "' (selectors are separated by ','; quote values that start with / or contain spaces)");
        }
    }

    private Selector selector() {
        List<String> path = fieldPath();
        skipSpace();
        if (atEnd() || peek() == ',') {
            return new Selector(path, Operator.PRESENT, "", null);
        }
        Operator op = operator();
        skipSpace();
        int valueStart = pos;
        String value = value();
        Pattern regex = null;
        if (op == Operator.MATCHES) {
            try {
                regex = Pattern.compile(value);
            } catch (PatternSyntaxException e) {
                throw error(valueStart, "invalid regular expression \"" + value + "\": " + e.getDescription());
            }
        }
        return new Selector(path, op, value, regex);
    }

    private List<String> fieldPath() {
        List<String> parts = new ArrayList<>();
        parts.add(field());
        while (true) {
            skipSpace();
            if (!atEnd() && peek() == '.') {
                pos++;
                parts.add(field());
            } else {
                return List.copyOf(parts);
            }
        }
    }

    private String field() {
        skipSpace();
        if (atEnd()) {
            throw error(pos, "expected field name");
        }
        char c = peek();
        if (isQuote(c)) {
            return quoted();
        }
        int start = pos;
        while (!atEnd() && isFieldChar(peek())) {
            pos++;
        }
        if (pos == start) {
            throw error(pos, "expected field name but found '" + describe(pos) + "'");
        }
        return input.substring(start, pos);
    }

    private Operator operator() {
        int start = pos;
        while (!atEnd() && isOperatorChar(peek())) {
            pos++;
        }
        String op = input.substring(start, pos);
        if (op.isEmpty()) {
            throw error(start, "expected an operator (==, !=, ~=, @=) or ',' but found '" + describe(start) + "'");
        }
        return switch (op) {
            case "==" -> Operator.EQUAL;
            case "!=" -> Operator.NOT_EQUAL;
            case "~=" -> Operator.MATCHES;
            case "@=" -> Operator.CONTAINS;
            default -> throw error(start, "unsupported operator \"" + op + "\" (expected ==, !=, ~= or @=)");
        };
    }

    private String value() {
        if (atEnd()) {
            throw error(pos, "expected value");
        }
        char c = peek();
        if (isQuote(c)) {
            return quoted();
        }
        if (c == ',') {
            throw error(pos, "expected value");
        }
        int start = pos;
        while (!atEnd() && peek() != ',' && !Character.isWhitespace(peek())) {
            pos++;
        }
        return input.substring(start, pos);
    }

    /** A literal delimited by {@code "}, {@code /} or {@code |} with Go's backslash escapes. */
    private String quoted() {
        int start = pos;
        char quote = input.charAt(pos++);
        StringBuilder out = new StringBuilder();
        while (true) {
            if (atEnd() || peek() == '\n') {
                throw error(start, "quoted literal not terminated");
            }
            char c = input.charAt(pos);
            if (c == quote) {
                pos++;
                return out.toString();
            }
            if (c != '\\') {
                out.append(c);
                pos++;
                continue;
            }
            int escapeAt = pos;
            pos++;
            if (atEnd()) {
                throw error(start, "quoted literal not terminated");
            }
            char e = input.charAt(pos++);
            switch (e) {
                case 'a' -> out.append('\u0007');
                case 'b' -> out.append('\b');
                case 'f' -> out.append('\f');
                case 'n' -> out.append('\n');
                case 'r' -> out.append('\r');
                case 't' -> out.append('\t');
                case 'v' -> out.append('\u000b');
                case '\\' -> out.append('\\');
                case 'x' -> out.append((char) hexDigits(escapeAt, 2));
                case 'u' -> out.appendCodePoint(hexDigits(escapeAt, 4));
                case 'U' -> out.appendCodePoint(hexDigits(escapeAt, 8));
                case '0', '1', '2', '3', '4', '5', '6', '7' -> out.append((char) octalDigits(escapeAt, e));
                default -> {
                    if (e == quote) {
                        out.append(e);
                    } else {
                        throw error(escapeAt, "illegal escape sequence \\" + e + " in quoted literal"
                                + (quote == '/' ? " (write a regexp backslash as \\\\)" : ""));
                    }
                }
            }
        }
    }

    private int hexDigits(int escapeAt, int n) {
        if (pos + n > input.length()) {
            throw error(escapeAt, "illegal numeric escape sequence");
        }
        int v = 0;
        for (int i = 0; i < n; i++) {
            int d = Character.digit(input.charAt(pos + i), 16);
            if (d < 0) {
                throw error(escapeAt, "illegal numeric escape sequence");
            }
            v = (v << 4) | d;
        }
        pos += n;
        if (v > Character.MAX_CODE_POINT || (v >= 0xD800 && v <= 0xDFFF && n > 2)) {
            throw error(escapeAt, "escape sequence is not a valid Unicode code point");
        }
        return v;
    }

    private int octalDigits(int escapeAt, char first) {
        int v = first - '0';
        for (int i = 0; i < 2; i++) {
            if (atEnd() || input.charAt(pos) < '0' || input.charAt(pos) > '7') {
                throw error(escapeAt, "illegal numeric escape sequence");
            }
            v = (v << 3) | (input.charAt(pos++) - '0');
        }
        if (v > 255) {
            throw error(escapeAt, "octal escape value > 255");
        }
        return v;
    }

    private void skipSpace() {
        while (!atEnd() && Character.isWhitespace(peek())) {
            pos++;
        }
    }

    private boolean atEnd() {
        return pos >= input.length();
    }

    private char peek() {
        return input.charAt(pos);
    }

    private String describe(int at) {
        return at >= input.length() ? "end of input" : String.valueOf(input.charAt(at));
    }

    private InvalidArgumentException error(int at, String message) {
        return new InvalidArgumentException("filter \"" + input + "\": " + message + " at column " + (at + 1));
    }

    private static boolean isQuote(char c) {
        return c == '"' || c == '/' || c == '|';
    }

    private static boolean isFieldChar(char c) {
        return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
    }

    private static boolean isOperatorChar(char c) {
        return c == '=' || c == '!' || c == '~' || c == '@';
    }

    enum Operator { PRESENT, EQUAL, NOT_EQUAL, MATCHES, CONTAINS }

    /**
     * One {@code fieldpath[op value]}. Like containerd, a missing field compares as the empty string
     * for {@code !=}, {@code ~=} and {@code @=}, so {@code name!=x} matches objects without a name.
     */
    record Selector(List<String> fieldPath, Operator operator, String value, Pattern regex) {
        boolean matches(Filter.FieldPathAdaptor adaptor) {
            Optional<String> field = adaptor.field(fieldPath);
            String actual = field.orElse("");
            return switch (operator) {
                case PRESENT -> field.isPresent();
                case EQUAL -> field.isPresent() && actual.equals(value);
                case NOT_EQUAL -> !actual.equals(value);
                case MATCHES -> regex.matcher(actual).find();
                case CONTAINS -> actual.contains(value);
            };
        }
    }

    /** OR over filter strings, each an AND over its selectors. */
    record ParsedFilter(List<List<Selector>> alternatives, List<String> sources) implements Filter {
        @Override
        public boolean matches(FieldPathAdaptor adaptor) {
            Objects.requireNonNull(adaptor, "adaptor");
            for (List<Selector> all : alternatives) {
                if (all.stream().allMatch(s -> s.matches(adaptor))) {
                    return true;
                }
            }
            return false;
        }

        @Override
        public String toString() {
            return "Filter" + sources;
        }
    }
}

package dev.berth.api.filter;

import java.util.List;

/** Scanner and recursive-descent parser for {@link Filter}. */
final class FilterParser {
    private FilterParser() {
    }

    static Filter parseAll(List<String> filters) {
        throw new UnsupportedOperationException("not yet implemented");
    }
}

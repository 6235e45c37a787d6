package dev.berth.cli;

import com.fasterxml.jackson.core.JsonProcessingException;
import dev.berth.api.BerthException;
import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Prints a command's result: an aligned table (like ctr's tabwriter output), or with {@code --json} a JSON
 * array of objects keyed by the column names in lower case.
 */
final class Output {
    private final PrintWriter out;
    private final boolean json;

    Output(PrintWriter out, boolean json) {
        this.out = out;
        this.json = json;
    }

    boolean json() {
        return json;
    }

    PrintWriter writer() {
        return out;
    }

    void line(String s) {
        out.println(s);
    }

    /** Prints any JSON-able value (maps, lists, strings, numbers). */
    void printJson(Object value) {
        try {
            out.println(Json.INDENTED.writeValueAsString(value));
        } catch (JsonProcessingException e) {
            throw new BerthException("cannot print JSON: " + e.getMessage(), e);
        }
    }

    Table table(String... columns) {
        return new Table(columns);
    }

    final class Table {
        private final String[] columns;
        private final List<Object[]> rows = new ArrayList<>();

        private Table(String[] columns) {
            this.columns = columns;
        }

        Table row(Object... values) {
            rows.add(values);
            return this;
        }

        void print() {
            if (json) {
                List<Map<String, Object>> list = new ArrayList<>();
                for (Object[] r : rows) {
                    Map<String, Object> m = new LinkedHashMap<>();
                    for (int i = 0; i < columns.length; i++) {
                        m.put(columns[i].toLowerCase(java.util.Locale.ROOT), r[i]);
                    }
                    list.add(m);
                }
                printJson(list);
                return;
            }
            int[] width = new int[columns.length];
            for (int i = 0; i < columns.length; i++) {
                width[i] = columns[i].length();
            }
            for (Object[] r : rows) {
                for (int i = 0; i < columns.length; i++) {
                    width[i] = Math.max(width[i], text(r[i]).length());
                }
            }
            printRow(columns, width);
            for (Object[] r : rows) {
                printRow(r, width);
            }
            out.flush();
        }

        private void printRow(Object[] values, int[] width) {
            StringBuilder sb = new StringBuilder();
            for (int i = 0; i < values.length; i++) {
                String t = text(values[i]);
                sb.append(t);
                if (i < values.length - 1) {
                    sb.append(" ".repeat(width[i] - t.length() + 3));
                }
            }
            out.println(sb.toString().stripTrailing());
        }
    }

    static String text(Object v) {
        if (v == null) {
            return "-";
        }
        if (v instanceof Map<?, ?> m) {
            if (m.isEmpty()) {
                return "-";
            }
            StringBuilder sb = new StringBuilder();
            m.forEach((k, val) -> sb.append(sb.length() == 0 ? "" : ",").append(k).append('=').append(val));
            return sb.toString();
        }
        String s = v.toString();
        return s.isEmpty() ? "-" : s;
    }

    /** 1.2 MiB style sizes, as ctr prints them. */
    static String size(long bytes) {
        if (bytes < 1024) {
            return bytes + " B";
        }
        String[] units = {"KiB", "MiB", "GiB", "TiB"};
        double v = bytes;
        int u = -1;
        while (v >= 1024 && u < units.length - 1) {
            v /= 1024;
            u++;
        }
        return String.format(java.util.Locale.ROOT, "%.1f %s", v, units[u]);
    }
}

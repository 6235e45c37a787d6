package dev.berth.registry.internal;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * One {@code WWW-Authenticate} challenge: a scheme ({@code basic}, {@code bearer}, lower-cased) and its
 * parameters ({@code realm}, {@code service}, {@code scope}, {@code error}; names lower-cased).
 */
public record Challenge(String scheme, Map<String, String> params) {
    public Challenge {
        params = Map.copyOf(params);
    }

    public String param(String name) {
        return params.get(name);
    }

    /** Parses every challenge in the header values (a value may hold several, comma-separated). */
    public static List<Challenge> parse(List<String> headerValues) {
        List<Challenge> out = new ArrayList<>();
        for (String value : headerValues) {
            parseInto(value, out);
        }
        return out;
    }

    private static void parseInto(String s, List<Challenge> out) {
        int i = 0;
        int n = s.length();
        String scheme = null;
        Map<String, String> params = new LinkedHashMap<>();
        while (i < n) {
            i = skip(s, i, " \t,");
            if (i >= n) {
                break;
            }
            int start = i;
            while (i < n && isTokenChar(s.charAt(i))) {
                i++;
            }
            if (i == start) {
                i++; // stray character
                continue;
            }
            String token = s.substring(start, i);
            int j = skip(s, i, " \t");
            if (j < n && s.charAt(j) == '=' && scheme != null) {
                j = skip(s, j + 1, " \t");
                StringBuilder value = new StringBuilder();
                if (j < n && s.charAt(j) == '"') {
                    j++;
                    while (j < n && s.charAt(j) != '"') {
                        char c = s.charAt(j);
                        if (c == '\\' && j + 1 < n) {
                            c = s.charAt(++j);
                        }
                        value.append(c);
                        j++;
                    }
                    j++; // closing quote
                } else {
                    while (j < n && s.charAt(j) != ',' && s.charAt(j) != ' ') {
                        value.append(s.charAt(j++));
                    }
                }
                params.put(token.toLowerCase(Locale.ROOT), value.toString());
                i = j;
            } else {
                if (scheme != null) {
                    out.add(new Challenge(scheme, params));
                    params = new LinkedHashMap<>();
                }
                scheme = token.toLowerCase(Locale.ROOT);
                i = j;
            }
        }
        if (scheme != null) {
            out.add(new Challenge(scheme, params));
        }
    }

    private static int skip(String s, int i, String chars) {
        while (i < s.length() && chars.indexOf(s.charAt(i)) >= 0) {
            i++;
        }
        return i;
    }

    private static boolean isTokenChar(char c) {
        return c > 32 && c < 127 && "()<>@,;:\\\"/[]?={} \t".indexOf(c) < 0;
    }
}

package dev.berth.api;

import java.util.regex.Pattern;

/**
 * containerd's identifier rule, used for namespaces, container, task and exec ids, lease ids and topic
 * components: {@code [A-Za-z0-9]+([._-][A-Za-z0-9]+)*}, at most 76 characters.
 */
public final class Identifiers {
    public static final int MAX_LENGTH = 76;
    private static final Pattern IDENTIFIER = Pattern.compile("[A-Za-z0-9]+(?:[._-][A-Za-z0-9]+)*");

    private Identifiers() {
    }

    public static boolean isValid(String s) {
        return s != null && !s.isEmpty() && s.length() <= MAX_LENGTH && IDENTIFIER.matcher(s).matches();
    }

    /**
     * Returns {@code s} if valid, else throws an {@link InvalidArgumentException} saying what {@code what}
     * ("namespace", "container id", ...) was and why it is invalid.
     */
    public static String validate(String what, String s) {
        if (s == null || s.isEmpty()) {
            throw new InvalidArgumentException(what + " must not be empty");
        }
        if (s.length() > MAX_LENGTH) {
            throw new InvalidArgumentException(what + " \"" + s + "\" is " + s.length()
                    + " characters; the limit is " + MAX_LENGTH);
        }
        if (!IDENTIFIER.matcher(s).matches()) {
            throw new InvalidArgumentException(what + " \"" + s
                    + "\" must match [A-Za-z0-9]+([._-][A-Za-z0-9]+)*");
        }
        return s;
    }
}

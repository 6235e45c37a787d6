package dev.berth.network.internal;

import dev.berth.api.InvalidArgumentException;

/** An IPv4 prefix such as {@code 10.89.3.0/24}. */
public record Cidr(long network, int prefix) {

    public static Cidr parse(String text) {
        String[] parts = text.split("/", -1);
        try {
            int prefix = parts.length == 1 ? 32 : Integer.parseInt(parts[1]);
            if (parts.length > 2 || prefix < 0 || prefix > 32) {
                throw new NumberFormatException();
            }
            long addr = address(parts[0]);
            return new Cidr(addr & mask(prefix), prefix);
        } catch (NumberFormatException e) {
            throw new InvalidArgumentException("\"" + text + "\" is not an IPv4 subnet such as 10.89.3.0/24");
        }
    }

    static long address(String dotted) {
        String[] o = dotted.split("\\.", -1);
        if (o.length != 4) {
            throw new NumberFormatException();
        }
        long a = 0;
        for (String s : o) {
            int v = Integer.parseInt(s);
            if (v < 0 || v > 255) {
                throw new NumberFormatException();
            }
            a = (a << 8) | v;
        }
        return a;
    }

    static long mask(int prefix) {
        return prefix == 0 ? 0 : (0xFFFFFFFFL << (32 - prefix)) & 0xFFFFFFFFL;
    }

    public boolean overlaps(Cidr other) {
        int p = Math.min(prefix, other.prefix);
        return (network & mask(p)) == (other.network & mask(p));
    }

    /** The {@code n}-th address in the prefix (1 = the usual gateway). */
    public String host(long n) {
        return dotted(network + n);
    }

    /** A name-safe form: {@code 10.89.3.0-24}. */
    public String fileName() {
        return dotted(network) + "-" + prefix;
    }

    static String dotted(long a) {
        return ((a >> 24) & 255) + "." + ((a >> 16) & 255) + "." + ((a >> 8) & 255) + "." + (a & 255);
    }

    @Override
    public String toString() {
        return dotted(network) + "/" + prefix;
    }
}

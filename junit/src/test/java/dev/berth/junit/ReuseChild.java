package dev.berth.junit;

/** Run in a child JVM by {@link ReuseIT}: starts the reusable container, prints {@code ID <id> <reused>} and exits. */
public final class ReuseChild {
    private ReuseChild() {
    }

    public static void main(String[] args) {
        BerthContainer<?> c = ReuseIT.reusable(args[0]);
        c.start();
        System.out.println("ID " + c.id() + " " + c.isReused());
        System.out.flush();
        c.stop();
    }
}

package dev.berth.bench.tc;

/**
 * A fresh JVM's first container: opens a side, starts one listening container, prints {@code READY <port>
 * <process CPU seconds>}, then cleans up. {@link FreshJvmBench} times it from the process start to that line.
 */
public final class FirstContainer {
    private FirstContainer() {
    }

    public static void main(String[] args) {
        try (Side side = Side.open(args[0]); Side.Running r = side.listening()) {
            System.out.println("READY " + r.port() + " " + ProcCpu.seconds());
            System.out.flush();
        }
        System.exit(0);
    }
}

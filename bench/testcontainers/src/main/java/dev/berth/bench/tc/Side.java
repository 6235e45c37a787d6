package dev.berth.bench.tc;

/**
 * One way of starting test containers, timed the same way for each: Berth's facade by hand
 * ({@link BerthSide}), Testcontainers ({@link TestcontainersSide}) and the junit extension's container
 * classes ({@link JunitSide}), selected by name in {@link #open}.
 */
public interface Side extends AutoCloseable {
    /** A started container and where its published port is reached. */
    interface Running extends AutoCloseable {
        String host();

        int port();

        /** Stops and removes the container. */
        @Override
        void close();
    }

    /** {@code berth}, {@code berth-junit} or {@code testcontainers}: the side column of the results. */
    String name();

    /**
     * The busybox image running {@code httpd -f -p 8080} with 8080 published on the host; returns once this
     * side's listening-port wait has passed.
     */
    Running listening();

    /**
     * The test kit's Postgres image (user, password and database {@code test}, {@code postgres -c
     * fsync=off}) with 5432 published; returns once this side counts the container as started. The caller
     * then waits until a JDBC {@code select 1} succeeds.
     */
    Running postgres();

    @Override
    void close();

    /** The side named {@code name}, configured from system properties (see {@link TestcontainersBench}). */
    static Side open(String name) {
        return switch (name) {
            case "berth" -> new BerthSide();
            case "berth-junit" -> new JunitSide();
            case "testcontainers" -> new TestcontainersSide();
            default -> throw new IllegalArgumentException("unknown side " + name + ": berth, berth-junit or testcontainers");
        };
    }
}

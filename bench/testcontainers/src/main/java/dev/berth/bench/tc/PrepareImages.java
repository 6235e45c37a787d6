package dev.berth.bench.tc;

import dev.berth.testing.PostgresImage;

/**
 * Builds (or finds in the test kit's cache) the Postgres image and prints {@code <name> <OCI archive>
 * <docker archive>} for bench/run.
 */
public final class PrepareImages {
    private PrepareImages() {
    }

    public static void main(String[] args) {
        PostgresImage.Archives pg = PostgresImage.builder().build();
        System.out.println(pg.name() + " " + pg.ociArchive() + " " + pg.dockerArchive());
    }
}

/**
 * Berth's JUnit 5 extension: containers for tests without a Docker daemon ({@code @BerthTest},
 * {@code @Container}, {@link dev.berth.junit.BerthContainer}, wait strategies, networks, reuse) and
 * a ready PostgreSQL container ({@link dev.berth.junit.postgres.PostgreSQLContainer}).
 */
module dev.berth.junit {
    requires transitive dev.berth;
    requires transitive org.junit.jupiter.api;
    requires java.net.http;
    requires org.slf4j;
    // PostgreSQLContainer's image; its public API shows no berth-testing type
    requires dev.berth.testing;

    exports dev.berth.junit;
    exports dev.berth.junit.postgres;
    // JUnit instantiates the extension reflectively
    opens dev.berth.junit.internal to org.junit.platform.commons;
}

/**
 * Berth's JUnit 5 extension: containers for tests without a Docker daemon ({@code @BerthTest},
 * {@code @Container}, {@link dev.berth.junit.BerthContainer}, wait strategies, networks, reuse).
 */
module dev.berth.junit {
    requires transitive dev.berth;
    requires transitive org.junit.jupiter.api;
    requires java.net.http;
    requires org.slf4j;

    exports dev.berth.junit;
    // JUnit instantiates the extension reflectively
    opens dev.berth.junit.internal to org.junit.platform.commons;
}

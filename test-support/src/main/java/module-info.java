/**
 * Berth's test kit for users' tests: busybox images, image layouts and archives built in Java, and a
 * docker-registry on 127.0.0.1 ({@code TestRegistry}).
 */
module dev.berth.testing {
    requires transitive dev.berth.api;
    requires dev.berth.sys;
    requires com.fasterxml.jackson.databind;
    requires org.apache.commons.compress;
    // commons-compress writes zstd layers through zstd-jni, which it only requires statically.
    requires com.github.luben.zstd_jni;
    // Only the fuzz targets' arbitraries need jqwik; users' tests that use them bring it.
    requires static transitive net.jqwik.api;

    exports dev.berth.testing;
    exports dev.berth.testing.fuzz;
}

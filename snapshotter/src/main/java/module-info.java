/** Berth's snapshotters (overlay, native), layer archives and mounts. */
module dev.berth.snapshot {
    requires transitive dev.berth.api;
    requires dev.berth.sys;
    requires java.sql;
    requires org.apache.commons.compress;
    // commons-compress reads zstd layers through zstd-jni, which it only requires statically.
    requires com.github.luben.zstd_jni;
    requires org.slf4j;

    exports dev.berth.snapshot;
    exports dev.berth.snapshot.archive;
    exports dev.berth.snapshot.mount;
}

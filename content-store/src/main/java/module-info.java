/** Berth's content store: content-addressed blobs on disk with ingests and leases. */
module dev.berth.content {
    requires transitive dev.berth.api;
    requires com.github.benmanes.caffeine;
    requires dev.berth.sys; // sync_file_range for an ingest's early write-back
    requires org.slf4j;

    exports dev.berth.content;
}

/** Berth's content store: content-addressed blobs on disk with ingests and leases. */
module dev.berth.content {
    requires transitive dev.berth.api;
    requires com.github.benmanes.caffeine;
    requires static dev.berth.sys; // optional: sync_file_range for early write-back, when Berth's sys module is there
    requires org.slf4j;

    exports dev.berth.content;
}

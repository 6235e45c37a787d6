/** Berth's image service: image records, unpacking, import and export of image archives. */
module dev.berth.image {
    requires transitive dev.berth.api;
    requires dev.berth.content;
    requires transitive dev.berth.snapshot; // ImageService takes a LayerApplier
    requires com.fasterxml.jackson.databind;
    requires org.apache.commons.compress;
    // commons-compress reads zstd layers through zstd-jni, which it only requires statically.
    requires com.github.luben.zstd_jni;
    requires org.slf4j;

    exports dev.berth.image;
}

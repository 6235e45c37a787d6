/**
 * Berth's API: the types every other Berth module speaks (content, snapshots, images, containers,
 * events, leases, the OCI image and runtime-spec models).
 */
@SuppressWarnings("module") // qualified exports name modules built after this one
module dev.berth.api {
    requires com.fasterxml.jackson.annotation;
    requires com.fasterxml.jackson.core;
    requires com.fasterxml.jackson.databind;
    requires org.slf4j;

    exports dev.berth.api;
    exports dev.berth.api.container;
    exports dev.berth.api.content;
    exports dev.berth.api.event;
    exports dev.berth.api.filter;
    exports dev.berth.api.image;
    exports dev.berth.api.lease;
    exports dev.berth.api.oci.image;
    exports dev.berth.api.oci.runtime;
    exports dev.berth.api.snapshot;
    exports dev.berth.api.task;

    // Shared helpers for Berth's own stores; not API.
    exports dev.berth.api.internal to dev.berth.content, dev.berth.snapshot, dev.berth.runtime, dev.berth,
        dev.berth.junit, dev.berth.cri, dev.berth.network;

    // Jackson binds the runtime-spec records reflectively.
    opens dev.berth.api.oci.runtime to com.fasterxml.jackson.databind;
    opens dev.berth.api.oci.runtime.internal to com.fasterxml.jackson.databind;
}

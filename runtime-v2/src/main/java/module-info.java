/** Berth's runtime v2: tasks run by containerd shims over ttrpc. */
module dev.berth.runtime {
    requires transitive dev.berth.api;
    requires dev.berth.sys;
    requires com.fasterxml.jackson.databind;
    requires com.google.protobuf;
    requires io.netty.buffer;
    requires io.netty.codec;
    requires io.netty.common;
    requires io.netty.handler;
    requires io.netty.transport;
    requires io.netty.transport.classes.epoll;
    requires io.netty.transport.unix.common;
    // The epoll native library (netty loads it as a resource): compile scope in the pom so it resolves.
    requires io.netty.transport.epoll.linux.x86_64;
    requires org.slf4j;

    exports dev.berth.runtime;
    exports dev.berth.runtime.spec;

    // protobuf-java reaches the generated messages reflectively.
    opens dev.berth.runtime.internal.proto.cgroups.v1 to com.google.protobuf;
    opens dev.berth.runtime.internal.proto.cgroups.v2 to com.google.protobuf;
    opens dev.berth.runtime.internal.proto.events to com.google.protobuf;
    opens dev.berth.runtime.internal.proto.eventsvc to com.google.protobuf;
    opens dev.berth.runtime.internal.proto.rpc to com.google.protobuf;
    opens dev.berth.runtime.internal.proto.runc to com.google.protobuf;
    opens dev.berth.runtime.internal.proto.task to com.google.protobuf;
    opens dev.berth.runtime.internal.proto.ttrpc to com.google.protobuf;
    opens dev.berth.runtime.internal.proto.types to com.google.protobuf;
}

/** Berth's Kubernetes CRI server: the runtime.v1 RuntimeService and ImageService over a {@code Berth}. */
module dev.berth.cri {
    requires transitive dev.berth;
    requires dev.berth.network;
    requires dev.berth.sys; // pidfd_getfd for port-forward sockets
    requires com.fasterxml.jackson.databind;
    requires com.google.protobuf;
    requires com.google.common; // the generated future stubs use ListenableFuture
    requires io.grpc;
    requires io.grpc.stub;
    requires io.grpc.protobuf;
    requires io.grpc.netty.shaded;
    requires io.netty.buffer;
    requires io.netty.codec;
    requires io.netty.codec.http;
    requires io.netty.common;
    requires io.netty.handler;
    requires io.netty.transport;
    requires io.netty.transport.classes.epoll; // the streaming server's loop, port-forward sockets
    requires io.netty.transport.unix.common;
    requires org.slf4j;
    requires org.apache.commons.compress;

    exports dev.berth.cri;

    // protobuf-java reaches the generated messages reflectively.
    opens dev.berth.cri.internal.proto to com.google.protobuf;
}

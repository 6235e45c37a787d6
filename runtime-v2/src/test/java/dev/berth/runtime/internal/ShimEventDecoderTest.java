package dev.berth.runtime.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import com.google.protobuf.Any;
import com.google.protobuf.ByteString;
import com.google.protobuf.Timestamp;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.Mount;
import dev.berth.api.event.Envelope;
import dev.berth.api.event.TaskEvent;
import dev.berth.api.event.UnknownEvent;
import dev.berth.runtime.internal.proto.events.TaskCreate;
import dev.berth.runtime.internal.proto.events.TaskExit;
import dev.berth.runtime.internal.proto.events.TaskIO;
import dev.berth.runtime.internal.proto.events.TaskOOM;
import java.time.Instant;
import java.util.List;
import org.junit.jupiter.api.Test;

class ShimEventDecoderTest {
    private static dev.berth.runtime.internal.proto.eventsvc.Envelope envelope(String topic, String type,
                                                                               ByteString value) {
        return dev.berth.runtime.internal.proto.eventsvc.Envelope.newBuilder()
                .setTimestamp(Timestamp.newBuilder().setSeconds(1_700_000_000).setNanos(5))
                .setNamespace("default")
                .setTopic(topic)
                .setEvent(Any.newBuilder().setTypeUrl(type).setValue(value))
                .build();
    }

    @Test
    void exitEventBecomesTypedExit() {
        TaskExit exit = TaskExit.newBuilder().setContainerId("c1").setId("c1").setPid(42).setExitStatus(137)
                .setExitedAt(Timestamp.newBuilder().setSeconds(1_700_000_001)).build();

        Envelope e = ShimEventDecoder.decode(envelope("/tasks/exit", "containerd.events.TaskExit", exit.toByteString()));

        assertThat(e.timestamp()).isEqualTo(Instant.ofEpochSecond(1_700_000_000, 5));
        assertThat(e.namespace()).isEqualTo("default");
        assertThat(e.topic()).isEqualTo("/tasks/exit");
        assertThat(e.event()).isEqualTo(new TaskEvent.Exit("c1", "c1", 42, 137, Instant.ofEpochSecond(1_700_000_001)));
    }

    @Test
    void createEventKeepsMountsAndIo() {
        TaskCreate create = TaskCreate.newBuilder().setContainerId("c1").setBundle("/b").setPid(7)
                .addRootfs(ShimEventDecoder.toProto(new Mount("overlay", "overlay", List.of("lowerdir=/l"))))
                .setIo(TaskIO.newBuilder().setStdout("/fifo/out").setTerminal(true)).build();

        Envelope e = ShimEventDecoder.decode(envelope("/tasks/create", "containerd.events.TaskCreate",
                create.toByteString()));

        assertThat(e.event()).isEqualTo(new TaskEvent.Create("c1", "/b",
                List.of(new Mount("overlay", "overlay", List.of("lowerdir=/l"))), "", "/fifo/out", "", true, "", 7));
    }

    @Test
    void typeUrlWithAPrefixIsStillRecognised() {
        Envelope e = ShimEventDecoder.decode(envelope("/tasks/oom", "type.googleapis.com/containerd.events.TaskOOM",
                TaskOOM.newBuilder().setContainerId("c9").build().toByteString()));

        assertThat(e.event()).isEqualTo(new TaskEvent.Oom("c9"));
    }

    @Test
    void unknownPayloadIsKeptRaw() {
        Envelope e = ShimEventDecoder.decode(envelope("/tasks/custom", "example.Custom", ByteString.copyFromUtf8("x")));

        assertThat(e.event()).isInstanceOfSatisfying(UnknownEvent.class, u -> {
            assertThat(u.typeUrl()).isEqualTo("example.Custom");
            assertThat(u.value()).containsExactly('x');
            assertThat(u.topic()).isEqualTo("/tasks/custom");
        });
    }

    @Test
    void envelopeWithoutNamespaceIsRejected() {
        var bad = envelope("/tasks/oom", "containerd.events.TaskOOM", ByteString.EMPTY).toBuilder()
                .clearNamespace().build();

        assertThatThrownBy(() -> ShimEventDecoder.decode(bad)).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("namespace");
    }
}

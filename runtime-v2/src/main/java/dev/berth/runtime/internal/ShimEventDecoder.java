package dev.berth.runtime.internal;

import com.google.protobuf.Any;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Timestamp;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.Mount;
import dev.berth.api.event.Envelope;
import dev.berth.api.event.Event;
import dev.berth.api.event.TaskEvent;
import dev.berth.api.event.UnknownEvent;
import dev.berth.runtime.internal.proto.events.TaskCheckpointed;
import dev.berth.runtime.internal.proto.events.TaskCreate;
import dev.berth.runtime.internal.proto.events.TaskDelete;
import dev.berth.runtime.internal.proto.events.TaskExecAdded;
import dev.berth.runtime.internal.proto.events.TaskExecStarted;
import dev.berth.runtime.internal.proto.events.TaskExit;
import dev.berth.runtime.internal.proto.events.TaskOOM;
import dev.berth.runtime.internal.proto.events.TaskPaused;
import dev.berth.runtime.internal.proto.events.TaskResumed;
import dev.berth.runtime.internal.proto.types.Mount.Builder;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * Turns the protobuf envelopes shims forward into Berth's typed events. Payload type URLs are the
 * gogo-style message names ({@code containerd.events.TaskExit}); unknown ones become {@link UnknownEvent}.
 */
public final class ShimEventDecoder {
    private static final String PREFIX = "containerd.events.";

    private ShimEventDecoder() {
    }

    public static Envelope decode(dev.berth.runtime.internal.proto.eventsvc.Envelope envelope) {
        if (envelope.getNamespace().isEmpty() || envelope.getTopic().isEmpty()) {
            throw new InvalidArgumentException("event envelope needs a namespace and a topic, got namespace \""
                    + envelope.getNamespace() + "\" topic \"" + envelope.getTopic() + "\"");
        }
        Instant timestamp = envelope.hasTimestamp() ? instant(envelope.getTimestamp()) : Instant.now();
        Event event = decodeEvent(envelope.getTopic(), envelope.getEvent());
        return new Envelope(timestamp, envelope.getNamespace(), envelope.getTopic(), event);
    }

    static Event decodeEvent(String topic, Any any) {
        String type = any.getTypeUrl();
        int slash = type.lastIndexOf('/');
        String name = slash >= 0 ? type.substring(slash + 1) : type;
        try {
            Event event = switch (name) {
                case PREFIX + "TaskCreate" -> {
                    TaskCreate e = TaskCreate.parseFrom(any.getValue());
                    yield new TaskEvent.Create(e.getContainerId(), e.getBundle(), mounts(e.getRootfsList()),
                            e.getIo().getStdin(), e.getIo().getStdout(), e.getIo().getStderr(), e.getIo().getTerminal(),
                            e.getCheckpoint(), e.getPid());
                }
                case PREFIX + "TaskStart" -> {
                    var e = dev.berth.runtime.internal.proto.events.TaskStart.parseFrom(any.getValue());
                    yield new TaskEvent.Start(e.getContainerId(), e.getPid());
                }
                case PREFIX + "TaskExit" -> {
                    TaskExit e = TaskExit.parseFrom(any.getValue());
                    yield new TaskEvent.Exit(e.getContainerId(), e.getId(), e.getPid(), e.getExitStatus(),
                            instant(e.getExitedAt()));
                }
                case PREFIX + "TaskDelete" -> {
                    TaskDelete e = TaskDelete.parseFrom(any.getValue());
                    yield new TaskEvent.Delete(e.getContainerId(), e.getId(), e.getPid(), e.getExitStatus(),
                            instant(e.getExitedAt()));
                }
                case PREFIX + "TaskOOM" -> new TaskEvent.Oom(TaskOOM.parseFrom(any.getValue()).getContainerId());
                case PREFIX + "TaskExecAdded" -> {
                    TaskExecAdded e = TaskExecAdded.parseFrom(any.getValue());
                    yield new TaskEvent.ExecAdded(e.getContainerId(), e.getExecId());
                }
                case PREFIX + "TaskExecStarted" -> {
                    TaskExecStarted e = TaskExecStarted.parseFrom(any.getValue());
                    yield new TaskEvent.ExecStarted(e.getContainerId(), e.getExecId(), e.getPid());
                }
                case PREFIX + "TaskPaused" -> new TaskEvent.Paused(TaskPaused.parseFrom(any.getValue()).getContainerId());
                case PREFIX + "TaskResumed" -> new TaskEvent.Resumed(TaskResumed.parseFrom(any.getValue()).getContainerId());
                case PREFIX + "TaskCheckpointed" -> {
                    TaskCheckpointed e = TaskCheckpointed.parseFrom(any.getValue());
                    yield new TaskEvent.Checkpointed(e.getContainerId(), e.getCheckpoint());
                }
                default -> null;
            };
            if (event != null) {
                return event;
            }
        } catch (InvalidProtocolBufferException e) {
            // fall through: keep the raw payload rather than losing the event
        }
        return new UnknownEvent(topic, type, any.getValue().toByteArray());
    }

    private static List<Mount> mounts(List<dev.berth.runtime.internal.proto.types.Mount> proto) {
        List<Mount> out = new ArrayList<>(proto.size());
        for (var m : proto) {
            out.add(new Mount(m.getType(), m.getSource(), m.getTarget(), m.getOptionsList()));
        }
        return out;
    }

    /** The protobuf form of a Berth mount, as Create and TaskCreate carry it. */
    public static dev.berth.runtime.internal.proto.types.Mount toProto(Mount mount) {
        Builder b = dev.berth.runtime.internal.proto.types.Mount.newBuilder()
                .setType(mount.type())
                .setSource(mount.source())
                .setTarget(mount.target())
                .addAllOptions(mount.options());
        return b.build();
    }

    public static Instant instant(Timestamp ts) {
        return Instant.ofEpochSecond(ts.getSeconds(), ts.getNanos());
    }
}

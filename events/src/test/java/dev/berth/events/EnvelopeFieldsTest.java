package dev.berth.events;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.Digest;
import dev.berth.api.Mount;
import dev.berth.api.event.ContentEvent;
import dev.berth.api.event.Envelope;
import dev.berth.api.event.Event;
import dev.berth.api.event.ImageEvent;
import dev.berth.api.event.SnapshotEvent;
import dev.berth.api.event.TaskEvent;
import dev.berth.api.event.UnknownEvent;
import java.time.Instant;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

class EnvelopeFieldsTest {

    private static Optional<String> field(Event event, String... path) {
        Envelope envelope = new Envelope(Instant.EPOCH, "default", event.topic(), event);
        return EnvelopeFields.of(envelope).field(Arrays.asList(path));
    }

    private static final TaskEvent.Exit EXIT =
            new TaskEvent.Exit("web", "exec1", 42, 137, Instant.parse("2024-05-01T10:00:00Z"));

    @Nested
    class EnvelopeLevel {
        @Test
        void topicAndNamespaceAreAlwaysPresent() {
            assertThat(field(EXIT, "topic")).contains("/tasks/exit");
            assertThat(field(EXIT, "namespace")).contains("default");
        }

        @Test
        void unknownTopLevelFieldsAndBareEventAreAbsent() {
            assertThat(field(EXIT, "timestamp")).isEmpty();
            assertThat(field(EXIT, "labels")).isEmpty();
            assertThat(field(EXIT, "event")).isEmpty();
            assertThat(field(EXIT)).isEmpty();
        }
    }

    @Nested
    class EventFields {
        @Test
        void recordComponentsAreReachableByJavaAndSnakeCaseName() {
            assertThat(field(EXIT, "event", "containerId")).contains("web");
            assertThat(field(EXIT, "event", "container_id")).contains("web");
            assertThat(field(EXIT, "event", "id")).contains("exec1");
            assertThat(field(new TaskEvent.ExecAdded("web", "e2"), "event", "exec_id")).contains("e2");
        }

        @Test
        void numbersAndInstantsCompareAsTheirStringForm() {
            assertThat(field(EXIT, "event", "exit_status")).contains("137");
            assertThat(field(EXIT, "event", "pid")).contains("42");
            assertThat(field(EXIT, "event", "exited_at")).contains("2024-05-01T10:00:00Z");
            TaskEvent.Create create = new TaskEvent.Create("c", "/b", List.of(), "", "", "", true, "", 1);
            assertThat(field(create, "event", "terminal")).contains("true");
        }

        @Test
        void emptyStringFieldsAreAbsentAsInContainerd() {
            assertThat(field(new SnapshotEvent.Prepare("k", "", "overlayfs"), "event", "parent")).isEmpty();
            assertThat(field(new SnapshotEvent.Prepare("k", null, "overlayfs"), "event", "parent")).isEmpty();
            assertThat(field(new SnapshotEvent.Prepare("k", "p", "overlayfs"), "event", "parent")).contains("p");
        }

        @Test
        void mapEntriesArePresentEvenWhenEmpty() {
            ImageEvent.Create image = new ImageEvent.Create("docker.io/library/busybox:latest",
                    Map.of("app", "web", "flag", ""));
            assertThat(field(image, "event", "labels", "app")).contains("web");
            assertThat(field(image, "event", "labels", "flag")).contains("");
            assertThat(field(image, "event", "labels", "missing")).isEmpty();
            assertThat(field(image, "event", "labels")).isEmpty();
        }

        @Test
        void recordsWithTheirOwnStringFormCompareAsThatString() {
            Digest digest = Digest.parse("sha256:" + "ab".repeat(32));
            ContentEvent.Delete delete = new ContentEvent.Delete(digest);
            assertThat(field(delete, "event", "digest")).contains(digest.toString());
            assertThat(field(delete, "event", "digest", "algorithm")).contains("sha256");
        }

        @Test
        void listsArraysAndUnknownNamesAreAbsent() {
            TaskEvent.Create create = new TaskEvent.Create("c", "/b",
                    List.of(new Mount("overlay", "overlay", List.of("ro"))), "", "", "", false, "", 1);
            assertThat(field(create, "event", "rootfs")).isEmpty();
            assertThat(field(create, "event", "rootfs", "0")).isEmpty();
            assertThat(field(create, "event", "nope")).isEmpty();
            assertThat(field(create, "event", "container_id", "deeper")).isEmpty();
            UnknownEvent unknown = new UnknownEvent("/tasks/custom", "example.com/Custom", new byte[] {1, 2});
            assertThat(field(unknown, "event", "value")).isEmpty();
            assertThat(field(unknown, "event", "type_url")).contains("example.com/Custom");
        }
    }

    @Test
    void snakeCaseSplitsBeforeEachCapital() {
        assertThat(EnvelopeFields.snakeCase("containerId")).isEqualTo("container_id");
        assertThat(EnvelopeFields.snakeCase("exitStatus")).isEqualTo("exit_status");
        assertThat(EnvelopeFields.snakeCase("pid")).isEqualTo("pid");
    }
}

package dev.berth.metadata.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.berth.api.AlreadyExistsException;
import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.Labels;
import dev.berth.api.NotFoundException;
import dev.berth.api.content.Info;
import dev.berth.api.content.Status;
import dev.berth.api.content.Writer;
import dev.berth.api.image.Image;
import dev.berth.content.Content;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NamespacedContentTest {
    @TempDir
    Path tmp;
    Fixture f;

    @BeforeEach
    void open() {
        f = Fixture.open(tmp);
    }

    @AfterEach
    void close() {
        f.close();
    }

    private static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void blobCommittedInOneNamespaceIsInvisibleInAnother() {
        Descriptor d = Fixture.blob(f.ns("a").content(), "hello");
        assertThat(f.ns("a").content().info(d.digest()).size()).isEqualTo(5);
        assertThatThrownBy(() -> f.ns("b").content().info(d.digest())).isInstanceOf(NotFoundException.class)
                .hasMessageContaining("namespace b");
        assertThatThrownBy(() -> f.ns("b").content().readerAt(d)).isInstanceOf(NotFoundException.class);
        assertThat(f.ns("b").content().list()).isEmpty();
        assertThat(Content.readBlob(f.ns("a").content(), d)).isEqualTo(bytes("hello"));
    }

    @Test
    void committingABlobStoredByAnotherNamespaceIsInstant() {
        Descriptor d = Fixture.blob(f.ns("a").content(), "shared bytes");
        MetaContentStore b = f.ns("b").content();
        try (Writer w = b.writer("ref-b", d)) {
            Status s = w.status();
            assertThat(s.offset()).isEqualTo(d.size());
            assertThat(s.total()).isEqualTo(d.size());
            assertThat(w.commit(d.size(), d.digest(), Map.of("from", "b"))).isEqualTo(d.digest());
        }
        assertThat(b.info(d.digest()).labels()).containsEntry("from", "b");
        assertThat(Content.readBlob(b, d)).isEqualTo(bytes("shared bytes"));
        assertThat(b.listStatuses()).isEmpty();
        assertThat(f.content.listStatuses()).as("no ingest was made on disk").isEmpty();
    }

    @Test
    void sharedCommitStillChecksTheExpectedDigestAndSize() {
        Descriptor d = Fixture.blob(f.ns("a").content(), "abc");
        Writer w = f.ns("b").content().writer("r", d);
        assertThatThrownBy(() -> w.commit(99, d.digest())).isInstanceOf(FailedPreconditionException.class)
                .hasMessageContaining("size");
        assertThatThrownBy(() -> f.ns("b").content().info(d.digest())).isInstanceOf(NotFoundException.class);
    }

    @Test
    void writerForABlobAlreadyInTheNamespaceFailsWithAlreadyExists() {
        Descriptor d = Fixture.blob(f.ns("a").content(), "x");
        assertThatThrownBy(() -> f.ns("a").content().writer("again", d)).isInstanceOf(AlreadyExistsException.class);
        // and a second copy is success, as containerd's WriteBlob counts it
        assertThat(Fixture.blob(f.ns("a").content(), "x")).isEqualTo(d);
    }

    @Test
    void commitWithAWrongDigestIsRefusedAndRecordsNothing() {
        MetaContentStore a = f.ns("a").content();
        Digest wrong = Digest.sha256(bytes("other"));
        try (Writer w = a.writer("r1", null)) {
            w.write(ByteBuffer.wrap(bytes("data")));
            assertThatThrownBy(() -> w.commit(4, wrong)).isInstanceOf(FailedPreconditionException.class)
                    .hasMessageContaining(wrong.toString());
        }
        assertThat(a.list()).isEmpty();
        assertThat(a.listStatuses()).extracting(Status::ref).containsExactly("r1");
        a.abort("r1");
        assertThat(a.listStatuses()).isEmpty();
        assertThat(f.content.listStatuses()).isEmpty();
        assertThatThrownBy(() -> a.abort("r1")).isInstanceOf(NotFoundException.class);
    }

    @Test
    void ingestsAreNamespacedAndResumable() {
        MetaContentStore a = f.ns("a").content();
        try (Writer w = a.writer("same-ref", null)) {
            w.write(ByteBuffer.wrap(bytes("part")));
        }
        try (Writer w = f.ns("b").content().writer("same-ref", null)) {
            assertThat(w.status().offset()).isZero();
        }
        assertThat(a.status("same-ref").offset()).isEqualTo(4);
        assertThat(f.content.listStatuses()).extracting(Status::ref)
                .allSatisfy(ref -> assertThat(ref).matches("(a|b)/\\d+/same-ref"));
        try (Writer w = a.writer("same-ref", null)) {
            assertThat(w.status().offset()).isEqualTo(4);
            w.write(ByteBuffer.wrap(bytes("-rest")));
            w.commit(9, null);
        }
        assertThat(Content.readBlob(a, Descriptor.of("x", bytes("part-rest")))).isEqualTo(bytes("part-rest"));
        assertThat(a.listStatuses("ref==same-ref")).isEmpty();
        assertThat(f.ns("b").content().listStatuses("ref==same-ref")).hasSize(1);
        assertThatThrownBy(() -> a.writer("", null)).isInstanceOf(InvalidArgumentException.class);
    }

    @Test
    void labelsLiveInTheMetadataLayer() {
        MetaContentStore a = f.ns("a").content();
        Descriptor d = Fixture.blob(a, "labelled");
        Info i = a.update(new Info(d.digest(), 0, null, null, Map.of("x", "1", "y", "2")));
        assertThat(i.labels()).containsOnly(Map.entry("x", "1"), Map.entry("y", "2"));
        i = a.update(new Info(d.digest(), 0, null, null, Map.of("x", "9")), "labels.x", "labels.y");
        assertThat(i.labels()).containsOnly(Map.entry("x", "9"));
        assertThatThrownBy(() -> a.update(new Info(d.digest(), 0, null, null, Map.of()), "size"))
                .isInstanceOf(InvalidArgumentException.class);
        assertThatThrownBy(() -> a.update(new Info(d.digest(), 0, null, null,
                Map.of("k", "v".repeat(Labels.MAX_SIZE))))).isInstanceOf(InvalidArgumentException.class);
        assertThat(a.info(d.digest()).labels()).containsOnly(Map.entry("x", "9"));
        assertThatThrownBy(() -> f.ns("b").content().update(new Info(d.digest(), 0, null, null, Map.of())))
                .isInstanceOf(NotFoundException.class);
    }

    @Test
    void walkFiltersOnDigestSizeAndLabels() {
        MetaContentStore a = f.ns("a").content();
        Descriptor one = Fixture.blob(a, "1");
        Descriptor three = Fixture.blob(a, "333");
        a.update(new Info(three.digest(), 0, null, null, Map.of("kind", "layer")));
        assertThat(a.list("size==3")).extracting(Info::digest).containsExactly(three.digest());
        assertThat(a.list("digest==" + one.digest())).extracting(Info::digest).containsExactly(one.digest());
        assertThat(a.list("labels.kind==layer")).extracting(Info::digest).containsExactly(three.digest());
        assertThat(a.list()).hasSize(2);
    }

    @Test
    void deleteHidesTheBlobButKeepsItForOtherNamespacesUntilGc() {
        Descriptor d = Fixture.blob(f.ns("a").content(), "both");
        Fixture.blob(f.ns("b").content(), "both");
        f.ns("b").images().create(new Image("keeps-it", d));
        f.ns("a").content().delete(d.digest());
        assertThatThrownBy(() -> f.ns("a").content().info(d.digest())).isInstanceOf(NotFoundException.class);
        f.md.gc();
        assertThat(f.onDisk(d.digest())).isTrue();
        assertThat(Content.readBlob(f.ns("b").content(), d)).isEqualTo(bytes("both"));
        f.ns("b").images().delete("keeps-it");
        f.ns("b").content().delete(d.digest());
        f.md.gc();
        assertThat(f.onDisk(d.digest())).isFalse();
        assertThatThrownBy(() -> f.ns("a").content().delete(d.digest())).isInstanceOf(NotFoundException.class);
        await().untilAsserted(() -> assertThat(f.topics()).contains("/content/delete"));
    }

    @Test
    void verifyChecksTheBytesOnDisk() {
        Descriptor d = Fixture.blob(f.ns("a").content(), "verify me");
        assertThat(f.ns("a").content().verify(d.digest()).size()).isEqualTo(d.size());
        assertThatThrownBy(() -> f.ns("b").content().verify(d.digest())).isInstanceOf(NotFoundException.class);
    }
}

package dev.berth.metadata.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.AlreadyExistsException;
import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.Labels;
import dev.berth.api.NotFoundException;
import dev.berth.api.UnavailableException;
import dev.berth.api.content.ContentStore;
import dev.berth.api.content.Info;
import dev.berth.api.content.Status;
import dev.berth.api.content.Writer;
import dev.berth.content.Content;
import java.nio.ByteBuffer;
import java.nio.file.Path;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The behaviours containerd's content test suite checks of its namespaced (metadata) content store,
 * asserted on Berth's: labels set at commit and changed by field path, commit error states through the
 * namespace layer, and the cross-namespace cases of the "shared" policy (share, append, isolation of
 * visibility).
 */
class NamespacedContentConformanceTest {
    private static final Random SEEDS = new Random(0xC0FFEE);

    @TempDir
    Path tmp;
    Fixture f;
    MetaContentStore ns1;
    MetaContentStore ns2;

    @BeforeEach
    void open() {
        f = Fixture.open(tmp);
        ns1 = f.ns("ns1").content();
        ns2 = f.ns("ns2").content();
    }

    @AfterEach
    void close() {
        f.close();
    }

    static byte[] content(int size) {
        byte[] b = new byte[size];
        synchronized (SEEDS) {
            SEEDS.nextBytes(b);
        }
        return b;
    }

    static Descriptor desc(byte[] b) {
        return Descriptor.of("application/octet-stream", b);
    }

    static void write(ContentStore store, String ref, byte[] b) {
        Content.copy(store, ref, new java.io.ByteArrayInputStream(b), desc(b));
    }

    @Nested
    class Labelling {
        @Test
        void labelsGivenAtCommitAreRecordedWithCommitTimes() {
            byte[] c = content(256);
            Map<String, String> labels = Map.of(Labels.GC_ROOT, Instant.now().toString());
            try (Writer w = ns1.writer("c1", null)) {
                w.write(ByteBuffer.wrap(c));
                Instant preCommit = Instant.now();
                w.commit(0, null, labels);
                Instant postCommit = Instant.now();
                Info info = ns1.info(Digest.sha256(c));
                assertThat(info.size()).isEqualTo(256);
                assertThat(info.labels()).isEqualTo(labels);
                assertThat(info.createdAt()).isBetween(preCommit, postCommit);
                assertThat(info.updatedAt()).isBetween(preCommit, postCommit);
            }
        }

        @Test
        void updateReplacesAllLabelsOrOnlyTheNamedOnesAndMovesUpdatedAt() {
            byte[] c = content(256);
            String rootTime = Instant.now().toString();
            Map<String, String> labels = new HashMap<>(Map.of("k1", "v1", "k2", "v2", Labels.GC_ROOT, rootTime));
            Instant preCommit = Instant.now();
            try (Writer w = ns1.writer("c1-checklabels", desc(c))) {
                w.write(ByteBuffer.wrap(c));
                w.commit(0, null, labels);
            }
            Instant postCommit = Instant.now();
            Digest d = Digest.sha256(c);
            assertThat(ns1.info(d).labels()).isEqualTo(labels);

            labels.put("k1", "newvalue");
            labels.remove("k2");
            labels.put("k3", "v3");
            Instant preUpdate = Instant.now();
            Info replaced = ns1.update(new Info(d, 0, null, null, labels));
            Instant postUpdate = Instant.now();
            assertThat(replaced.labels()).as("no field paths replace all labels").isEqualTo(labels);
            Info stored = ns1.info(d);
            assertThat(stored.labels()).isEqualTo(labels);
            assertThat(stored.createdAt()).isBetween(preCommit, postCommit);
            assertThat(stored.updatedAt()).isBetween(preUpdate, postUpdate);

            Map<String, String> request = Map.of("k1", "v1", Labels.GC_ROOT, rootTime);
            Info partial = ns1.update(new Info(d, 0, null, null, request), "labels.k3", "labels.k1");
            assertThat(partial.labels()).as("k3 absent from the request is removed, k1 set, others kept")
                    .isEqualTo(Map.of("k1", "v1", Labels.GC_ROOT, rootTime));
        }

        @Test
        void anEmptyValueDeletesALabel() {
            Descriptor d = Fixture.blob(ns1, "empty-values");
            ns1.update(new Info(d.digest(), 0, null, null, Map.of("a", "1", "b", "2", "c", "3")));
            Info byPath = ns1.update(new Info(d.digest(), 0, null, null, Map.of("a", "")), "labels.a");
            assertThat(byPath.labels()).isEqualTo(Map.of("b", "2", "c", "3"));
            Info replaced = ns1.update(new Info(d.digest(), 0, null, null, Map.of("b", "", "c", "4")));
            assertThat(replaced.labels()).as("an empty value is not stored").isEqualTo(Map.of("c", "4"));
            assertThat(ns1.info(d.digest()).labels()).isEqualTo(Map.of("c", "4"));

            byte[] other = content(10);
            try (Writer w = ns1.writer("empty-at-commit", null)) {
                w.write(ByteBuffer.wrap(other));
                w.commit(10, null, Map.of("kept", "v", "dropped", ""));
            }
            assertThat(ns1.info(Digest.sha256(other)).labels()).isEqualTo(Map.of("kept", "v"));
        }

        @ParameterizedTest
        @ValueSource(strings = {"size", "digest", "createdat", "updatedat", "label.x", "labelsx"})
        void onlyLabelsCanBeUpdated(String fieldPath) {
            Descriptor d = Fixture.blob(ns1, "immutable-" + fieldPath);
            ns1.update(new Info(d.digest(), 0, null, null, Map.of("keep", "me")));
            assertThatThrownBy(() -> ns1.update(new Info(d.digest(), 999, null, null, Map.of()), fieldPath))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining(fieldPath);
            Info after = ns1.info(d.digest());
            assertThat(after.size()).isEqualTo(d.size());
            assertThat(after.labels()).isEqualTo(Map.of("keep", "me"));
        }

        @Test
        void updateOfABlobMissingFromTheNamespaceIsNotFound() {
            assertThatThrownBy(() -> ns1.update(new Info(Digest.sha256(new byte[] {1}), 0, null, null, Map.of())))
                    .isInstanceOf(NotFoundException.class);
        }

        @Test
        void walkFiltersOnLabelsWithEveryOperator() {
            Descriptor web = Fixture.blob(ns1, "web");
            Descriptor db = Fixture.blob(ns1, "db");
            Descriptor bare = Fixture.blob(ns1, "bare");
            ns1.update(new Info(web.digest(), 0, null, null, Map.of("app", "web", "containerd.io/gc.root", "x")));
            ns1.update(new Info(db.digest(), 0, null, null, Map.of("app", "database")));
            assertThat(digests("labels.app==web")).containsExactly(web.digest());
            assertThat(digests("labels.app~=^d")).containsExactly(db.digest());
            assertThat(digests("labels.app!=web")).containsExactlyInAnyOrder(db.digest(), bare.digest());
            assertThat(digests("labels.app")).as("presence").containsExactlyInAnyOrder(web.digest(), db.digest());
            assertThat(digests("labels.\"containerd.io/gc.root\"")).containsExactly(web.digest());
            assertThat(digests("labels.app==web,size==3")).containsExactly(web.digest());
            assertThat(digests("labels.app==web", "labels.app==database"))
                    .containsExactlyInAnyOrder(web.digest(), db.digest());
            assertThat(digests("digest~=" + bare.digest().hex().substring(0, 10))).containsExactly(bare.digest());
        }

        List<Digest> digests(String... filters) {
            List<Digest> out = new ArrayList<>();
            ns1.walk(i -> out.add(i.digest()), filters);
            return out;
        }
    }

    @Nested
    class CommitErrors {
        @ParameterizedTest(name = "expected digest given: {0}")
        @ValueSource(booleans = {true, false})
        void committingBytesTheNamespaceHasIsAlreadyExists(boolean giveDigest) {
            byte[] c1 = content(256);
            write(ns1, "c1", c1);
            String ref = "c1-commitexists-" + giveDigest;
            Writer w = ns1.writer(ref, null);
            w.write(ByteBuffer.wrap(c1));
            assertThatThrownBy(() -> w.commit(c1.length, giveDigest ? Digest.sha256(c1) : null))
                    .isInstanceOf(AlreadyExistsException.class);
            w.close();
            assertThat(ns1.listStatuses()).isEmpty();
            assertThat(f.content.listStatuses()).isEmpty();
        }

        @Test
        void aFailedCommitKeepsTheIngestAndTheRefCanBeResumedUntilItCommits() {
            byte[] c1 = content(256);
            write(ns1, "c1", c1);
            byte[] more = Arrays.copyOf(c1, 260);
            Digest wrong = Digest.sha256(content(256));
            String ref = "c1-commiterror-state";

            Writer w = ns1.writer(ref, null);
            w.write(ByteBuffer.wrap(c1));
            assertThatThrownBy(() -> ns1.writer(ref, null)).isInstanceOf(UnavailableException.class);
            assertThatThrownBy(() -> w.commit(256, Digest.sha256(c1))).isInstanceOf(AlreadyExistsException.class);
            w.close();

            Writer w2 = ns1.writer(ref, null);
            assertThat(w2.status().offset()).as("the exists error removed the ingest").isZero();
            w2.write(ByteBuffer.wrap(more));
            assertThatThrownBy(() -> w2.commit(260, wrong)).isInstanceOf(FailedPreconditionException.class);
            w2.close();

            Writer w3 = ns1.writer(ref, null);
            assertThatThrownBy(() -> ns1.writer(ref, null)).isInstanceOf(UnavailableException.class);
            assertThat(w3.status().offset()).isEqualTo(260);
            assertThatThrownBy(() -> w3.commit(256, null)).isInstanceOf(FailedPreconditionException.class);
            w3.close();

            try (Writer w4 = ns1.writer(ref, null)) {
                assertThat(w4.commit(260, null)).isEqualTo(Digest.sha256(more));
            }
            assertThat(ns1.info(Digest.sha256(more)).size()).isEqualTo(260);
            assertThat(ns1.listStatuses()).isEmpty();

            Writer w5 = ns1.writer(ref, null);
            w5.write(ByteBuffer.wrap(c1));
            assertThatThrownBy(() -> w5.commit(256, Digest.sha256(c1))).isInstanceOf(AlreadyExistsException.class);
            w5.close();
            ns1.writer(ref, null).close();
            assertThat(ns1.status(ref).offset()).isZero();
        }
    }

    @Nested
    class CrossNamespace {
        @Test
        void aBlobStoredInAnotherNamespaceStartsCompleteAndCommitsWithoutItsBytes() {
            byte[] b = content(1000);
            Descriptor d = desc(b);
            Instant t1 = Instant.now();
            write(ns1, "ref-1000", b);
            try (Writer w = ns2.writer("ref-1000", d)) {
                Instant t2 = Instant.now();
                Status s = w.status();
                assertThat(s.ref()).isEqualTo("ref-1000");
                assertThat(s.offset()).isEqualTo(1000);
                assertThat(s.total()).isEqualTo(1000);
                assertThat(w.digest()).isEqualTo(d.digest());
                assertThat(s.startedAt()).isBetween(t1, t2);
                assertThat(s.updatedAt()).isBetween(t1, t2);
                assertThat(w.commit(1000, d.digest())).isEqualTo(d.digest());
            }
            Instant t3 = Instant.now();
            for (MetaContentStore ns : List.of(ns1, ns2)) {
                Info info = ns.info(d.digest());
                assertThat(info.size()).isEqualTo(1000);
                assertThat(info.createdAt()).isBetween(t1, t3);
                assertThat(Content.readBlob(ns, d)).isEqualTo(b);
            }
        }

        @Test
        void bytesAppendedToASharedBlobMakeANewBlobInTheWritingNamespaceOnly() {
            byte[] b = content(1000);
            Descriptor d = desc(b);
            write(ns1, "ref-1000", b);
            byte[] extra = "appended bytes".getBytes();
            byte[] b2 = Arrays.copyOf(b, 1000 + extra.length);
            System.arraycopy(extra, 0, b2, 1000, extra.length);
            Digest d2 = Digest.sha256(b2);

            try (Writer w = ns2.writer("ref-1000", d)) {
                assertThat(w.status().offset()).isEqualTo(1000);
                w.write(ByteBuffer.wrap(extra));
                assertThat(w.status().offset()).isEqualTo(b2.length);
                assertThat(w.commit(b2.length, d2)).isEqualTo(d2);
            }
            assertThat(Content.readBlob(ns1, d)).isEqualTo(b);
            assertThat(Content.readBlob(ns2, desc(b2))).isEqualTo(b2);
            assertThatThrownBy(() -> ns1.info(d2)).isInstanceOf(NotFoundException.class);
            assertThatThrownBy(() -> ns2.info(d.digest())).isInstanceOf(NotFoundException.class);
            assertThat(Content.readBlob(f.content, d)).as("the shared blob on disk is untouched").isEqualTo(b);
        }

        @Test
        void aNamespaceSeesNoBlobOfAnotherUntilItCommitsIt() {
            byte[] b = content(1000);
            Descriptor d = desc(b);
            write(ns1, "ref-1000", b);
            assertThatThrownBy(() -> ns2.info(d.digest())).isInstanceOf(NotFoundException.class);
            assertThatThrownBy(() -> ns2.readerAt(d)).isInstanceOf(NotFoundException.class);
            assertThatThrownBy(() -> ns2.delete(d.digest())).isInstanceOf(NotFoundException.class);
            assertThat(ns2.list()).isEmpty();
            assertThat(ns2.listStatuses()).isEmpty();
            Writer open = ns2.writer("ref-1000", d);
            assertThat(ns2.listStatuses()).extracting(Status::ref).containsExactly("ref-1000");
            assertThatThrownBy(() -> ns2.info(d.digest())).as("an open writer does not make it visible")
                    .isInstanceOf(NotFoundException.class);
            open.close();
            assertThat(ns1.list()).extracting(Info::digest).containsExactly(d.digest());
        }

        @Test
        void aWriterWithoutTheExpectedDigestStartsEmptyEvenIfTheBlobIsShared() {
            byte[] b = content(1000);
            write(ns1, "ref-1000", b);
            try (Writer w = ns2.writer("ref-1000", null)) {
                assertThat(w.status().offset()).isZero();
                assertThat(w.digest()).isEqualTo(Digest.sha256(new byte[0]));
                w.write(ByteBuffer.wrap(b));
                assertThat(w.commit(1000, Digest.sha256(b))).isEqualTo(Digest.sha256(b));
            }
            assertThat(ns2.info(Digest.sha256(b)).size()).isEqualTo(1000);
        }

        @Test
        void aSharedWriterTruncatedAndRewrittenCommitsTheSameBlob() {
            byte[] b = content(1000);
            Descriptor d = desc(b);
            write(ns1, "ref-1000", b);
            try (Writer w = ns2.writer("r", d)) {
                w.truncate(0);
                assertThat(w.status().offset()).isZero();
                w.write(ByteBuffer.wrap(b));
                assertThat(w.commit(1000, d.digest())).isEqualTo(d.digest());
            }
            assertThat(Content.readBlob(ns2, d)).isEqualTo(b);
            assertThat(f.content.listStatuses()).isEmpty();
        }
    }
}

package dev.berth.metadata.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.berth.NamespaceInfo;
import dev.berth.api.AlreadyExistsException;
import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.Labels;
import dev.berth.api.MediaTypes;
import dev.berth.api.NotFoundException;
import dev.berth.api.NotImplementedException;
import dev.berth.api.Platform;
import dev.berth.api.container.ContainerRecord;
import dev.berth.api.image.Image;
import dev.berth.api.lease.Lease;
import dev.berth.api.lease.LeaseResource;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RecordStoresTest {
    @TempDir
    Path tmp;
    Fixture f;

    static final Digest D1 = Digest.sha256("one".getBytes(StandardCharsets.UTF_8));
    static final Digest D2 = Digest.sha256("two".getBytes(StandardCharsets.UTF_8));

    @BeforeEach
    void open() {
        f = Fixture.open(tmp);
    }

    @AfterEach
    void close() {
        f.close();
    }

    static Image image(String name, Digest d) {
        return new Image(name, new Descriptor(MediaTypes.OCI_MANIFEST, d, 42));
    }

    static ContainerRecord container(String id) {
        return new ContainerRecord(id, Map.of("app", "web"), "docker.io/library/busybox:latest",
                new ContainerRecord.Runtime("io.containerd.runc.v2", "type/x", new byte[] {1, 2}), "{}".getBytes(),
                "native", id + "-snap", null, null, Map.of("ext", new byte[] {9}));
    }

    static String tooLong() {
        return "v".repeat(Labels.MAX_SIZE);
    }

    @Nested
    class NamespacesBehaviour {
        @Test
        void createGetListSetLabelAndDelete() {
            NamespaceInfo created = f.md.namespaces().create("alpha", Map.of("team", "a"));
            assertThat(created.labels()).containsEntry("team", "a");
            assertThat(created.createdAt()).isNotNull();
            f.md.namespaces().setLabel("alpha", "env", "prod");
            f.md.namespaces().setLabel("alpha", "team", "");
            assertThat(f.md.namespaces().get("alpha").labels()).containsExactly(Map.entry("env", "prod"));
            f.md.namespaces().create("beta", null);
            assertThat(f.md.namespaces().list()).extracting(NamespaceInfo::name).containsExactly("alpha", "beta");
            f.md.namespaces().delete("alpha");
            assertThat(f.md.namespaces().list()).extracting(NamespaceInfo::name).containsExactly("beta");
            await().untilAsserted(() -> assertThat(f.topics()).containsSubsequence("/namespaces/create",
                    "/namespaces/update", "/namespaces/update", "/namespaces/create", "/namespaces/delete"));
        }

        @Test
        void errorsNameTheProblem() {
            f.md.namespaces().create("alpha", Map.of());
            assertThatThrownBy(() -> f.md.namespaces().create("alpha", Map.of()))
                    .isInstanceOf(AlreadyExistsException.class).hasMessageContaining("alpha");
            assertThatThrownBy(() -> f.md.namespaces().create("bad/name", Map.of()))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("bad/name");
            assertThatThrownBy(() -> f.md.namespace("-x")).isInstanceOf(InvalidArgumentException.class);
            assertThatThrownBy(() -> f.md.namespaces().get("nope")).isInstanceOf(NotFoundException.class);
            assertThatThrownBy(() -> f.md.namespaces().delete("nope")).isInstanceOf(NotFoundException.class);
            assertThatThrownBy(() -> f.md.namespaces().setLabel("alpha", "k", tooLong()))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("limit is 4096");
        }

        @Test
        void creatingSomethingInANamespaceCreatesIt() {
            f.ns("implicit").images().create(image("a", D1));
            assertThat(f.md.namespaces().get("implicit").name()).isEqualTo("implicit");
        }

        @Test
        void deletingANonEmptyNamespaceIsRefusedNamingWhatRemains() {
            NamespacedMetadata ns = f.ns("busy");
            ns.images().create(image("a", D1));
            ns.images().create(image("b", D1));
            ns.containers().create(container("c1"));
            ns.leases().create("l1", Map.of(), null);
            assertThatThrownBy(() -> f.md.namespaces().delete("busy"))
                    .isInstanceOf(FailedPreconditionException.class)
                    .hasMessageContaining("2 images").hasMessageContaining("1 container")
                    .hasMessageContaining("1 lease");
            assertThat(ns.images().list()).hasSize(2);
            ns.images().delete("a");
            ns.images().delete("b");
            ns.containers().delete("c1");
            ns.leases().delete("l1", false);
            f.md.namespaces().delete("busy");
            assertThat(f.md.namespaces().list()).isEmpty();
        }
    }

    @Nested
    class Images {
        @Test
        void roundTripsTheWholeTargetDescriptor() {
            Descriptor target = new Descriptor(MediaTypes.OCI_INDEX, D1, 1234, List.of("https://x/y"),
                    Map.of("org.opencontainers.image.ref.name", "latest"),
                    new Platform("linux", "arm64", "v8", "5.1", List.of("f1")));
            Image created = f.ns("a").images().create(new Image("docker.io/x/y:1", target, Map.of("k", "v"), null,
                    null));
            assertThat(created.target()).isEqualTo(target);
            assertThat(created.createdAt()).isNotNull().isEqualTo(created.updatedAt());
            assertThat(f.ns("a").images().get("docker.io/x/y:1")).isEqualTo(created);
        }

        @Test
        void keepsOci11ArtifactTypeAndEmbeddedDataOfTheTarget() {
            byte[] manifest = "{}".getBytes(StandardCharsets.UTF_8);
            Descriptor target = new Descriptor(MediaTypes.OCI_MANIFEST, Digest.sha256(manifest), manifest.length,
                    List.of(), Map.of(), null, "application/vnd.example.sbom+json", manifest);
            f.ns("a").images().create(new Image("docker.io/x/artifact:1", target));

            Descriptor stored = f.ns("a").images().get("docker.io/x/artifact:1").target();
            assertThat(stored.artifactType()).isEqualTo("application/vnd.example.sbom+json");
            assertThat(stored.data()).isEqualTo(manifest);
            assertThat(stored).isEqualTo(target);
        }

        @Test
        void imagesAreIsolatedPerNamespace() {
            f.ns("a").images().create(image("shared-name", D1));
            assertThatThrownBy(() -> f.ns("b").images().get("shared-name")).isInstanceOf(NotFoundException.class);
            assertThat(f.ns("b").images().list()).isEmpty();
            f.ns("b").images().create(image("shared-name", D2));
            assertThat(f.ns("a").images().get("shared-name").target().digest()).isEqualTo(D1);
            assertThat(f.ns("b").images().get("shared-name").target().digest()).isEqualTo(D2);
        }

        @Test
        void crudErrors() {
            MetaImageStore images = f.ns("a").images();
            images.create(image("x", D1));
            assertThatThrownBy(() -> images.create(image("x", D2))).isInstanceOf(AlreadyExistsException.class)
                    .hasMessageContaining("\"x\"");
            assertThatThrownBy(() -> images.create(image("", D2))).isInstanceOf(InvalidArgumentException.class);
            assertThatThrownBy(() -> images.create(new Image("y", new Descriptor(MediaTypes.OCI_MANIFEST, D1, 1),
                    Map.of("big", tooLong()), null, null))).isInstanceOf(InvalidArgumentException.class);
            assertThatThrownBy(() -> images.get("nope")).isInstanceOf(NotFoundException.class);
            assertThatThrownBy(() -> images.delete("nope")).isInstanceOf(NotFoundException.class);
            assertThatThrownBy(() -> images.update(image("nope", D1))).isInstanceOf(NotFoundException.class);
            assertThatThrownBy(() -> images.update(image("x", D1), "name")).isInstanceOf(InvalidArgumentException.class);
            assertThat(images.list()).extracting(Image::name).containsExactly("x");
        }

        @Test
        void updateAppliesOnlyTheNamedFields() {
            MetaImageStore images = f.ns("a").images();
            images.create(new Image("x", new Descriptor(MediaTypes.OCI_MANIFEST, D1, 1), Map.of("a", "1", "b", "2"),
                    null, null));
            Image u = images.update(new Image("x", new Descriptor(MediaTypes.OCI_INDEX, D2, 2), Map.of("a", "9"),
                    null, null), "labels.a", "labels.b");
            assertThat(u.labels()).containsExactly(Map.entry("a", "9"));
            assertThat(u.target().digest()).isEqualTo(D1);
            u = images.update(new Image("x", new Descriptor(MediaTypes.OCI_INDEX, D2, 2)), "target");
            assertThat(u.target().digest()).isEqualTo(D2);
            assertThat(u.labels()).containsExactly(Map.entry("a", "9"));
            assertThat(u.updatedAt()).isAfterOrEqualTo(u.createdAt());
        }

        @Test
        void listFiltersOnNameTargetAndLabels() {
            MetaImageStore images = f.ns("a").images();
            images.create(new Image("docker.io/library/busybox:1", new Descriptor(MediaTypes.OCI_MANIFEST, D1, 1),
                    Map.of("env", "prod"), null, null));
            images.create(new Image("docker.io/library/alpine:3", new Descriptor(MediaTypes.OCI_INDEX, D2, 1),
                    Map.of("env", "dev"), null, null));
            assertThat(images.list("name~=busybox")).extracting(Image::name).containsExactly("docker.io/library/busybox:1");
            assertThat(images.list("target.digest==" + D2)).extracting(Image::name)
                    .containsExactly("docker.io/library/alpine:3");
            assertThat(images.list("target.mediatype==\"" + MediaTypes.OCI_INDEX + "\"")).hasSize(1);
            assertThat(images.list("labels.env==prod", "labels.env==dev")).hasSize(2);
            assertThat(images.list("labels.env==prod,name~=alpine")).isEmpty();
        }

        @Test
        void publishesImageEvents() {
            MetaImageStore images = f.ns("a").images();
            images.create(image("x", D1));
            images.update(image("x", D2), "target");
            images.delete("x");
            await().untilAsserted(() -> assertThat(f.topics()).containsSubsequence("/images/create", "/images/update",
                    "/images/delete"));
        }
    }

    @Nested
    class Containers {
        @Test
        void createGetListDelete() {
            MetaContainerStore cs = f.ns("a").containers();
            ContainerRecord c = cs.create(container("c1"));
            assertThat(c.runtime().optionsTypeUrl()).isEqualTo("type/x");
            assertThat(c.runtime().options()).containsExactly(1, 2);
            assertThat(c.extensions().get("ext")).containsExactly(9);
            assertThat(c.spec()).isEqualTo("{}".getBytes());
            assertThat(c.createdAt()).isNotNull();
            assertThat(cs.get("c1").snapshotKey()).isEqualTo("c1-snap");
            assertThat(f.ns("b").containers().list()).isEmpty();
            cs.delete("c1");
            assertThatThrownBy(() -> cs.get("c1")).isInstanceOf(NotFoundException.class);
            await().untilAsserted(() -> assertThat(f.topics()).containsSubsequence("/containers/create",
                    "/containers/delete"));
        }

        @Test
        void validationErrors() {
            MetaContainerStore cs = f.ns("a").containers();
            cs.create(container("c1"));
            assertThatThrownBy(() -> cs.create(container("c1"))).isInstanceOf(AlreadyExistsException.class);
            assertThatThrownBy(() -> cs.create(container("bad id"))).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("container id");
            assertThatThrownBy(() -> cs.create(new ContainerRecord("c2", null, "", new ContainerRecord.Runtime(""), new byte[0],
                    "", "", null, null, null))).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("runtime");
            assertThatThrownBy(() -> cs.create(new ContainerRecord("c3", null, "", new ContainerRecord.Runtime("r"), null,
                    "", "", null, null, null))).isInstanceOf(InvalidArgumentException.class).hasMessageContaining("spec");
            assertThatThrownBy(() -> cs.create(new ContainerRecord("c4", null, "", new ContainerRecord.Runtime("r"), new byte[0],
                    "", "key", null, null, null))).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("without a snapshotter");
            assertThatThrownBy(() -> cs.delete("nope")).isInstanceOf(NotFoundException.class);
        }

        @Test
        void updateChangesNamedFieldsAndKeepsRuntimeAndSnapshotter() {
            MetaContainerStore cs = f.ns("a").containers();
            ContainerRecord c = cs.create(container("c1"));
            ContainerRecord changed = new ContainerRecord("c1", Map.of("app", "db", "tier", "1"), "other:img",
                    new ContainerRecord.Runtime("io.containerd.runc.v2"), "{\"a\":1}".getBytes(), "native", "new-key", null,
                    null, Map.of());
            ContainerRecord u = cs.update(changed);
            assertThat(u.labels()).isEqualTo(changed.labels());
            assertThat(u.spec()).isEqualTo(changed.spec());
            assertThat(u.image()).isEqualTo(c.image());
            assertThat(u.snapshotKey()).isEqualTo("c1-snap");
            u = cs.update(changed, "image", "snapshotkey", "extensions.ext");
            assertThat(u.image()).isEqualTo("other:img");
            assertThat(u.snapshotKey()).isEqualTo("new-key");
            assertThat(u.extensions()).isEmpty();
            assertThatThrownBy(() -> cs.update(new ContainerRecord("c1", null, "", new ContainerRecord.Runtime("io.other.v1"),
                    new byte[0], "", "", null, null, null))).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("immutable");
            assertThatThrownBy(() -> cs.update(changed, "runtime")).isInstanceOf(InvalidArgumentException.class);
        }

        @Test
        void listFiltersOnEveryField() {
            MetaContainerStore cs = f.ns("a").containers();
            cs.create(container("c1"));
            cs.create(new ContainerRecord("c2", Map.of("app", "db"), "alpine", new ContainerRecord.Runtime("io.other.v1"),
                    new byte[0], "", "", null, null, null));
            assertThat(cs.list("id==c2")).extracting(ContainerRecord::id).containsExactly("c2");
            assertThat(cs.list("image==alpine")).extracting(ContainerRecord::id).containsExactly("c2");
            assertThat(cs.list("runtime.name==io.containerd.runc.v2")).extracting(ContainerRecord::id).containsExactly("c1");
            assertThat(cs.list("snapshotter==native")).extracting(ContainerRecord::id).containsExactly("c1");
            assertThat(cs.list("snapshotkey==c1-snap")).extracting(ContainerRecord::id).containsExactly("c1");
            assertThat(cs.list("labels.app==db")).extracting(ContainerRecord::id).containsExactly("c2");
            assertThat(cs.list()).hasSize(2);
        }
    }

    @Nested
    class LeasesBehaviour {
        @Test
        void createWithExpirySetsTheExpireLabel() {
            Instant before = Instant.now();
            Lease l = f.ns("a").leases().create("l1", Map.of("k", "v"), Duration.ofHours(1));
            assertThat(l.labels()).containsEntry("k", "v").containsKey(Labels.GC_EXPIRE);
            assertThat(MetaLeases.expiry(l)).get().satisfies(t ->
                    assertThat(t).isBetween(before.plus(Duration.ofMinutes(59)), before.plus(Duration.ofMinutes(61))));
            assertThat(l.labels().get(Labels.GC_EXPIRE)).endsWith("Z");
        }

        @Test
        void randomIdsAreValidAndDistinct() {
            Lease a = f.ns("a").leases().create(null, Map.of(), null);
            Lease b = f.ns("a").leases().create(null, Map.of(), null);
            assertThat(a.id()).isNotEqualTo(b.id());
            assertThat(dev.berth.api.Identifiers.isValid(a.id())).isTrue();
            assertThat(f.ns("a").leases().list()).extracting(Lease::id).containsExactly(a.id(), b.id());
        }

        @Test
        void errors() {
            MetaLeases leases = f.ns("a").leases();
            leases.create("l1", Map.of(), null);
            assertThatThrownBy(() -> leases.create("l1", Map.of(), null)).isInstanceOf(AlreadyExistsException.class);
            assertThatThrownBy(() -> leases.create("bad id", Map.of(), null))
                    .isInstanceOf(InvalidArgumentException.class);
            assertThatThrownBy(() -> leases.create("l2", Map.of("x", tooLong()), null))
                    .isInstanceOf(InvalidArgumentException.class);
            assertThatThrownBy(() -> leases.delete("nope", false)).isInstanceOf(NotFoundException.class);
            assertThatThrownBy(() -> leases.addResource("nope", LeaseResource.ingest("r")))
                    .isInstanceOf(NotFoundException.class);
            assertThatThrownBy(() -> leases.addResource("l1", new LeaseResource("x", "volumes")))
                    .isInstanceOf(NotImplementedException.class).hasMessageContaining("volumes");
            assertThatThrownBy(() -> leases.addResource("l1", new LeaseResource("not-a-digest", "content")))
                    .isInstanceOf(InvalidArgumentException.class);
            assertThatThrownBy(() -> f.ns("b").leases().listResources("l1")).isInstanceOf(NotFoundException.class);
        }

        @Test
        void resourcesAreAddedListedAndRemoved() {
            MetaLeases leases = f.ns("a").leases();
            leases.create("l1", Map.of(), null);
            leases.addResource("l1", LeaseResource.content(D1));
            leases.addResource("l1", LeaseResource.content(D1));
            leases.addResource("l1", LeaseResource.snapshot("native", "k1"));
            leases.addResource("l1", LeaseResource.ingest("ref1"));
            assertThat(leases.listResources("l1")).containsExactlyInAnyOrder(LeaseResource.content(D1),
                    LeaseResource.snapshot("native", "k1"), LeaseResource.ingest("ref1"));
            leases.deleteResource("l1", LeaseResource.snapshot("native", "k1"));
            assertThat(leases.listResources("l1")).containsExactlyInAnyOrder(LeaseResource.content(D1),
                    LeaseResource.ingest("ref1"));
            leases.delete("l1", false);
            assertThat(leases.list()).isEmpty();
        }

        @Test
        void listFiltersOnIdAndLabels() {
            MetaLeases leases = f.ns("a").leases();
            leases.create("pull-1", Map.of("kind", "pull"), null);
            leases.create("run-1", Map.of("kind", "run"), null);
            assertThat(leases.list("id~=^pull")).extracting(Lease::id).containsExactly("pull-1");
            assertThat(leases.list("labels.kind==run")).extracting(Lease::id).containsExactly("run-1");
        }
    }
}

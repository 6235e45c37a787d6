package dev.berth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.NotFoundException;
import dev.berth.api.content.Info;
import dev.berth.api.image.Image;
import dev.berth.api.snapshot.SnapshotInfo;
import dev.berth.api.task.ExitStatus;
import dev.berth.api.task.RunResult;
import dev.berth.api.task.Stdio;
import dev.berth.api.task.Task;
import dev.berth.image.ResolvedImage;
import dev.berth.runtime.spec.SpecOption;
import dev.berth.runtime.spec.SpecOptions;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** The facade end to end with real runc, shims and overlayfs (or native snapshots). */
class BerthIT {
    private TestRoots dirs;
    private Berth berth;

    @BeforeEach
    void open() throws Exception {
        dirs = new TestRoots();
        berth = dirs.open();
    }

    @AfterEach
    void close() throws Exception {
        try {
            for (Task t : berth.tasks().list()) {
                t.delete(true);
            }
            berth.close();
        } finally {
            dirs.close();
        }
    }

    private Image importBusybox() {
        List<Image> imported = berth.importImage(TestRoots.busyboxArchive());
        assertThat(imported).extracting(Image::name).containsExactly(TestRoots.BUSYBOX);
        return imported.get(0);
    }

    @Test
    void importRunCollectsOutputAndExitCodeAndGcKeepsOnlyWhatTheImageReferences() throws Exception {
        Image image = importBusybox();
        ResolvedImage resolved = berth.images().resolve("busybox");

        RunResult result = berth.runAndWait("busybox", RunOptions.builder().id("hello")
                .args("sh", "-c", "echo hello from $(hostname); echo oops >&2; exit 3").build());

        assertThat(result.stdout()).isEqualTo("hello from hello\n");
        assertThat(result.stderr()).isEqualTo("oops\n");
        assertThat(result.exitCode()).isEqualTo(3);
        assertThat(berth.containers().list()).extracting(Container::id).containsExactly("hello");

        berth.containers().delete("hello");
        assertThat(berth.containers().list()).isEmpty();
        berth.gc();

        Set<Digest> blobs = new HashSet<>();
        berth.content().walk(i -> blobs.add(i.digest()));
        Set<Digest> expected = new HashSet<>();
        expected.add(image.target().digest());
        expected.add(resolved.manifest().config().digest());
        resolved.layers().forEach(l -> expected.add(l.digest()));
        assertThat(blobs).isEqualTo(expected);
        List<String> snapshots = new ArrayList<>();
        berth.snapshots(berth.defaultSnapshotter()).walk(s -> snapshots.add(s.name()));
        assertThat(snapshots).containsExactlyInAnyOrderElementsOf(
                resolved.chainIds().stream().map(Digest::toString).toList());
        assertThat(berth.leases().list()).isEmpty();
    }

    @Test
    void runWithRmRemovesTaskContainerAndSnapshotAfterExit() throws Exception {
        importBusybox();
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Task task = berth.run("busybox", RunOptions.builder().id("gone").rm(true)
                .args("echo", "bye").stdio(Stdio.of(null, out, null)).build());

        ExitStatus status = task.waitFor();

        assertThat(status.code()).isZero();
        assertThat(out.toString(StandardCharsets.UTF_8)).isEqualTo("bye\n");
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20))
                .until(() -> berth.containers().list().isEmpty());
        assertThat(berth.snapshots(berth.defaultSnapshotter()).list("name==gone")).isEmpty();
        assertThat(berth.tasks().list()).isEmpty();
    }

    @Test
    void runWithRmAnnouncesTheTaskLifecycleBeforeTheContainersRemoval() throws Exception {
        importBusybox();
        List<String> topics = new java.util.concurrent.CopyOnWriteArrayList<>();
        try (var subscription = berth.events().subscribe(e -> topics.add(e.topic()),
                "topic~=\"^/(tasks|containers)/\"")) {
            for (int i = 0; i < 5; i++) {
                topics.clear();
                RunResult r = berth.runAndWait("busybox", RunOptions.builder().id("ordered-" + i).rm(true)
                        .args("true").build());
                assertThat(r.exitCode()).isZero();
                org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
                        .until(() -> topics.contains("/containers/delete"));

                assertThat(topics).as("run %d", i).containsExactly("/containers/create", "/tasks/create",
                        "/tasks/start", "/tasks/exit", "/tasks/delete", "/containers/delete");
            }
        }
    }

    @Test
    void runWithRmReturnsItsResultAndTheSameIdRunsAgainAtOnceWithNothingLeft() throws Exception {
        importBusybox();
        String sn = berth.defaultSnapshotter();
        java.nio.file.Path bundle = dirs.state.resolve("tasks").resolve("default").resolve("again");
        for (int i = 0; i < 3; i++) {
            // each run's removal goes on after the return: the next create of the id waits for it
            RunResult r = berth.runAndWait("busybox", RunOptions.builder().id("again").rm(true)
                    .args("sh", "-c", "echo run " + i + "; echo err >&2; exit " + i).build());

            assertThat(r.stdout()).isEqualTo("run " + i + "\n");
            assertThat(r.stderr()).isEqualTo("err\n");
            assertThat(r.exitCode()).isEqualTo(i);
        }
        // the views of this JVM wait for the last removal
        assertThatThrownBy(() -> berth.containers().get("again")).isInstanceOf(NotFoundException.class);
        assertThat(berth.containers().list()).isEmpty();
        assertThat(berth.tasks().list()).isEmpty();
        assertThat(berth.snapshots(sn).list("name==again")).isEmpty();
        assertThat(bundle).doesNotExist();
        assertThat(Files.readString(java.nio.file.Path.of("/proc/self/mounts"))).doesNotContain(bundle.toString());
    }

    @Test
    void runWithRmRemovesBeforeItReturnsWithTheSwitchSet() throws Exception {
        importBusybox();
        java.nio.file.Path bundle = dirs.state.resolve("tasks").resolve("default").resolve("before");
        System.setProperty(Namespace.REMOVE_BEFORE_RETURN_PROPERTY, "true");
        try {
            RunResult r = berth.runAndWait("busybox", RunOptions.builder().id("before").rm(true)
                    .args("echo", "hi").build());

            assertThat(r.stdout()).isEqualTo("hi\n");
            assertThat(bundle).as("task deleted before the return").doesNotExist();
            assertThat(berth.metadata().namespace("default").containers().exists("before"))
                    .as("record removed before the return (read past the views that wait)").isFalse();
        } finally {
            System.clearProperty(Namespace.REMOVE_BEFORE_RETURN_PROPERTY);
        }
    }

    @Test
    void closeRightAfterAnRmRunFinishesItsRemoval() throws Exception {
        importBusybox();
        String sn = berth.defaultSnapshotter();
        java.nio.file.Path bundle = dirs.state.resolve("tasks").resolve("default").resolve("closing");

        RunResult r = berth.runAndWait("busybox", RunOptions.builder().id("closing").rm(true)
                .args("echo", "hi").build());
        berth.close();

        assertThat(r.stdout()).isEqualTo("hi\n");
        assertThat(bundle).doesNotExist();
        assertThat(Files.readString(java.nio.file.Path.of("/proc/self/mounts"))).doesNotContain(bundle.toString());
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(20)).until(() -> shims().isEmpty());
        berth = dirs.open();
        assertThat(berth.metadata().namespace("default").containers().exists("closing")).isFalse();
        assertThat(berth.snapshots(sn).list("name==closing")).isEmpty();
    }

    @Test
    void rmRunOfAJvmThatDiedRightAfterTheReturnIsRemovedByTheNextBerth() throws Exception {
        berth.close();
        String id = "halted-" + java.util.UUID.randomUUID().toString().substring(0, 8);
        try (var child = dev.berth.testing.ChildJvm.start(RunRmThenHaltChild.class, List.of("-XX:TieredStopAtLevel=1",
                "-XX:+UseSerialGC", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"), dirs.root.toString(),
                dirs.state.toString(), TestRoots.busyboxArchive().toString(), id)) {
            assertThat(child.awaitLine("RAN ", Duration.ofSeconds(120))).as("%s", child.output()).isEqualTo("RAN hi");
            assertThat(child.waitForExit(Duration.ofSeconds(30))).isZero();
        }

        berth = dirs.open();

        assertThat(berth.metadata().namespace("default").containers().exists(id)).isFalse();
        assertThat(berth.snapshots(berth.defaultSnapshotter()).list("name==" + id)).isEmpty();
        java.nio.file.Path bundle = dirs.state.resolve("tasks").resolve("default").resolve(id);
        assertThat(bundle).doesNotExist();
        assertThat(Files.readString(java.nio.file.Path.of("/proc/self/mounts"))).doesNotContain(bundle.toString());
        // the dead JVM's spare shim is stopped by its session reaper; its task's shim went with the task
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> shims().isEmpty());
    }

    @Test
    void containerWithRunningTaskCannotBeDeleted() throws Exception {
        importBusybox();
        Container c = berth.containers().create("sleeper", "busybox", spec -> spec.args("sleep", "60"));
        Task task = c.newTask(Stdio.nullIO());
        task.start();

        assertThatThrownBy(c::delete).isInstanceOf(FailedPreconditionException.class)
                .hasMessageContaining("sleeper");
        assertThat(berth.containers().get("sleeper").task()).containsSame(task);

        task.kill(9);
        assertThat(task.waitFor().code()).isEqualTo(137);
        c.delete();
        assertThatThrownBy(() -> berth.containers().get("sleeper")).isInstanceOf(NotFoundException.class);
        assertThat(berth.tasks().list()).isEmpty();
    }

    @Test
    void containerSpecComesFromTheImageAndResolvesUsersInTheRootfs() throws Exception {
        importBusybox();
        RunResult result = berth.runAndWait("busybox", RunOptions.builder().rm(true).user("app")
                .env("GREETING=hi").args("sh", "-c", "id -u; id -g; echo $GREETING; echo $PATH").build());

        assertThat(result.stdout().lines().toList()).containsExactly("1000", "1000", "hi",
                "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
        assertThat(berth.containers().list()).isEmpty();
    }

    @Test
    void sharedShimsServeConsecutiveRunsAndStopWhenBerthCloses() throws Exception {
        berth.close();
        berth = dirs.builder().sharedShims(true).build();
        importBusybox();

        RunResult first = berth.runAndWait("busybox", RunOptions.builder().rm(true).args("echo", "one").build());
        List<Long> warm = shims();
        RunResult second = berth.runAndWait("busybox", RunOptions.builder().rm(true).user("app")
                .args("id", "-u").build());

        assertThat(first.stdout()).isEqualTo("one\n");
        assertThat(second.stdout()).as("users resolved from the image's files read by the first run")
                .isEqualTo("1000\n");
        assertThat(warm).as("one warm shim after the first run").hasSize(1);
        assertThat(shims()).as("the same shim served the second").isEqualTo(warm);
        assertThat(berth.containers().list()).isEmpty();

        berth.close();

        assertThat(shims()).as("idle shims stop when Berth closes").isEmpty();
        try (var homes = Files.walk(dirs.state.resolve("shims"))) {
            assertThat(homes.filter(Files::isDirectory).filter(p -> p.getFileName().toString().startsWith("berth-shim-")))
                    .isEmpty();
        }
        berth = dirs.open();
    }

    @Test
    void deferredSnapshotRemovalLeavesTheDirectoryToGarbageCollection() throws Exception {
        berth.close();
        berth = dirs.builder().syncSnapshotRemoval(false).build();
        importBusybox();
        java.nio.file.Path dirsOf = dirs.root.resolve("snapshots").resolve(berth.defaultSnapshotter()).resolve("snapshots");
        long layers = count(dirsOf);

        RunResult r = berth.runAndWait("busybox", RunOptions.builder().id("quick").rm(true).args("true").build());

        assertThat(r.exitCode()).isZero();
        assertThat(berth.snapshots(berth.defaultSnapshotter()).list("name==quick")).isEmpty();
        assertThat(count(dirsOf)).as("the removed snapshot's directory, left for GC").isEqualTo(layers + 1);
        berth.gc();
        assertThat(count(dirsOf)).isEqualTo(layers);
    }

    @Test
    void containerWhoseSpecCannotBeBuiltLeavesNoRecordSnapshotOrLease() {
        importBusybox();
        String sn = berth.defaultSnapshotter();
        int backendBefore = berth.backendSnapshotter(sn).list().size();

        assertThatThrownBy(() -> berth.containers().create("bad", "busybox", spec -> spec.user("nosuchuser")
                .args("true"))).isInstanceOf(dev.berth.api.InvalidArgumentException.class)
                .hasMessageContaining("nosuchuser");

        assertThatThrownBy(() -> berth.containers().get("bad")).isInstanceOf(NotFoundException.class);
        assertThat(berth.snapshots(sn).list("name==bad")).isEmpty();
        assertThat(berth.backendSnapshotter(sn).list()).as("the prepared snapshot was undone in the backend too")
                .hasSize(backendBefore);
        assertThat(berth.leases().list()).isEmpty();
        berth.containers().create("bad", "busybox", spec -> spec.args("true"));
        assertThat(berth.containers().get("bad").info().snapshotKey()).isEqualTo("bad");
    }

    @Test
    void containerOnASnapshotterTheImageIsNotUnpackedIntoUnpacksItFirst() throws Exception {
        ResolvedImage image = berth.images().resolve(importBusybox().name());
        String top = image.chainIds().get(image.chainIds().size() - 1).toString();
        assertThat(berth.snapshots("native").list()).as("import unpacked into the default snapshotter only")
                .isEmpty();

        Container c = berth.containers().create(ContainerConfig.builder("on-native").image("busybox")
                .snapshotter("native").spec(spec -> spec.args("cat", "/etc/passwd")).build());

        assertThat(berth.snapshots("native").stat("on-native").parent()).isEqualTo(top);
        assertThat(berth.leases().list()).as("the unpack's temporary lease is gone").isEmpty();
        berth.gc();
        assertThat(berth.snapshots("native").stat(top).kind()).as("the image keeps its layers")
                .isEqualTo(dev.berth.api.snapshot.Kind.COMMITTED);
        Task task = c.newTask(Stdio.nullIO());
        task.start();
        assertThat(task.waitFor().code()).isZero();
        task.delete();
        c.delete();
        assertThat(berth.snapshots("native").list("name==on-native")).isEmpty();
    }

    private static long count(java.nio.file.Path dir) throws Exception {
        try (var entries = Files.list(dir)) {
            return entries.count();
        }
    }

    /** Live shim processes of this test's state directory. */
    private List<Long> shims() throws Exception {
        String address = " -address " + dirs.state.resolve("berth.sock") + " ";
        List<Long> pids = new ArrayList<>();
        try (var procs = Files.list(java.nio.file.Path.of("/proc"))) {
            for (var p : (Iterable<java.nio.file.Path>) procs::iterator) {
                String name = p.getFileName().toString();
                if (!name.chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    String cmd = new String(Files.readAllBytes(p.resolve("cmdline")), StandardCharsets.UTF_8)
                            .replace('\0', ' ');
                    String stat = Files.readString(p.resolve("stat"));
                    if (cmd.contains("containerd-shim") && cmd.contains(address)
                            && stat.charAt(stat.lastIndexOf(')') + 2) != 'Z') {
                        pids.add(Long.parseLong(name));
                    }
                } catch (java.io.IOException gone) {
                    // exited while looking
                }
            }
        }
        return pids;
    }

    @Test
    void theSameOptionsMakeTheSameContainerThroughRunOptionsAndCreate() {
        importBusybox();
        List<SpecOption> spec = List.of(SpecOptions.args("sh", "-c", "id"), SpecOptions.user("app"),
                SpecOptions.env("MODE=test"), SpecOptions.memoryLimit(32L << 20), SpecOptions.hostname("opts"));

        Container created = berth.containers().create("opts", ContainerOptions.image("busybox"),
                ContainerOptions.label("via", "options"), ContainerOptions.spec(spec));
        var viaCreate = created.info();
        created.delete();
        Container run = berth.containers().create(RunOptions.builder().id("opts").label("via", "options").spec(spec)
                .build().containerConfig("busybox"));
        var viaRun = run.info();

        assertThat(new String(viaRun.spec(), StandardCharsets.UTF_8))
                .isEqualTo(new String(viaCreate.spec(), StandardCharsets.UTF_8));
        assertThat(viaRun.labels()).isEqualTo(viaCreate.labels());
        assertThat(viaRun.runtime().name()).isEqualTo(viaCreate.runtime().name());
        assertThat(RuncOptionsCodec.decode(viaRun.runtime())).isEqualTo(RuncOptionsCodec.decode(viaCreate.runtime()));
        assertThat(run.spec().process().user().uid()).as("app, from the image's /etc/passwd").isNotZero();
        run.delete();
    }

    @Test
    void containerLabelsAndSpecCanBeUpdated() {
        importBusybox();
        Container c = berth.containers().create(ContainerConfig.builder("c1").image("busybox")
                .label("app", "web").spec(s -> s.args("true")).build());

        c.setLabels(java.util.Map.of("tier", "front", "app", ""));
        c.updateSpec(spec -> spec.withHostname("renamed"));

        assertThat(c.labels()).containsExactly(java.util.Map.entry("tier", "front"));
        assertThat(c.spec().hostname()).isEqualTo("renamed");
        assertThat(c.image()).isEqualTo(TestRoots.BUSYBOX);
        assertThat(berth.containers().list("labels.tier==front")).extracting(Container::id).containsExactly("c1");
        assertThat(berth.containers().list("labels.tier==back")).isEmpty();
        c.delete();
    }

    @Test
    void namespacesIsolateImagesContainersAndContent() {
        Namespace a = berth.namespace("team-a");
        Namespace b = berth.namespace("team-b");
        List<Image> imported = a.importImage(TestRoots.busyboxArchive());
        a.containers().create("only-in-a", "busybox", s -> s.args("true"));

        assertThat(a.images().list()).hasSize(1);
        assertThat(b.images().list()).isEmpty();
        assertThat(berth.images().list()).isEmpty();
        assertThat(b.containers().list()).isEmpty();
        Descriptor target = imported.get(0).target();
        assertThatThrownBy(() -> b.content().info(target.digest())).isInstanceOf(NotFoundException.class);
        assertThatThrownBy(() -> b.containers().create("x", "busybox", s -> s.args("true")))
                .isInstanceOf(NotFoundException.class);
        assertThatThrownBy(() -> berth.namespaces().delete("team-a"))
                .isInstanceOf(FailedPreconditionException.class);

        // the same archive into the second namespace: its blobs are on disk already (bench/run's CLI rows
        // import one archive into a namespace per round; the second round failed with a digest mismatch)
        assertThat(b.importImage(TestRoots.busyboxArchive())).extracting(Image::name)
                .containsExactly(TestRoots.BUSYBOX);
        assertThat(b.content().info(target.digest()).size()).isEqualTo(target.size());
        b.images().delete(TestRoots.BUSYBOX);

        a.containers().delete("only-in-a");
        a.images().delete(TestRoots.BUSYBOX);
        berth.gc();
        berth.namespaces().delete("team-a");
        assertThat(berth.namespaces().list()).extracting(NamespaceInfo::name).doesNotContain("team-a");
    }

    @Test
    void expiredLeaseNoLongerProtectsItsContent() throws Exception {
        Namespace ns = berth.defaultNamespace();
        var lease = ns.leases().create("short", java.util.Map.of(), Duration.ofSeconds(1));
        Descriptor kept;
        try (LeaseScope scope = ns.metadata().useLease(lease.id())) {
            kept = dev.berth.content.Content.writeBlob(ns.content(), "blob-1", "application/octet-stream",
                    "leased".getBytes(StandardCharsets.UTF_8));
        }
        berth.gc();
        assertThat(ns.content().info(kept.digest()).size()).isEqualTo(6);

        Thread.sleep(1500);
        berth.gc();

        assertThatThrownBy(() -> ns.content().info(kept.digest())).isInstanceOf(NotFoundException.class);
        assertThat(ns.leases().list()).isEmpty();
    }

    @Test
    void imageMountShowsTheUnpackedFilesReadOnlyUntilUnmounted() throws Exception {
        importBusybox();
        java.nio.file.Path target = Files.createDirectories(dirs.root.resolve("mnt"));

        berth.images().mount("busybox", target);
        try {
            assertThat(target.resolve("bin/busybox")).isRegularFile();
            assertThat(Files.readString(target.resolve("etc/passwd"))).contains("app:x:1000:1000");
            assertThatThrownBy(() -> Files.writeString(target.resolve("new"), "x"))
                    .hasMessageContaining("Read-only");
        } finally {
            assertThat(berth.images().unmount(target)).isTrue();
        }
        assertThat(target.resolve("bin/busybox")).doesNotExist();
        assertThat(berth.leases().list()).isEmpty();
        List<SnapshotInfo> views = berth.snapshots(berth.defaultSnapshotter()).list("kind==view");
        assertThat(views).isEmpty();
    }

    @Test
    void exportedImageImportsIntoAnotherRoot() throws Exception {
        importBusybox();
        java.nio.file.Path tar = dirs.root.resolve("out.tar");
        berth.images().tag("busybox", "example.com/bb:copy");
        berth.images().export(tar, "example.com/bb:copy");

        try (TestRoots other = new TestRoots(); Berth second = other.open()) {
            List<Image> imported = second.importImage(tar);
            assertThat(imported).extracting(Image::name).containsExactly("example.com/bb:copy");
            RunResult r = second.runAndWait("example.com/bb:copy",
                    RunOptions.builder().rm(true).args("echo", "copied").build());
            assertThat(r.stdout()).isEqualTo("copied\n");
        }
    }

    @Test
    void contentInfoOfImportedBlobsCarriesGcLabels() {
        Image image = importBusybox();
        Info info = berth.content().info(image.target().digest());
        assertThat(info.labels().keySet()).anyMatch(k -> k.startsWith("containerd.io/gc.ref.content"));
    }
}

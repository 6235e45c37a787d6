package dev.berth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.ClosedException;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.IoFailureException;
import dev.berth.api.snapshot.SnapshotInfo;
import dev.berth.api.snapshot.Snapshotter;
import dev.berth.api.task.TaskRuntime;
import dev.berth.registry.Credentials;
import dev.berth.registry.RegistryClient;
import dev.berth.runtime.TaskRuntimes;
import dev.berth.snapshot.Snapshotters;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Berth's builder: the parts a caller may supply, and the error contract at the facade. */
class BerthBuilderTest {
    @TempDir
    Path root;
    @TempDir
    Path elsewhere;

    private Berth.Builder builder() {
        return Berth.builder().root(root).stateDir(root.resolve("state")).snapshotter(Berth.NATIVE)
                .gcPolicy(GcPolicy.manual());
    }

    @Nested
    class ErrorContract {
        @Test
        void closedBerthThrowsClosedExceptionNamingItsRoot() {
            Berth berth = builder().build();
            berth.close();
            berth.close();

            assertThatThrownBy(berth::namespaces).isInstanceOf(ClosedException.class)
                    .isInstanceOf(FailedPreconditionException.class)
                    .hasMessage("Berth root " + root + " is closed");
            assertThatThrownBy(() -> berth.images().list()).isInstanceOf(ClosedException.class);
        }

        @Test
        void rootUnderAFileIsAnIoFailureCarryingTheIoException() throws IOException {
            Path file = Files.writeString(elsewhere.resolve("not-a-directory"), "x");

            assertThatThrownBy(() -> Berth.builder().root(file.resolve("root")).build())
                    .isInstanceOf(IoFailureException.class).hasMessageContaining(file.resolve("root").toString())
                    .cause().isInstanceOf(IOException.class);
        }
    }

    @Nested
    class SnapshottersOnFirstUse {
        @Test
        void aCallThatNeedsNoSnapshotsNeverOpensTheSnapshotDatabase() {
            try (Berth berth = builder().snapshottersOnFirstUse(true).build()) {
                assertThat(berth.images().list()).isEmpty();
                assertThat(berth.snapshotterNames()).containsExactly(Berth.NATIVE);
            }

            assertThat(root.resolve("snapshots/native/metadata.db")).doesNotExist();
            assertThat(root.resolve("meta.db")).exists();
        }

        @Test
        void theFirstUseOpensItAndWhatItStoresIsThereForAnEagerOpen() {
            try (Berth berth = builder().snapshottersOnFirstUse(true).build()) {
                berth.snapshots(Berth.NATIVE).prepare("first-use", null);
                assertThat(root.resolve("snapshots/native/metadata.db")).exists();
            }

            try (Berth berth = builder().build()) {
                assertThat(berth.snapshots(Berth.NATIVE).list()).extracting(SnapshotInfo::name)
                        .containsExactly("first-use");
            }
        }

        @Test
        void aSnapshotterClosedBeforeItsFirstUseRefusesIt() {
            LazySnapshotter lazy = new LazySnapshotter(Berth.NATIVE,
                    () -> Snapshotters.nativeSnapshotter(elsewhere.resolve("native")));
            lazy.close();
            lazy.close();

            assertThat(lazy.name()).isEqualTo(Berth.NATIVE);
            assertThat(lazy.isOpen()).isFalse();
            assertThatThrownBy(lazy::list).isInstanceOf(ClosedException.class).hasMessageContaining("native");
            assertThat(elsewhere.resolve("native")).doesNotExist();
        }
    }

    @Nested
    class SuppliedSnapshotter {
        @Test
        void storesTheNamespacesSnapshotsAndStaysOpenAfterClose() {
            try (Snapshotter own = Snapshotters.nativeSnapshotter(elsewhere.resolve("native"))) {
                try (Berth berth = builder().snapshotter(Berth.NATIVE, own).build()) {
                    assertThat(berth.snapshotterNames()).containsExactly(Berth.NATIVE);
                    berth.snapshots(Berth.NATIVE).prepare("supplied", null);
                }

                assertThat(own.list()).extracting(SnapshotInfo::name).singleElement()
                        .asString().endsWith("supplied");
            }
        }

        @Test
        void nameMustBeTheSnapshottersOwn() {
            try (Snapshotter own = Snapshotters.nativeSnapshotter(elsewhere.resolve("native"))) {
                assertThatThrownBy(() -> builder().snapshotter("fast", own))
                        .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("\"fast\"")
                        .hasMessageContaining("\"native\"");
                assertThatThrownBy(() -> builder().snapshotter(Berth.NATIVE, own).snapshotter(Berth.NATIVE, own))
                        .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("twice");
            }
        }

        @Test
        void unknownDefaultSnapshotterIsRefusedAtBuild() {
            assertThatThrownBy(() -> builder().snapshotter("zfs").build())
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("\"zfs\"");
        }
    }

    @Nested
    class SuppliedTaskRuntime {
        @Test
        void servesTheTasksAndStaysOpenAfterClose() {
            try (TaskRuntime own = TaskRuntimes.builder().stateDir(elsewhere.resolve("state")).build()) {
                try (Berth berth = builder().taskRuntime(own).build()) {
                    assertThat(berth.runtime()).isSameAs(own);
                    assertThat(berth.tasks().list()).isEmpty();
                }

                assertThat(own.tasks()).isEmpty(); // still open: a closed runtime would refuse
                assertThat(Files.exists(root.resolve("state").resolve("events.sock")))
                        .as("Berth started no runtime of its own").isFalse();
            }
        }
    }

    @Nested
    class RegistryClients {
        @Test
        void oneClientPerRegistryAccessIsReusedUntilClose() {
            RegistryClient plain;
            try (Berth berth = builder().build()) {
                RegistryClient first = berth.registry(RegistryAccess.defaults());

                assertThat(berth.registry(new RegistryAccess(false, null))).isSameAs(first);
                plain = berth.registry(RegistryAccess.defaults().withPlainHttp(true));
                assertThat(plain).isNotSameAs(first);
                assertThat(berth.registry(RegistryAccess.defaults().withPlainHttp(true))).isSameAs(plain);
            }

            assertThatThrownBy(() -> plain.resolve("127.0.0.1:1/berth/x:1")).isInstanceOf(ClosedException.class);
        }

        @Test
        void suppliedClientServesEveryPullAndPushAndStaysOpenAfterClose() {
            try (RegistryClient own = RegistryClient.builder().credentials(Credentials.none()).build()) {
                try (Berth berth = builder().registryClient(own).build()) {
                    assertThat(berth.registry(RegistryAccess.defaults())).isSameAs(own);
                    assertThatThrownBy(() -> berth.registry(RegistryAccess.defaults().withPlainHttp(true)))
                            .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("RegistryClient");
                }

                assertThatThrownBy(() -> own.resolve("Not A Ref")).as("still open: it parses the reference")
                        .isInstanceOf(InvalidArgumentException.class);
            }
        }
    }
}

package dev.berth.runtime.internal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.InvalidArgumentException;
import dev.berth.api.NotFoundException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShimBinariesTest {
    @TempDir
    Path dir;

    private Path executable(Path path) throws Exception {
        Files.createDirectories(path.getParent());
        Files.writeString(path, "#!/bin/sh\n");
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString("rwxr-xr-x"));
        return path;
    }

    @Test
    void runtimeNameMapsToTheLastTwoDottedParts() {
        assertThat(ShimBinaries.binaryName("io.containerd.runc.v2")).isEqualTo("containerd-shim-runc-v2");
        assertThat(ShimBinaries.binaryName("io.containerd.runsc.v1")).isEqualTo("containerd-shim-runsc-v1");
        assertThat(ShimBinaries.binaryName("example.wasm.v1")).isEqualTo("containerd-shim-wasm-v1");
    }

    @Test
    void malformedRuntimeNameIsRejected() {
        assertThatThrownBy(() -> ShimBinaries.binaryName("runc")).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("runc");
        assertThatThrownBy(() -> ShimBinaries.binaryName("io.containerd..v2")).isInstanceOf(InvalidArgumentException.class);
    }

    @Test
    void searchPathIsSearchedInOrder() throws Exception {
        Path first = executable(dir.resolve("a/containerd-shim-runc-v2"));
        executable(dir.resolve("b/containerd-shim-runc-v2"));
        ShimBinaries binaries = new ShimBinaries(List.of(dir.resolve("none"), dir.resolve("a"), dir.resolve("b")));

        assertThat(binaries.resolve("io.containerd.runc.v2")).isEqualTo(first);
    }

    @Test
    void missingBinaryNamesTheRuntimeAndEveryPlaceSearched() {
        ShimBinaries binaries = new ShimBinaries(List.of(dir.resolve("x"), dir.resolve("y")));

        assertThatThrownBy(() -> binaries.resolve("io.containerd.nope.v2"))
                .isInstanceOf(NotFoundException.class)
                .hasMessageContaining("io.containerd.nope.v2")
                .hasMessageContaining(dir.resolve("x/containerd-shim-nope-v2").toString())
                .hasMessageContaining(dir.resolve("y/containerd-shim-nope-v2").toString());
    }

    @Test
    void absolutePathIsUsedDirectlyAndMustExist() throws Exception {
        Path shim = executable(dir.resolve("my-shim"));
        ShimBinaries binaries = new ShimBinaries(List.of());

        assertThat(binaries.resolve(shim.toString())).isEqualTo(shim);
        assertThatThrownBy(() -> binaries.resolve(dir.resolve("gone").toString()))
                .isInstanceOf(NotFoundException.class).hasMessageContaining(dir.resolve("gone").toString());
    }

    @Test
    void aMissingRuncShimNamesTheDebianPackageThatHasIt() {
        ShimBinaries binaries = new ShimBinaries(List.of(dir.resolve("x")));

        assertThatThrownBy(() -> binaries.resolve("io.containerd.runc.v2"))
                .isInstanceOf(NotFoundException.class)
                .hasMessageContaining("containerd-shim-runc-v2 not found")
                .hasMessageContaining("apt-get install containerd");
    }

    @Test
    void aShimThatCannotFindRuncGetsTheHintToInstallIt() {
        String shim = "OCI runtime create failed: unable to retrieve OCI runtime error: exec: \"runc\":"
                + " executable file not found in $PATH";

        assertThat(ShimBinaries.missingRuntimeHint(shim)).contains("apt-get install runc");
        assertThat(ShimBinaries.missingRuntimeHint("exec: \"crun\": executable file not found in $PATH"))
                .contains("OCI runtime binary").doesNotContain("apt-get");
        assertThat(ShimBinaries.missingRuntimeHint("mount failed: EPERM")).isEmpty();
    }
}

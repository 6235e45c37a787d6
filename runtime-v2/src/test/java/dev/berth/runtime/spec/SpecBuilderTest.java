package dev.berth.runtime.spec;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assumptions.assumeThat;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.oci.image.ImageConfig;
import dev.berth.api.oci.image.OciJson;
import dev.berth.api.oci.runtime.LinuxDevice;
import dev.berth.api.oci.runtime.LinuxDeviceCgroup;
import dev.berth.api.oci.runtime.LinuxNamespace;
import dev.berth.api.oci.runtime.LinuxSeccomp;
import dev.berth.api.oci.runtime.Mount;
import dev.berth.api.oci.runtime.Rlimit;
import dev.berth.api.oci.runtime.RuntimeSpecJson;
import dev.berth.api.oci.runtime.Spec;
import dev.berth.api.oci.runtime.User;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SpecBuilderTest {
    private static final ObjectMapper TREE = new ObjectMapper();
    private static final List<String> DEFAULT_CAPS = List.of(
            "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID",
            "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL",
            "CAP_AUDIT_WRITE");

    /** A builder with a command, so that build() succeeds. */
    private static SpecBuilder builder() {
        return SpecBuilder.defaults("ns1", "c1").args("/bin/sh");
    }

    /** Builds, writes config.json and parses it back: what runc would read. */
    private static Spec written(SpecBuilder b) {
        return RuntimeSpecJson.parse(b.buildJson());
    }

    private static JsonNode tree(SpecBuilder b) throws IOException {
        return TREE.readTree(b.buildJson());
    }

    private static Mount mountAt(Spec spec, String destination) {
        return spec.mounts().stream().filter(m -> m.destination().equals(destination)).findFirst().orElseThrow();
    }

    @Nested
    class Seccomp {
        private static Set<String> allowedUnconditionally(LinuxSeccomp seccomp) {
            return seccomp.syscalls().stream()
                    .filter(s -> s.action().equals("SCMP_ACT_ALLOW") && s.args().isEmpty())
                    .flatMap(s -> s.names().stream())
                    .collect(java.util.stream.Collectors.toSet());
        }

        @Test
        void defaultContainerGetsTheDefaultProfile() {
            LinuxSeccomp seccomp = written(builder()).linux().seccomp();

            assertThat(seccomp).isNotNull();
            assertThat(seccomp.defaultAction()).isEqualTo("SCMP_ACT_ERRNO");
            assertThat(seccomp.defaultErrnoRet()).isEqualTo(1L);
            assertThat(allowedUnconditionally(seccomp)).contains("read", "write", "execve", "openat", "wait4")
                    .doesNotContain("mount", "umount2", "unshare", "setns", "keyctl", "add_key", "request_key",
                            "bpf", "perf_event_open", "kexec_load", "kexec_file_load", "init_module",
                            "finit_module", "delete_module", "reboot", "clone", "clone3", "open_by_handle_at",
                            "settimeofday", "acct", "iopl", "syslog", "mbind")
                    // CAP_SYS_CHROOT is a default capability
                    .contains("chroot");
        }

        @Test
        void cloneWithNamespaceFlagsIsBlockedAndClone3FailsWithEnosysWithoutSysAdmin() {
            LinuxSeccomp seccomp = written(builder()).linux().seccomp();

            assertThat(seccomp.syscalls()).anySatisfy(s -> {
                assertThat(s.names()).containsExactly("clone");
                assertThat(s.action()).isEqualTo("SCMP_ACT_ALLOW");
                assertThat(s.args()).singleElement().satisfies(a -> {
                    assertThat(a.op()).isEqualTo("SCMP_CMP_MASKED_EQ");
                    assertThat(a.value()).isEqualTo(0x7E020000L);
                });
            });
            assertThat(seccomp.syscalls()).anySatisfy(s -> {
                assertThat(s.names()).containsExactly("clone3");
                assertThat(s.action()).isEqualTo("SCMP_ACT_ERRNO");
                assertThat(s.errnoRet()).isEqualTo(38L);
            });
        }

        @Test
        void personalityIsAllowedOnlyForItsSafeArguments() {
            LinuxSeccomp seccomp = written(builder()).linux().seccomp();

            assertThat(seccomp.syscalls().stream().filter(s -> s.names().contains("personality")))
                    .allSatisfy(s -> assertThat(s.args()).singleElement()
                            .satisfies(a -> assertThat(a.op()).isEqualTo("SCMP_CMP_EQ")))
                    .extracting(s -> s.args().get(0).value())
                    .containsExactlyInAnyOrder(0L, 8L, 0x20000L, 0x20008L, 0xffffffffL);
        }

        @Test
        void architecturesIncludeTheCompatibleOnes() {
            assertThat(DefaultSeccomp.forCapabilities(Set.of(), "amd64", "6.1.0").architectures())
                    .containsExactly("SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32");
            assertThat(DefaultSeccomp.forCapabilities(Set.of(), "aarch64", "6.1.0").architectures())
                    .containsExactly("SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM");
        }

        @Test
        void architecturesTheKernelCannotRunAreLeftOut() {
            assertThat(DefaultSeccomp.forCapabilities(Set.of(), "amd64", "6.1.0", new CompatAbis(false, true))
                    .architectures()).containsExactly("SCMP_ARCH_X86_64", "SCMP_ARCH_X86");
            assertThat(DefaultSeccomp.forCapabilities(Set.of(), "amd64", "6.1.0", new CompatAbis(false, false))
                    .architectures()).containsExactly("SCMP_ARCH_X86_64");
        }

        @Test
        void compatAbisAreReadFromTheKernelConfigurationAndKeptWhenItIsSilent(@TempDir Path dir) throws Exception {
            Path withoutX32 = dir.resolve("config.gz");
            try (var out = new java.util.zip.GZIPOutputStream(Files.newOutputStream(withoutX32))) {
                out.write("CONFIG_IA32_EMULATION=y\n# CONFIG_X86_X32_ABI is not set\n".getBytes());
            }
            Path withOldX32 = Files.writeString(dir.resolve("config-4.19"),
                    "CONFIG_X86_X32=y\n# CONFIG_IA32_EMULATION is not set\n");
            Path silent = Files.writeString(dir.resolve("config-other"), "CONFIG_SECCOMP=y\n");

            assertThat(CompatAbis.read(withoutX32)).isEqualTo(new CompatAbis(false, true));
            assertThat(CompatAbis.read(withOldX32)).isEqualTo(new CompatAbis(true, false));
            assertThat(CompatAbis.read(silent)).isEqualTo(CompatAbis.ALL);
            assertThat(CompatAbis.read(dir.resolve("missing"), withoutX32)).isEqualTo(new CompatAbis(false, true));
            assertThat(CompatAbis.read(dir.resolve("missing"))).isEqualTo(CompatAbis.ALL);
        }

        @Test
        void ptraceNeedsKernel48OrSysPtrace() {
            assertThat(allowedUnconditionally(DefaultSeccomp.forCapabilities(Set.of(), "amd64", "4.4.0")))
                    .doesNotContain("ptrace");
            assertThat(allowedUnconditionally(DefaultSeccomp.forCapabilities(Set.of(), "amd64", "4.8.0")))
                    .contains("ptrace");
            assertThat(allowedUnconditionally(
                    DefaultSeccomp.forCapabilities(Set.of(Capability.SYS_PTRACE), "amd64", "4.4.0")))
                    .contains("ptrace", "kcmp");
        }

        @Test
        void addedCapabilitiesUnlockTheirSyscalls() {
            LinuxSeccomp seccomp = written(builder().addCapabilities("CAP_SYS_ADMIN", "CAP_SYS_MODULE")).linux()
                    .seccomp();

            assertThat(allowedUnconditionally(seccomp)).contains("mount", "umount2", "unshare", "setns", "clone",
                    "clone3", "init_module", "finit_module");
            assertThat(seccomp.syscalls()).filteredOn(s -> s.names().contains("clone3"))
                    .allSatisfy(s -> assertThat(s.action()).isEqualTo("SCMP_ACT_ALLOW"));
        }

        @Test
        void privilegedContainerHasNoFilter() {
            assertThat(written(builder().privileged(true)).linux().seccomp()).isNull();
        }

        @Test
        void unconfinedContainerHasNoFilter() throws IOException {
            assertThat(written(builder().seccompUnconfined()).linux().seccomp()).isNull();
            assertThat(tree(builder().seccompUnconfined()).at("/linux").has("seccomp")).isFalse();
        }

        @Test
        void customProfileIsReadFromAnOciJsonFile(@TempDir Path dir) throws IOException {
            Path file = dir.resolve("p.json");
            Files.writeString(file, """
                    {"defaultAction": "SCMP_ACT_LOG", "syscalls": [
                      {"names": ["uname"], "action": "SCMP_ACT_ERRNO", "errnoRet": 1}]}
                    """);

            LinuxSeccomp seccomp = written(builder().seccompProfile(file)).linux().seccomp();

            assertThat(seccomp.defaultAction()).isEqualTo("SCMP_ACT_LOG");
            assertThat(seccomp.syscalls()).singleElement().satisfies(s -> assertThat(s.names()).containsExactly("uname"));
        }

        @Test
        void unreadableOrMalformedProfileFileIsRejectedNamingIt(@TempDir Path dir) throws IOException {
            Path bad = Files.writeString(dir.resolve("bad.json"), "[1,2]");

            assertThatThrownBy(() -> builder().seccompProfile(bad))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("bad.json");
            assertThatThrownBy(() -> builder().seccompProfile(dir.resolve("missing.json")))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("missing.json");
        }
    }

    @Nested
    class Defaults {
        @Test
        void namespacesMatchContainerd() {
            Spec spec = written(builder());

            assertThat(spec.linux().namespaces()).extracting(LinuxNamespace::type)
                    .containsExactly("pid", "ipc", "uts", "mount", "network");
            assertThat(spec.linux().namespaces()).allSatisfy(ns -> assertThat(ns.path()).isNull());
        }

        @Test
        void mountsMatchContainerd() {
            Spec spec = written(builder());

            assertThat(spec.mounts()).extracting(Mount::destination).containsExactly(
                    "/proc", "/dev", "/dev/pts", "/dev/shm", "/dev/mqueue", "/sys", "/sys/fs/cgroup", "/run");
            assertThat(mountAt(spec, "/proc")).isEqualTo(
                    new Mount("/proc", "proc", "proc", List.of("nosuid", "noexec", "nodev")));
            assertThat(mountAt(spec, "/dev")).isEqualTo(new Mount("/dev", "tmpfs", "tmpfs",
                    List.of("nosuid", "strictatime", "mode=755", "size=65536k")));
            assertThat(mountAt(spec, "/dev/pts")).isEqualTo(new Mount("/dev/pts", "devpts", "devpts",
                    List.of("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5")));
            assertThat(mountAt(spec, "/dev/shm")).isEqualTo(new Mount("/dev/shm", "tmpfs", "shm",
                    List.of("nosuid", "noexec", "nodev", "mode=1777", "size=65536k")));
            assertThat(mountAt(spec, "/dev/mqueue")).isEqualTo(new Mount("/dev/mqueue", "mqueue", "mqueue",
                    List.of("nosuid", "noexec", "nodev")));
            assertThat(mountAt(spec, "/sys")).isEqualTo(new Mount("/sys", "sysfs", "sysfs",
                    List.of("nosuid", "noexec", "nodev", "ro")));
            assertThat(mountAt(spec, "/sys/fs/cgroup").type()).isEqualTo("cgroup");
            assertThat(mountAt(spec, "/sys/fs/cgroup").options()).contains("ro");
        }

        @Test
        void capabilitiesAreContainerdsFourteenWithoutInheritable() {
            Spec spec = written(builder());

            assertThat(spec.process().capabilities().bounding()).containsExactlyInAnyOrderElementsOf(DEFAULT_CAPS);
            assertThat(spec.process().capabilities().effective()).containsExactlyInAnyOrderElementsOf(DEFAULT_CAPS);
            assertThat(spec.process().capabilities().permitted()).containsExactlyInAnyOrderElementsOf(DEFAULT_CAPS);
            assertThat(spec.process().capabilities().inheritable()).isEmpty();
            assertThat(spec.process().capabilities().ambient()).isEmpty();
        }

        @Test
        void maskedAndReadonlyPathsMatchContainerd() {
            Spec spec = written(builder());

            assertThat(spec.linux().maskedPaths()).containsExactly("/proc/acpi", "/proc/asound", "/proc/kcore",
                    "/proc/keys", "/proc/latency_stats", "/proc/timer_list", "/proc/timer_stats",
                    "/proc/sched_debug", "/sys/firmware", "/sys/devices/virtual/powercap", "/proc/scsi");
            assertThat(spec.linux().readonlyPaths()).containsExactly("/proc/bus", "/proc/fs", "/proc/irq",
                    "/proc/sys", "/proc/sysrq-trigger");
        }

        @Test
        void processDefaults() {
            Spec spec = written(builder());

            assertThat(spec.ociVersion()).isEqualTo("1.0.2-dev");
            assertThat(spec.root().path()).isEqualTo("rootfs");
            assertThat(spec.root().readonly()).isNull();
            assertThat(spec.process().cwd()).isEqualTo("/");
            assertThat(spec.process().env())
                    .containsExactly("PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
            assertThat(spec.process().user()).isEqualTo(new User(0, 0, null, List.of(0L), null));
            assertThat(spec.process().noNewPrivileges()).isTrue();
            assertThat(spec.process().terminal()).isNull();
            assertThat(spec.process().rlimits()).containsExactly(new Rlimit("RLIMIT_NOFILE", 1024, 1024));
            assertThat(spec.linux().cgroupsPath()).isEqualTo("/ns1/c1");
        }

        @Test
        void devicesAreDeniedExceptTheStandardNodes() {
            List<LinuxDeviceCgroup> rules = written(builder()).linux().resources().devices();

            assertThat(rules.get(0)).isEqualTo(new LinuxDeviceCgroup(false, null, null, null, "rwm"));
            assertThat(rules.subList(1, rules.size())).allSatisfy(r -> {
                assertThat(r.allow()).isTrue();
                assertThat(r.type()).isEqualTo("c");
                assertThat(r.access()).isEqualTo("rwm");
            });
            assertThat(rules).contains(new LinuxDeviceCgroup(true, "c", 1L, 3L, "rwm"),
                    new LinuxDeviceCgroup(true, "c", 1L, 9L, "rwm"), new LinuxDeviceCgroup(true, "c", 136L, null, "rwm"),
                    new LinuxDeviceCgroup(true, "c", 5L, 2L, "rwm"));
            assertThat(rules).hasSize(10);
        }

        @Test
        void userIsAlwaysWrittenAndUnsetOptionsAreLeftOut() throws Exception {
            JsonNode json = tree(builder());

            assertThat(json.at("/process/user").toString()).isEqualTo("{\"uid\":0,\"gid\":0,\"additionalGids\":[0]}");
            assertThat(json.has("hostname")).isFalse();
            assertThat(json.has("annotations")).isFalse();
            assertThat(json.at("/linux").has("sysctl")).isFalse();
            assertThat(json.at("/linux/resources").has("memory")).isFalse();
        }

        @Test
        void defaultSpecHasNoArgs() {
            assertThat(DefaultSpec.create("default", "x").process().args()).isEmpty();
        }

        @Test
        void invalidIdsAreRejected() {
            assertThatThrownBy(() -> SpecBuilder.defaults("ns", "bad id"))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("bad id");
            assertThatThrownBy(() -> SpecBuilder.defaults("-ns", "c"))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("namespace");
        }
    }

    @Nested
    class ImageSettings {
        private final ImageDefaults image = new ImageDefaults(List.of("/entry", "-x"), List.of("serve", "--port=80"),
                List.of("PATH=/opt/bin:/bin", "LANG=C.UTF-8"), "/app", "");

        @Test
        void argsAreEntrypointThenCmd() {
            Spec spec = written(SpecBuilder.defaults("c").imageConfig(image));

            assertThat(spec.process().args()).containsExactly("/entry", "-x", "serve", "--port=80");
            assertThat(spec.process().cwd()).isEqualTo("/app");
            assertThat(spec.process().env()).containsExactly("PATH=/opt/bin:/bin", "LANG=C.UTF-8");
        }

        @Test
        void parsedImageConfigIsUsed() {
            ImageConfig config = OciJson.parseImageConfig("""
                    {"architecture": "amd64", "os": "linux",
                     "config": {"User": "0:0", "Env": ["PATH=/bin", "X=1"], "Entrypoint": ["/bin/sh", "-c"],
                                "Cmd": ["echo hi"], "WorkingDir": "/srv"},
                     "rootfs": {"type": "layers", "diff_ids": []}}
                    """.getBytes(UTF_8));

            Spec spec = written(SpecBuilder.defaults("c").imageConfig(config));

            assertThat(spec.process().args()).containsExactly("/bin/sh", "-c", "echo hi");
            assertThat(spec.process().env()).containsExactly("PATH=/bin", "X=1");
            assertThat(spec.process().cwd()).isEqualTo("/srv");
            assertThat(spec.process().user()).isEqualTo(new User(0, 0, null, List.of(0L), null));
        }

        @Test
        void cmdReplacesOnlyTheImageCmd() {
            Spec spec = written(SpecBuilder.defaults("c").imageConfig(image).cmd("debug"));

            assertThat(spec.process().args()).containsExactly("/entry", "-x", "debug");
        }

        @Test
        void entrypointReplacesEntrypointAndDropsImageCmd() {
            assertThat(written(SpecBuilder.defaults("c").imageConfig(image).entrypoint("/bin/sh")).process().args())
                    .containsExactly("/bin/sh");
            assertThat(written(SpecBuilder.defaults("c").imageConfig(image).entrypoint("/bin/sh").cmd("-c", "true"))
                    .process().args()).containsExactly("/bin/sh", "-c", "true");
        }

        @Test
        void argsReplaceEverything() {
            Spec spec = written(SpecBuilder.defaults("c").imageConfig(image).args("/bin/true"));

            assertThat(spec.process().args()).containsExactly("/bin/true");
        }

        @Test
        void envChangesMergeByKeyOnTopOfImageEnv() {
            Spec spec = written(SpecBuilder.defaults("c").imageConfig(image)
                    .env("LANG=en_US.UTF-8", "EXTRA=1").env("PATH").envVar("EXTRA", "2"));

            assertThat(spec.process().env()).containsExactly("LANG=en_US.UTF-8", "EXTRA=2");
        }

        @Test
        void imageWithoutEnvGetsDefaultPath() {
            Spec spec = written(SpecBuilder.defaults("c").imageConfig(ImageDefaults.of(List.of("/x"), List.of()))
                    .env("A=b"));

            assertThat(spec.process().env()).containsExactly(
                    "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "A=b");
        }

        @Test
        void replaceEnvStartsFromGivenList() {
            Spec spec = written(SpecBuilder.defaults("c").imageConfig(image).replaceEnv(List.of("ONLY=1")).env("B=2"));

            assertThat(spec.process().env()).containsExactly("ONLY=1", "B=2");
        }

        @Test
        void explicitCwdOverridesWorkingDir() {
            assertThat(written(SpecBuilder.defaults("c").imageConfig(image).cwd("/tmp")).process().cwd())
                    .isEqualTo("/tmp");
        }

        @Test
        void relativeImageWorkingDirIsRejected() {
            SpecBuilder b = SpecBuilder.defaults("c")
                    .imageConfig(new ImageDefaults(List.of("/x"), List.of(), List.of(), "work", ""));

            assertThatThrownBy(b::build).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("WorkingDir").hasMessageContaining("\"work\"");
        }

        @Test
        void imageWithoutCommandIsRejectedAtBuild() {
            SpecBuilder b = SpecBuilder.defaults("c").imageConfig(ImageDefaults.of(List.of(), List.of()));

            assertThatThrownBy(b::build).isInstanceOf(InvalidArgumentException.class).hasMessageContaining("args");
        }

        @Test
        void noArgsAtAllIsRejectedAtBuild() {
            assertThatThrownBy(() -> SpecBuilder.defaults("c").build())
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("args");
        }
    }

    @Nested
    class Users {
        @TempDir
        Path rootfs;

        @BeforeEach
        void writeAccounts() throws IOException {
            Files.createDirectories(rootfs.resolve("etc"));
            Files.writeString(rootfs.resolve("etc/passwd"), """
                    root:x:0:0:root:/root:/bin/sh
                    # a comment
                    daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin
                    app:x:1000:1001:App:/home/app:/bin/sh
                    broken line without fields
                    """);
            Files.writeString(rootfs.resolve("etc/group"), """
                    root:x:0:
                    wheel:x:10:root,app
                    app:x:1001:app
                    audio:x:29:daemon,app
                    staff:x:50:
                    """);
        }

        private User userOf(SpecBuilder b) {
            return written(b.rootfs(rootfs)).process().user();
        }

        @Test
        void nameResolvesToItsIdsAndGroupMemberships() {
            User u = userOf(builder().user("app"));

            assertThat(u.uid()).isEqualTo(1000);
            assertThat(u.gid()).isEqualTo(1001);
            // the primary group first; "app" is also listed in group "app", which containerd leaves out
            assertThat(u.additionalGids()).containsExactly(1001L, 10L, 29L);
        }

        @Test
        void uidAloneTakesGidFromPasswd() {
            assertThat(userOf(builder().user("1000"))).isEqualTo(new User(1000, 1001, null, List.of(1001L, 10L, 29L), null));
        }

        @Test
        void unknownUidGetsGidZero() {
            assertThat(userOf(builder().user("4242"))).isEqualTo(new User(4242, 0, null, List.of(0L), null));
        }

        @Test
        void uidColonGidIsTakenAsGiven() {
            User u = userOf(builder().user("1000:50"));

            assertThat(u.uid()).isEqualTo(1000);
            assertThat(u.gid()).isEqualTo(50);
            assertThat(u.additionalGids()).containsExactly(50L, 10L, 29L);
        }

        @Test
        void numericIdsNeedNoRootfs() {
            Spec spec = written(builder().user(7, 8));

            assertThat(spec.process().user()).isEqualTo(new User(7, 8, null, List.of(8L), null));
        }

        @Test
        void nameColonGroupResolvesBoth() {
            User u = userOf(builder().user("daemon:staff"));

            assertThat(u.uid()).isEqualTo(1);
            assertThat(u.gid()).isEqualTo(50);
            assertThat(u.additionalGids()).containsExactly(50L, 29L);
        }

        @Test
        void uidColonGroupResolvesTheGroup() {
            assertThat(userOf(builder().user("0:audio")).gid()).isEqualTo(29);
        }

        @Test
        void rootGetsItsGroupMemberships() {
            assertThat(userOf(builder()).additionalGids()).containsExactly(0L, 10L);
        }

        @Test
        void imageUserIsResolvedUnlessOverridden() {
            ImageDefaults image = new ImageDefaults(List.of("/x"), List.of(), List.of(), "", "app");

            assertThat(userOf(SpecBuilder.defaults("c").imageConfig(image)).uid()).isEqualTo(1000);
            assertThat(userOf(SpecBuilder.defaults("c").imageConfig(image).user("daemon")).uid()).isEqualTo(1);
        }

        @Test
        void additionalGroupsByNameAndId() {
            User u = userOf(builder().user("daemon").additionalGroups("staff", "77"));

            assertThat(u.additionalGids()).containsExactly(1L, 29L, 50L, 77L);
        }

        @Test
        void missingUserNamesUserAndFile() {
            SpecBuilder b = builder().rootfs(rootfs).user("nobody");

            assertThatThrownBy(b::build).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("\"nobody\"").hasMessageContaining("/etc/passwd");
        }

        @Test
        void missingGroupNamesGroupAndFile() {
            SpecBuilder b = builder().rootfs(rootfs).user("app:nogroup");

            assertThatThrownBy(b::build).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("\"nogroup\"").hasMessageContaining("/etc/group");
        }

        @Test
        void missingPasswdFileIsReportedForNames() throws IOException {
            Files.delete(rootfs.resolve("etc/passwd"));
            SpecBuilder b = builder().rootfs(rootfs).user("app");

            assertThatThrownBy(b::build).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("/etc/passwd");
        }

        @Test
        void missingPasswdFileIsFineForUids() throws IOException {
            Files.delete(rootfs.resolve("etc/passwd"));

            assertThat(userOf(builder().user("1000"))).isEqualTo(new User(1000, 0, null, List.of(0L), null));
        }

        @Test
        void nameWithoutRootfsIsRejected() {
            assertThatThrownBy(() -> builder().user("app").build())
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("\"app\"")
                    .hasMessageContaining("rootfs");
        }

        @Test
        void malformedUserStringsAreRejected() {
            for (String bad : List.of("a:b:c", ":5", "5:", "99999999999")) {
                assertThatThrownBy(() -> builder().rootfs(rootfs).user(bad).build())
                        .as(bad).isInstanceOf(InvalidArgumentException.class).hasMessageContaining(bad);
            }
        }

        @Test
        void absoluteSymlinkToPasswdIsFollowedInsideTheRootfs() throws IOException {
            Files.createDirectories(rootfs.resolve("real"));
            Files.move(rootfs.resolve("etc/passwd"), rootfs.resolve("real/passwd"));
            Files.createSymbolicLink(rootfs.resolve("etc/passwd"), Path.of("/real/passwd"));

            assertThat(userOf(builder().user("app")).uid()).isEqualTo(1000);
        }

        @Test
        void symlinkCannotEscapeTheRootfs(@TempDir Path outside) throws IOException {
            Files.writeString(outside.resolve("passwd"), "evil:x:666:666::/:/bin/sh\n");
            Files.delete(rootfs.resolve("etc/passwd"));
            String escape = "../".repeat(rootfs.getNameCount() + 2) + outside.toString().substring(1) + "/passwd";
            Files.createSymbolicLink(rootfs.resolve("etc/passwd"), Path.of(escape));

            assertThatThrownBy(() -> builder().rootfs(rootfs).user("evil").build())
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("/etc/passwd");
        }
    }

    @Nested
    class Mounts {
        @Test
        void bindMountReadOnlyAndReadWrite(@TempDir Path src) {
            Spec spec = written(builder().bindMount(src, "/data", true).bindMount(src.toString(), "/rw/", false));

            assertThat(mountAt(spec, "/data")).isEqualTo(new Mount("/data", "bind", src.toString(), List.of("rbind", "ro")));
            assertThat(mountAt(spec, "/rw").options()).containsExactly("rbind", "rw");
            assertThat(spec.mounts().subList(spec.mounts().size() - 2, spec.mounts().size()))
                    .extracting(Mount::destination).containsExactly("/data", "/rw");
        }

        @Test
        void bindSourceMustExist() {
            SpecBuilder b = builder().bindMount("/definitely/not/here", "/data", false);

            assertThatThrownBy(b::build).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("/definitely/not/here");
        }

        @Test
        void relativeDestinationIsRejected() {
            assertThatThrownBy(() -> builder().bindMount("/tmp", "data", false))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("destination")
                    .hasMessageContaining("\"data\"");
            assertThatThrownBy(() -> builder().tmpfs("/a/../etc"))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("..");
        }

        @Test
        void tmpfsWithDefaultAndGivenOptions() {
            Spec spec = written(builder().tmpfs("/scratch").tmpfs("/big", "size=1g", "mode=1777"));

            assertThat(mountAt(spec, "/scratch")).isEqualTo(
                    new Mount("/scratch", "tmpfs", "tmpfs", List.of("nosuid", "nodev", "noexec")));
            assertThat(mountAt(spec, "/big").options()).containsExactly("size=1g", "mode=1777");
        }

        @Test
        void mountAtDefaultDestinationReplacesItInPlace() {
            Spec spec = written(builder().tmpfs("/dev/shm", "size=1g"));

            assertThat(spec.mounts()).extracting(Mount::destination).containsOnlyOnce("/dev/shm");
            assertThat(spec.mounts().get(3)).isEqualTo(new Mount("/dev/shm", "tmpfs", "tmpfs", List.of("size=1g")));
        }

        @Test
        void sameDestinationTwiceIsRejected() {
            assertThatThrownBy(() -> builder().tmpfs("/x").tmpfs("/x/"))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("/x");
        }

        @Test
        void readOnlyRootfs() throws Exception {
            assertThat(tree(builder().readOnlyRootfs(true)).at("/root").toString())
                    .isEqualTo("{\"path\":\"rootfs\",\"readonly\":true}");
        }

        @Test
        void hostname() throws Exception {
            assertThat(tree(builder().hostname("web-1")).at("/hostname").asText()).isEqualTo("web-1");
            assertThatThrownBy(() -> builder().hostname("a b")).isInstanceOf(InvalidArgumentException.class);
            assertThatThrownBy(() -> builder().hostname("x".repeat(65))).isInstanceOf(InvalidArgumentException.class);
        }
    }

    @Nested
    class Namespaces {
        @Test
        void hostNetworkDropsNetworkNamespaceAndBindsResolverFiles() {
            Spec spec = written(builder().hostNetwork(true));

            assertThat(spec.linux().namespaces()).extracting(LinuxNamespace::type)
                    .containsExactly("pid", "ipc", "uts", "mount");
            for (String file : List.of("/etc/resolv.conf", "/etc/hosts")) {
                if (Files.exists(Path.of(file))) {
                    assertThat(mountAt(spec, file)).isEqualTo(new Mount(file, "bind", file, List.of("rbind", "ro")));
                }
            }
        }

        @Test
        void joinNamespaceSetsPathInPlaceOrAdds() {
            Spec spec = written(builder().joinNamespace("network", "/proc/self/ns/net")
                    .joinNamespace("cgroup", "/proc/self/ns/cgroup"));

            assertThat(spec.linux().namespaces()).containsExactly(new LinuxNamespace("pid"), new LinuxNamespace("ipc"),
                    new LinuxNamespace("uts"), new LinuxNamespace("mount"),
                    new LinuxNamespace("network", "/proc/self/ns/net"), new LinuxNamespace("cgroup", "/proc/self/ns/cgroup"));
        }

        @Test
        void joinNamespaceChecksTypeAndPath() {
            assertThatThrownBy(() -> builder().joinNamespace("nett", "/proc/self/ns/net"))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("nett");
            assertThatThrownBy(() -> builder().joinNamespace("ipc", "/no/such/ns").build())
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("/no/such/ns");
        }

        @Test
        void hostNetworkConflictsWithJoiningANetworkNamespace() {
            SpecBuilder b = builder().hostNetwork(true).joinNamespace("network", "/proc/self/ns/net");

            assertThatThrownBy(b::build).isInstanceOf(InvalidArgumentException.class).hasMessageContaining("hostNetwork");
        }
    }

    @Nested
    class Resources {
        @Test
        void memoryAndSwap() throws Exception {
            JsonNode json = tree(builder().memoryLimit(64L << 20).memorySwap(128L << 20));

            assertThat(json.at("/linux/resources/memory").toString())
                    .isEqualTo("{\"limit\":67108864,\"swap\":134217728}");
        }

        @Test
        void negativeMemoryIsRejectedNamingOptionAndValue() {
            assertThatThrownBy(() -> builder().memoryLimit(-5)).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("memoryLimit").hasMessageContaining("-5");
        }

        @Test
        void swapNeedsAndMustExceedTheMemoryLimit() {
            assertThatThrownBy(() -> builder().memorySwap(1 << 20).build())
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("memorySwap");
            assertThatThrownBy(() -> builder().memoryLimit(2 << 20).memorySwap(1 << 20).build())
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("memorySwap");
            assertThat(written(builder().memoryLimit(2 << 20).memorySwap(-1)).linux().resources().memory().swap())
                    .isEqualTo(-1L);
        }

        @Test
        void cpusDecimalBecomesQuotaOverDefaultPeriod() {
            var cpu = written(builder().cpus("1.5")).linux().resources().cpu();

            assertThat(cpu.quota()).isEqualTo(150_000L);
            assertThat(cpu.period()).isEqualTo(100_000L);
            assertThat(written(builder().cpus(0.25)).linux().resources().cpu().quota()).isEqualTo(25_000L);
        }

        @Test
        void cpusBelowOneHundredthOrNotANumberIsRejected() {
            assertThatThrownBy(() -> builder().cpus("0.001")).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("cpus").hasMessageContaining("0.001");
            assertThatThrownBy(() -> builder().cpus("two")).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("two");
            assertThatThrownBy(() -> builder().cpus(-1.0)).isInstanceOf(InvalidArgumentException.class);
        }

        @Test
        void sharesQuotaPeriodAndCpuset() throws Exception {
            JsonNode cpu = tree(builder().cpuShares(512).cpuQuota(20_000, 50_000).cpusetCpus("0-1").cpusetMems("0"))
                    .at("/linux/resources/cpu");

            assertThat(cpu.toString())
                    .isEqualTo("{\"shares\":512,\"quota\":20000,\"period\":50000,\"cpus\":\"0-1\",\"mems\":\"0\"}");
        }

        @Test
        void cpuOptionsAreRangeChecked() {
            assertThatThrownBy(() -> builder().cpuShares(1)).isInstanceOf(InvalidArgumentException.class);
            assertThatThrownBy(() -> builder().cpuQuota(500, 100_000)).isInstanceOf(InvalidArgumentException.class);
            assertThatThrownBy(() -> builder().cpuQuota(5000, 10)).isInstanceOf(InvalidArgumentException.class);
            assertThatThrownBy(() -> builder().cpusetCpus("0-")).isInstanceOf(InvalidArgumentException.class);
            assertThatThrownBy(() -> builder().cpus("1").cpuQuota(5000, 10_000).build())
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("conflicts");
        }

        @Test
        void pidsLimit() {
            assertThat(written(builder().pidsLimit(64)).linux().resources().pids().limit()).isEqualTo(64L);
            assertThatThrownBy(() -> builder().pidsLimit(0)).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("pidsLimit");
        }

        @Test
        void cgroupsPath() {
            assertThat(written(builder().cgroupsPath("/berth/x")).linux().cgroupsPath()).isEqualTo("/berth/x");
            assertThat(written(builder().cgroupsPath("system.slice:berth:x")).linux().cgroupsPath())
                    .isEqualTo("system.slice:berth:x");
            assertThatThrownBy(() -> builder().cgroupsPath("relative/x")).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("relative/x");
        }
    }

    @Nested
    class CapabilityOptions {
        @Test
        void addAcceptsNamesWithAndWithoutPrefix() {
            Spec spec = written(builder().addCapabilities("sys_ptrace", "CAP_NET_ADMIN"));

            assertThat(spec.process().capabilities().bounding()).contains("CAP_SYS_PTRACE", "CAP_NET_ADMIN");
            assertThat(spec.process().capabilities().effective()).contains("CAP_SYS_PTRACE", "CAP_NET_ADMIN");
            assertThat(spec.process().capabilities().permitted()).contains("CAP_SYS_PTRACE", "CAP_NET_ADMIN");
        }

        @Test
        void dropRemovesFromEverySet() {
            var caps = written(builder().dropCapabilities("NET_RAW", "cap_mknod")).process().capabilities();

            assertThat(caps.bounding()).doesNotContain("CAP_NET_RAW", "CAP_MKNOD").contains("CAP_CHOWN");
            assertThat(caps.effective()).doesNotContain("CAP_NET_RAW", "CAP_MKNOD");
            assertThat(caps.permitted()).doesNotContain("CAP_NET_RAW", "CAP_MKNOD");
        }

        @Test
        void dropAllThenAddKeepsOnlyTheAdded() {
            var caps = written(builder().dropCapabilities("ALL").addCapabilities("NET_BIND_SERVICE"))
                    .process().capabilities();

            assertThat(caps.bounding()).containsExactly("CAP_NET_BIND_SERVICE");
            assertThat(caps.permitted()).containsExactly("CAP_NET_BIND_SERVICE");
        }

        @Test
        void unknownCapabilityIsRejectedNamingIt() {
            assertThatThrownBy(() -> builder().addCapabilities("CAP_FLY")).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("addCapabilities").hasMessageContaining("CAP_FLY");
            assertThatThrownBy(() -> builder().dropCapabilities("root")).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("\"root\"");
        }

        @Test
        void capabilityOutsideTheBoundingSetIsRejectedAtBuild() {
            Set<Capability> bounding = Capability.currentBoundingSet().orElseThrow();
            EnumSet<Capability> missing = EnumSet.complementOf(EnumSet.copyOf(bounding));
            assumeThat(missing).as("this machine's bounding set lacks a capability").isNotEmpty();
            Capability absent = missing.iterator().next();

            assertThatThrownBy(() -> builder().addCapabilities(absent.name()).build())
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining(absent.specName());
        }
    }

    @Nested
    class Privileged {
        private final Spec spec = written(builder().privileged(true));

        @Test
        void getsEveryCapabilityOfTheBoundingSet() {
            List<String> expected = Capability.currentBoundingSet().orElseThrow().stream()
                    .map(Capability::specName).toList();

            assertThat(spec.process().capabilities().bounding()).containsExactlyInAnyOrderElementsOf(expected);
            assertThat(spec.process().capabilities().effective()).containsExactlyInAnyOrderElementsOf(expected);
            assertThat(expected).contains("CAP_SYS_ADMIN");
        }

        @Test
        void hasNoMaskedOrReadonlyPathsAndWritableSysfs() throws Exception {
            JsonNode json = tree(builder().privileged(true));

            assertThat(json.at("/linux").has("maskedPaths")).isFalse();
            assertThat(json.at("/linux").has("readonlyPaths")).isFalse();
            assertThat(mountAt(spec, "/sys").options()).contains("rw").doesNotContain("ro");
            assertThat(mountAt(spec, "/sys/fs/cgroup").options()).contains("rw").doesNotContain("ro");
        }

        @Test
        void allowsAllDevicesAndCreatesHostNodes() {
            assertThat(spec.linux().resources().devices())
                    .containsExactly(new LinuxDeviceCgroup(true, null, null, null, "rwm"));
            assertThat(spec.linux().devices()).extracting(LinuxDevice::path).contains("/dev/null")
                    .doesNotContain("/dev/console");
            LinuxDevice devNull = spec.linux().devices().stream().filter(d -> d.path().equals("/dev/null"))
                    .findFirst().orElseThrow();
            assertThat(devNull.type()).isEqualTo("c");
            assertThat(devNull.major()).isEqualTo(1);
            assertThat(devNull.minor()).isEqualTo(3);
        }
    }

    @Nested
    class Devices {
        @Test
        void aHostNodeIsCreatedAtTheContainerPathAndAllowedWithItsPermissions() {
            Spec spec = written(builder().device("/dev/null", "/dev/other-null", "rw"));

            LinuxDevice node = spec.linux().devices().stream().filter(d -> d.path().equals("/dev/other-null"))
                    .findFirst().orElseThrow();
            assertThat(node.type()).isEqualTo("c");
            assertThat(node.major()).isEqualTo(1);
            assertThat(node.minor()).isEqualTo(3);
            assertThat(spec.linux().resources().devices()).last()
                    .isEqualTo(new LinuxDeviceCgroup(true, "c", 1L, 3L, "rw"));
            assertThat(spec.linux().resources().devices().get(0).allow()).as("deny all stays first").isFalse();
        }

        @Test
        void anEmptyContainerPathIsTheHostPathAndEmptyPermissionsAreRwm() {
            Spec spec = written(builder().device("/dev/zero", "", ""));

            assertThat(spec.linux().devices()).filteredOn(d -> d.path().equals("/dev/zero")).hasSize(1);
            assertThat(spec.linux().resources().devices()).last()
                    .isEqualTo(new LinuxDeviceCgroup(true, "c", 1L, 5L, "rwm"));
        }

        @Test
        void badPathsAndPermissionsAreRejected() {
            assertThatThrownBy(() -> builder().device("dev/null", "/dev/x", "rw"))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("absolute");
            assertThatThrownBy(() -> builder().device("/dev/null", "/dev/x", "rx"))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("r, w and m");
            assertThatThrownBy(() -> builder().device("/dev/null", "/dev/x", "rr"))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("r, w and m");
            assertThatThrownBy(() -> builder().device("/etc/hostname", "/dev/x", "r").build())
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("not a device node");
            assertThatThrownBy(() -> builder().device("/no/such/device", "/dev/x", "r").build())
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("/no/such/device");
        }
    }

    @Nested
    class ProcessOptions {
        @Test
        void terminalAddsTermUnlessSet() {
            Spec spec = written(builder().terminal(true));
            assertThat(spec.process().terminal()).isTrue();
            assertThat(spec.process().env()).contains("TERM=xterm");

            assertThat(written(builder().terminal(true).env("TERM=vt100")).process().env())
                    .containsOnlyOnce("TERM=vt100").doesNotContain("TERM=xterm");
        }

        @Test
        void noNewPrivilegesCanBeTurnedOff() throws Exception {
            assertThat(tree(builder().noNewPrivileges(false)).at("/process").has("noNewPrivileges")).isFalse();
        }

        @Test
        void rlimitsReplaceByType() {
            Spec spec = written(builder().rlimit("nofile", 4096, 8192).rlimit("RLIMIT_CORE", 0, Rlimit.UNLIMITED));

            assertThat(spec.process().rlimits()).containsExactly(new Rlimit("RLIMIT_NOFILE", 8192, 4096),
                    new Rlimit("RLIMIT_CORE", Rlimit.UNLIMITED, 0));
        }

        @Test
        void rlimitsAreChecked() {
            assertThatThrownBy(() -> builder().rlimit("RLIMIT_FOO", 1, 1)).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("RLIMIT_FOO");
            assertThatThrownBy(() -> builder().rlimit("nofile", 10, 5)).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("soft");
        }

        @Test
        void oomScoreAdj() {
            assertThat(written(builder().oomScoreAdj(-500)).process().oomScoreAdj()).isEqualTo(-500);
            assertThatThrownBy(() -> builder().oomScoreAdj(1001)).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("oomScoreAdj").hasMessageContaining("1001");
        }

        @Test
        void cwdMustBeAbsolute() {
            assertThatThrownBy(() -> builder().cwd("tmp")).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("cwd").hasMessageContaining("\"tmp\"");
        }

        @Test
        void emptyArgsAreRejected() {
            assertThatThrownBy(() -> builder().args(List.of())).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("args");
            assertThatThrownBy(() -> builder().args("")).isInstanceOf(InvalidArgumentException.class);
        }

        @Test
        void malformedEnvIsRejected() {
            assertThatThrownBy(() -> builder().env("=x")).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("\"=x\"");
        }
    }

    @Nested
    class LinuxOptions {
        @Test
        void namespacedSysctlsAreSet() {
            Spec spec = written(builder().sysctl("net.ipv4.ip_forward", "1").sysctl("kernel.shmmax", "1000")
                    .sysctl("fs.mqueue.msg_max", "20"));

            assertThat(spec.linux().sysctl()).containsExactly(Map.entry("net.ipv4.ip_forward", "1"),
                    Map.entry("kernel.shmmax", "1000"), Map.entry("fs.mqueue.msg_max", "20"));
        }

        @Test
        void hostWideSysctlIsRejected() {
            assertThatThrownBy(() -> builder().sysctl("vm.swappiness", "10")).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("vm.swappiness");
            assertThatThrownBy(() -> builder().sysctl("kernel.hostname", "x")).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("hostname");
        }

        @Test
        void netSysctlWithHostNetworkIsRejected() {
            SpecBuilder b = builder().hostNetwork(true).sysctl("net.ipv4.ip_forward", "1");

            assertThatThrownBy(b::build).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("net.ipv4.ip_forward");
        }

        @Test
        void annotations() {
            Spec spec = written(builder().annotation("io.berth.a", "1").annotations(Map.of("io.berth.b", "2")));

            assertThat(spec.annotations()).containsEntry("io.berth.a", "1").containsEntry("io.berth.b", "2");
            assertThatThrownBy(() -> builder().annotation("", "x")).isInstanceOf(InvalidArgumentException.class);
        }

        @Test
        void customizeRunsLast() {
            Spec spec = written(builder().hostname("a").customize(s -> s.withDomainname("example.org")));

            assertThat(spec.hostname()).isEqualTo("a");
            assertThat(spec.domainname()).isEqualTo("example.org");
        }

        @Test
        void buildJsonIsWhatRuntimeSpecJsonWrites() {
            SpecBuilder b = builder().hostname("h");

            assertThat(new String(b.buildJson(), UTF_8)).isEqualTo(new String(RuntimeSpecJson.toJson(b.build()), UTF_8));
        }
    }
}

package dev.berth.runtime.spec;

import dev.berth.api.Identifiers;
import dev.berth.api.oci.runtime.Capabilities;
import dev.berth.api.oci.runtime.Linux;
import dev.berth.api.oci.runtime.LinuxDeviceCgroup;
import dev.berth.api.oci.runtime.LinuxNamespace;
import dev.berth.api.oci.runtime.LinuxResources;
import dev.berth.api.oci.runtime.Mount;
import dev.berth.api.oci.runtime.Process;
import dev.berth.api.oci.runtime.Rlimit;
import dev.berth.api.oci.runtime.Root;
import dev.berth.api.oci.runtime.Spec;
import dev.berth.api.oci.runtime.User;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * The spec every container starts from: containerd 1.6's default Unix spec ({@code oci.WithDefaultSpec})
 * plus the device rules of {@code oci.WithDefaultUnixDevices} that {@code ctr run} adds, and the read-only
 * {@code /sys/fs/cgroup} mount that containerd's CRI plugin adds, and the seccomp filter of Docker's and
 * containerd's default profile ({@link DefaultSeccomp}) for its capabilities.
 *
 * <p>It has no {@code process.args}: {@link SpecBuilder} fills them from the image or the caller.
 */
public final class DefaultSpec {
    /** The runtime-spec version containerd 1.6 writes. */
    public static final String OCI_VERSION = "1.0.2-dev";

    /** {@code root.path}: the bundle's {@code rootfs} directory. */
    public static final String ROOTFS_PATH = "rootfs";

    public static final String DEFAULT_PATH =
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    /** The bounding, effective and permitted capability sets (no inheritable ones since containerd 1.6.2). */
    public static final List<String> CAPABILITIES = List.of(
            "CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD", "CAP_NET_RAW",
            "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP", "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT",
            "CAP_KILL", "CAP_AUDIT_WRITE");

    public static final List<String> NAMESPACES = List.of(
            LinuxNamespace.PID, LinuxNamespace.IPC, LinuxNamespace.UTS, LinuxNamespace.MOUNT,
            LinuxNamespace.NETWORK);

    public static final List<String> MASKED_PATHS = List.of(
            "/proc/acpi", "/proc/asound", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
            "/proc/timer_stats", "/proc/sched_debug", "/sys/firmware", "/sys/devices/virtual/powercap", "/proc/scsi");

    public static final List<String> READONLY_PATHS = List.of(
            "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys", "/proc/sysrq-trigger");

    /** {@code RLIMIT_NOFILE} soft and hard limit. */
    public static final long NOFILE_LIMIT = 1024;

    public static final List<Mount> MOUNTS = List.of(
            new Mount("/proc", "proc", "proc", List.of("nosuid", "noexec", "nodev")),
            new Mount("/dev", "tmpfs", "tmpfs", List.of("nosuid", "strictatime", "mode=755", "size=65536k")),
            new Mount("/dev/pts", "devpts", "devpts",
                    List.of("nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5")),
            new Mount("/dev/shm", "tmpfs", "shm", List.of("nosuid", "noexec", "nodev", "mode=1777", "size=65536k")),
            new Mount("/dev/mqueue", "mqueue", "mqueue", List.of("nosuid", "noexec", "nodev")),
            new Mount("/sys", "sysfs", "sysfs", List.of("nosuid", "noexec", "nodev", "ro")),
            new Mount("/sys/fs/cgroup", "cgroup", "cgroup", List.of("nosuid", "noexec", "nodev", "relatime", "ro")),
            new Mount("/run", "tmpfs", "tmpfs", List.of("nosuid", "strictatime", "mode=755", "size=65536k")));

    /**
     * Device cgroup rules: deny everything, then allow the nodes every container has ({@code /dev/null},
     * {@code random}, {@code full}, {@code tty}, {@code zero}, {@code urandom}, {@code console}, the pts
     * range and {@code ptmx}).
     */
    public static final List<LinuxDeviceCgroup> DEVICE_RULES = deviceRules();

    private DefaultSpec() {
    }

    /**
     * The default spec for container {@code containerId} in Berth namespace {@code namespace}; its cgroup
     * is {@code /<namespace>/<containerId>} as in containerd.
     *
     * @throws dev.berth.api.InvalidArgumentException if either is not a valid identifier
     */
    public static Spec create(String namespace, String containerId) {
        Identifiers.validate("namespace", namespace);
        Identifiers.validate("container id", containerId);
        Process process = Process.builder()
                .user(User.of(0, 0))
                .env(List.of(DEFAULT_PATH))
                .cwd("/")
                .capabilities(new Capabilities(CAPABILITIES, CAPABILITIES, List.of(), CAPABILITIES, List.of()))
                .rlimits(List.of(new Rlimit("RLIMIT_NOFILE", NOFILE_LIMIT, NOFILE_LIMIT)))
                .noNewPrivileges(true)
                .build();
        Linux linux = Linux.builder()
                .maskedPaths(MASKED_PATHS)
                .readonlyPaths(READONLY_PATHS)
                .cgroupsPath("/" + namespace + "/" + containerId)
                .resources(LinuxResources.builder().devices(DEVICE_RULES).build())
                .namespaces(NAMESPACES.stream().map(LinuxNamespace::new).toList())
                .seccomp(DefaultSeccomp.forCapabilities(defaultCapabilities()))
                .build();
        return Spec.builder()
                .ociVersion(OCI_VERSION)
                .root(new Root(ROOTFS_PATH, null))
                .process(process)
                .mounts(MOUNTS)
                .linux(linux)
                .build();
    }

    /** {@link #CAPABILITIES} as a set. */
    static Set<Capability> defaultCapabilities() {
        Set<Capability> caps = EnumSet.noneOf(Capability.class);
        CAPABILITIES.forEach(c -> caps.add(Capability.parse(c)));
        return caps;
    }

    private static List<LinuxDeviceCgroup> deviceRules() {
        List<LinuxDeviceCgroup> rules = new ArrayList<>();
        rules.add(new LinuxDeviceCgroup(false, null, null, null, "rwm"));
        long[][] allowed = {
            {1, 3}, // /dev/null
            {1, 8}, // /dev/random
            {1, 7}, // /dev/full
            {5, 0}, // /dev/tty
            {1, 5}, // /dev/zero
            {1, 9}, // /dev/urandom
            {5, 1}, // /dev/console
            {136, -1}, // /dev/pts/*
            {5, 2}, // /dev/ptmx
        };
        for (long[] dev : allowed) {
            rules.add(new LinuxDeviceCgroup(true, "c", dev[0], dev[1] < 0 ? null : dev[1], "rwm"));
        }
        return List.copyOf(rules);
    }
}

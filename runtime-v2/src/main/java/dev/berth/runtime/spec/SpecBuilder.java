package dev.berth.runtime.spec;

import dev.berth.api.Identifiers;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.oci.image.ImageConfig;
import dev.berth.api.oci.runtime.Capabilities;
import dev.berth.api.oci.runtime.Linux;
import dev.berth.api.oci.runtime.LinuxCpu;
import dev.berth.api.oci.runtime.LinuxDevice;
import dev.berth.api.oci.runtime.LinuxDeviceCgroup;
import dev.berth.api.oci.runtime.LinuxMemory;
import dev.berth.api.oci.runtime.LinuxNamespace;
import dev.berth.api.oci.runtime.LinuxPids;
import dev.berth.api.oci.runtime.LinuxResources;
import dev.berth.api.oci.runtime.LinuxSeccomp;
import dev.berth.api.oci.runtime.Mount;
import dev.berth.api.oci.runtime.Process;
import dev.berth.api.oci.runtime.Rlimit;
import dev.berth.api.oci.runtime.Root;
import dev.berth.api.oci.runtime.RuntimeSpecJson;
import dev.berth.api.oci.runtime.Spec;
import dev.berth.api.oci.runtime.User;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.EnumSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.UnaryOperator;
import java.util.regex.Pattern;
import java.util.stream.Collectors;

/**
 * Builds the OCI runtime spec ({@code config.json}) of a container: {@link DefaultSpec containerd's
 * defaults}, then the image's process settings, then the options set here — the Java counterpart of
 * containerd's {@code oci.WithNewSpec(oci.WithImageConfig(image), oci.With...)}.
 *
 * <pre>{@code
 * Spec spec = SpecBuilder.defaults("default", "web")
 *         .rootfs(mountedRootfs)                       // read for /etc/passwd and /etc/group
 *         .imageConfig(new ImageDefaults(entrypoint, cmd, env, workingDir, user))
 *         .env("MODE=prod")
 *         .memoryLimit(256L << 20)
 *         .bindMount("/srv/data", "/data", true)
 *         .build();
 * }</pre>
 *
 * <p>Options are checked when they are set; checks that need several options or the rootfs (the
 * process must have args, names in {@code user} must exist, {@code net.*} sysctls need a network
 * namespace, ...) run in {@link #build()}. Every failure is an {@link InvalidArgumentException} naming the
 * option and the value, so a bad spec never reaches runc. Setting an option again replaces the earlier
 * value, except where the method says it adds. Not thread-safe; {@code build()} may be called repeatedly.
 */
public final class SpecBuilder {
    /** Capability names accepted by add/drop meaning every capability. */
    public static final String ALL_CAPABILITIES = "ALL";
    /** {@code cpu.cfs_period_us} used by {@link #cpus(String)}, as {@code ctr run --cpus}. */
    public static final long DEFAULT_CPU_PERIOD = 100_000;

    private static final Set<String> RLIMIT_TYPES = Set.of(
            "RLIMIT_AS", "RLIMIT_CORE", "RLIMIT_CPU", "RLIMIT_DATA", "RLIMIT_FSIZE", "RLIMIT_LOCKS",
            "RLIMIT_MEMLOCK", "RLIMIT_MSGQUEUE", "RLIMIT_NICE", "RLIMIT_NOFILE", "RLIMIT_NPROC", "RLIMIT_RSS",
            "RLIMIT_RTPRIO", "RLIMIT_RTTIME", "RLIMIT_SIGPENDING", "RLIMIT_STACK");
    private static final Set<String> NAMESPACE_TYPES = Set.of(
            LinuxNamespace.PID, LinuxNamespace.NETWORK, LinuxNamespace.MOUNT, LinuxNamespace.IPC,
            LinuxNamespace.UTS, LinuxNamespace.USER, LinuxNamespace.CGROUP, LinuxNamespace.TIME);
    // The sysctls runc accepts (they live in the container's own IPC, UTS or network namespace).
    private static final Set<String> IPC_SYSCTLS = Set.of(
            "kernel.msgmax", "kernel.msgmnb", "kernel.msgmni", "kernel.sem", "kernel.shmall", "kernel.shmmax",
            "kernel.shmmni", "kernel.shm_rmid_forced");
    private static final Pattern SYSCTL_KEY = Pattern.compile("[A-Za-z0-9_]+([./][A-Za-z0-9_*:+@-]+)*");
    private static final Pattern CPU_LIST = Pattern.compile("\\d+(-\\d+)?(,\\d+(-\\d+)?)*");
    private static final Pattern SYSTEMD_CGROUP = Pattern.compile("[^:/]*:[^:]*:[^:]+");

    private final String namespace;
    private final String containerId;

    private Path rootfs;
    private RootfsUsers.UserFiles userFiles;
    private ImageDefaults image;
    private List<String> args;
    private List<String> entrypoint;
    private List<String> cmd;
    private List<String> baseEnv;
    private final List<String> envChanges = new ArrayList<>();
    private String cwd;
    private String user;
    private final List<String> additionalGroups = new ArrayList<>();
    private final List<DeviceMapping> deviceMappings = new ArrayList<>();
    private boolean terminal;
    private boolean noNewPrivileges = true;
    private final Map<String, Rlimit> rlimits = new LinkedHashMap<>();
    private Integer oomScoreAdj;
    private final Set<Capability> addedCaps = EnumSet.noneOf(Capability.class);
    private final Set<Capability> droppedCaps = EnumSet.noneOf(Capability.class);
    private boolean addAllCaps;
    private boolean dropAllCaps;
    private boolean privileged;
    private boolean seccompUnconfined;
    private LinuxSeccomp seccompProfile;

    private String hostname;
    private String rootPath = DefaultSpec.ROOTFS_PATH;
    private boolean readOnlyRootfs;
    private final List<Mount> mounts = new ArrayList<>();
    private boolean hostNetwork;
    private final Map<String, String> joinedNamespaces = new LinkedHashMap<>();

    private Long memoryLimit;
    private Long memorySwap;
    private Long cpuShares;
    private Long cpuQuota;
    private Long cpuPeriod;
    private BigDecimal cpus;
    private String cpusetCpus;
    private String cpusetMems;
    private Long pidsLimit;
    private String cgroupsPath;
    private final Map<String, String> sysctls = new LinkedHashMap<>();
    private final Map<String, String> annotations = new LinkedHashMap<>();
    private final List<UnaryOperator<Spec>> customizers = new ArrayList<>();

    private SpecBuilder(String namespace, String containerId) {
        this.namespace = Identifiers.validate("namespace", namespace);
        this.containerId = Identifiers.validate("container id", containerId);
    }

    /**
     * A builder for container {@code containerId} in Berth namespace {@code namespace}.
     *
     * @throws InvalidArgumentException if either is not a valid containerd identifier
     */
    public static SpecBuilder defaults(String namespace, String containerId) {
        return new SpecBuilder(namespace, containerId);
    }

    /** A builder for {@code containerId} in namespace {@code default}. */
    public static SpecBuilder defaults(String containerId) {
        return new SpecBuilder("default", containerId);
    }

    // ---- process ------------------------------------------------------------------------------------

    /**
     * The container's root filesystem on the host (a mounted snapshot), read for {@code /etc/passwd} and
     * {@code /etc/group} when resolving users and groups. Not written to the spec: see {@link #rootPath}.
     */
    public SpecBuilder rootfs(Path rootfs) {
        this.rootfs = Objects.requireNonNull(rootfs, "rootfs");
        return this;
    }

    /**
     * The rootfs' {@code /etc/passwd} and {@code /etc/group}, read before (e.g. once per image), instead of
     * a mounted {@link #rootfs}; wins over it.
     */
    public SpecBuilder userFiles(RootfsUsers.UserFiles files) {
        this.userFiles = Objects.requireNonNull(files, "files");
        return this;
    }

    /**
     * The image's process settings: args default to {@code Entrypoint + Cmd}, env to {@code Env} (or the
     * default {@code PATH} when the image has none), cwd to {@code WorkingDir} (or {@code /}), user to
     * {@code User} (or root). Options set here override each of them.
     */
    public SpecBuilder imageConfig(ImageDefaults image) {
        this.image = Objects.requireNonNull(image, "image");
        return this;
    }

    /** As {@link #imageConfig(ImageDefaults)}, taking the settings from a parsed image config. */
    public SpecBuilder imageConfig(ImageConfig imageConfig) {
        return imageConfig(ImageDefaults.from(imageConfig));
    }

    /** The process's whole argv, ignoring the image's {@code Entrypoint} and {@code Cmd}. */
    public SpecBuilder args(List<String> args) {
        this.args = checkArgs("args", args);
        return this;
    }

    /** The process's whole argv, ignoring the image's {@code Entrypoint} and {@code Cmd}. */
    public SpecBuilder args(String... args) {
        return args(Arrays.asList(args));
    }

    /** Replaces the image's {@code Cmd}, keeping its {@code Entrypoint} ({@code docker run IMAGE CMD...}). */
    public SpecBuilder cmd(String... cmd) {
        this.cmd = checkArgs("cmd", Arrays.asList(cmd));
        return this;
    }

    /**
     * Replaces the image's {@code Entrypoint}; as with {@code docker run --entrypoint}, the image's
     * {@code Cmd} is then dropped too unless {@link #cmd} is set.
     */
    public SpecBuilder entrypoint(String... entrypoint) {
        this.entrypoint = checkArgs("entrypoint", Arrays.asList(entrypoint));
        return this;
    }

    /**
     * Adds environment changes, applied in order on top of the image's (or the default) environment:
     * {@code KEY=value} sets or replaces {@code KEY}, a bare {@code KEY} removes it (containerd's
     * {@code WithEnv}).
     */
    public SpecBuilder env(String... entries) {
        for (String e : entries) {
            envChanges.add(checkEnv("env", e));
        }
        return this;
    }

    /** Sets or replaces one variable (an {@link #env} change {@code name=value}). */
    public SpecBuilder envVar(String name, String value) {
        Objects.requireNonNull(value, "value");
        return env(name + "=" + value);
    }

    /**
     * Starts the environment from exactly {@code entries} instead of the image's (or the default);
     * {@link #env} changes apply on top.
     */
    public SpecBuilder replaceEnv(List<String> entries) {
        List<String> copy = new ArrayList<>();
        for (String e : entries) {
            String checked = checkEnv("replaceEnv", e);
            if (!checked.contains("=")) {
                throw invalid("replaceEnv", e, "entries must be KEY=value");
            }
            copy.add(checked);
        }
        this.baseEnv = List.copyOf(copy);
        return this;
    }

    /** The working directory, an absolute path in the container. */
    public SpecBuilder cwd(String cwd) {
        this.cwd = checkAbsolute("cwd", cwd);
        return this;
    }

    /**
     * The user, as an image writes it: {@code uid}, {@code uid:gid}, {@code name}, {@code name:group},
     * {@code uid:group} or {@code name:gid}. Names are resolved against {@link #rootfs}'s
     * {@code /etc/passwd} and {@code /etc/group} when the spec is built; supplementary groups come from
     * {@code /etc/group} membership. See {@link RootfsUsers}.
     */
    public SpecBuilder user(String user) {
        this.user = Objects.requireNonNull(user, "user");
        return this;
    }

    /** The user as numeric ids; the gid is used as given. */
    public SpecBuilder user(long uid, long gid) {
        checkId("uid", uid);
        checkId("gid", gid);
        this.user = uid + ":" + gid;
        return this;
    }

    /** Adds supplementary groups, each a gid or a group name from the rootfs' {@code /etc/group}. */
    public SpecBuilder additionalGroups(String... groups) {
        for (String g : groups) {
            if (g == null || g.isBlank()) {
                throw invalid("additionalGroups", g, "must not be empty");
            }
            additionalGroups.add(g.trim());
        }
        return this;
    }

    /** Gives the process a pseudo-terminal and, unless the env sets one, {@code TERM=xterm}. */
    public SpecBuilder terminal(boolean terminal) {
        this.terminal = terminal;
        return this;
    }

    /** Whether the process may gain privileges through setuid binaries; default true (it may not). */
    public SpecBuilder noNewPrivileges(boolean noNewPrivileges) {
        this.noNewPrivileges = noNewPrivileges;
        return this;
    }

    /**
     * Sets a resource limit, replacing any earlier one of the same type (the default is
     * {@code RLIMIT_NOFILE} 1024/1024).
     *
     * @param type {@code RLIMIT_NOFILE} or {@code nofile}
     * @param soft at most {@code hard}; {@link Rlimit#UNLIMITED} for none
     */
    public SpecBuilder rlimit(String type, long soft, long hard) {
        Objects.requireNonNull(type, "type");
        String upper = type.trim().toUpperCase(Locale.ROOT);
        String name = upper.startsWith("RLIMIT_") ? upper : "RLIMIT_" + upper;
        if (!RLIMIT_TYPES.contains(name)) {
            throw invalid("rlimit", type, "unknown resource; known: " + new TreeSet<>(RLIMIT_TYPES));
        }
        if (Long.compareUnsigned(soft, hard) > 0) {
            throw invalid("rlimit", name + " " + Long.toUnsignedString(soft) + "/" + Long.toUnsignedString(hard),
                    "soft limit above hard limit");
        }
        rlimits.put(name, new Rlimit(name, hard, soft));
        return this;
    }

    /** The OOM killer's score adjustment, -1000 (never kill) to 1000. */
    public SpecBuilder oomScoreAdj(int adj) {
        if (adj < -1000 || adj > 1000) {
            throw invalid("oomScoreAdj", adj, "must be within -1000..1000");
        }
        this.oomScoreAdj = adj;
        return this;
    }

    /**
     * Adds capabilities to the bounding, effective and permitted sets; names with or without
     * {@code CAP_}, or {@link #ALL_CAPABILITIES}. Adds apply after drops, so
     * {@code dropCapabilities("ALL").addCapabilities("NET_BIND_SERVICE")} keeps exactly that one.
     */
    public SpecBuilder addCapabilities(String... capabilities) {
        for (String c : capabilities) {
            if (isAll(c)) {
                addAllCaps = true;
            } else {
                addedCaps.add(capability("addCapabilities", c));
            }
        }
        return this;
    }

    /** Drops capabilities from the sets; names as for {@link #addCapabilities}. */
    public SpecBuilder dropCapabilities(String... capabilities) {
        for (String c : capabilities) {
            if (isAll(c)) {
                dropAllCaps = true;
            } else {
                droppedCaps.add(capability("dropCapabilities", c));
            }
        }
        return this;
    }

    /** A host device to create in the container, with the device cgroup access it gets. */
    private record DeviceMapping(String hostPath, String containerPath, String permissions) {
    }

    /**
     * Creates host device {@code hostPath} (a device node, symlinks followed, or a directory of them) in
     * the container at {@code containerPath} (empty: the host path) and allows it in the device cgroup with
     * {@code permissions}, a non-empty combination of {@code r}, {@code w} and {@code m} (empty:
     * {@code rwm}), as CRI's {@code ContainerConfig.devices} with containerd. A directory's nodes keep their
     * paths relative to it under {@code containerPath}. The host path is read when the spec is built; one
     * that is not there, or holds no device node, fails it.
     */
    public SpecBuilder device(String hostPath, String containerPath, String permissions) {
        if (hostPath == null || !hostPath.startsWith("/")) {
            throw invalid("device", hostPath, "host path must be absolute");
        }
        String target = containerPath == null || containerPath.isEmpty() ? hostPath : containerPath;
        if (!target.startsWith("/")) {
            throw invalid("device", containerPath, "container path must be absolute");
        }
        String access = permissions == null || permissions.isEmpty() ? "rwm" : permissions;
        if (!access.matches("[rwm]{1,3}") || access.chars().distinct().count() != access.length()) {
            throw invalid("device", permissions, "permissions must be a combination of r, w and m");
        }
        deviceMappings.add(new DeviceMapping(hostPath, target, access));
        return this;
    }

    /**
     * A privileged container, like {@code ctr run --privileged}: every capability this JVM's bounding set
     * holds, no masked or read-only paths, {@code /sys} and {@code /sys/fs/cgroup} writable, all devices
     * allowed and the host's device nodes created in {@code /dev}.
     */
    public SpecBuilder privileged(boolean privileged) {
        this.privileged = privileged;
        return this;
    }

    // ---- filesystem ---------------------------------------------------------------------------------

    /**
     * Runs the container without a seccomp filter ({@code --security-opt seccomp=unconfined}). By default a
     * container gets {@link DefaultSeccomp}'s profile for its capabilities; a privileged one gets none.
     */
    public SpecBuilder seccompUnconfined() {
        this.seccompUnconfined = true;
        this.seccompProfile = null;
        return this;
    }

    /** Filters the container's syscalls with {@code profile} instead of the default profile. */
    public SpecBuilder seccompProfile(LinuxSeccomp profile) {
        this.seccompProfile = Objects.requireNonNull(profile, "profile");
        this.seccompUnconfined = false;
        return this;
    }

    /**
     * Filters the container's syscalls with the profile in {@code file}: a JSON object in the OCI
     * {@code linux.seccomp} format.
     *
     * @throws InvalidArgumentException if the file cannot be read or is not such an object
     */
    public SpecBuilder seccompProfile(Path file) {
        byte[] json;
        try {
            json = Files.readAllBytes(file);
        } catch (java.io.IOException e) {
            throw invalid("seccompProfile", file.toString(), "cannot be read: " + e);
        }
        try {
            return seccompProfile(RuntimeSpecJson.parseSeccomp(json));
        } catch (InvalidArgumentException e) {
            throw invalid("seccompProfile", file.toString(), e.getMessage());
        }
    }

    /** The container's hostname (its own UTS namespace), at most 64 characters. */
    public SpecBuilder hostname(String hostname) {
        Objects.requireNonNull(hostname, "hostname");
        if (hostname.isEmpty() || hostname.length() > 64 || !hostname.chars().allMatch(ch -> ch > ' ' && ch < 127)) {
            throw invalid("hostname", hostname, "must be 1..64 printable characters without spaces");
        }
        this.hostname = hostname;
        return this;
    }

    /** {@code root.path}: the rootfs relative to the bundle (default {@code rootfs}) or absolute. */
    public SpecBuilder rootPath(String rootPath) {
        Objects.requireNonNull(rootPath, "rootPath");
        if (rootPath.isBlank()) {
            throw invalid("rootPath", rootPath, "must not be empty");
        }
        this.rootPath = rootPath;
        return this;
    }

    /** Mounts the root filesystem read-only. */
    public SpecBuilder readOnlyRootfs(boolean readOnly) {
        this.readOnlyRootfs = readOnly;
        return this;
    }

    /** Adds a recursive bind mount of host path {@code source} (which must exist) at {@code destination}. */
    public SpecBuilder bindMount(String source, String destination, boolean readOnly) {
        checkAbsolute("bindMount source", source);
        String dest = checkAbsolute("bindMount destination", destination);
        return addMount(new Mount(dest, "bind", source, List.of("rbind", readOnly ? "ro" : "rw")));
    }

    /** Adds a recursive bind mount of host path {@code source} (which must exist) at {@code destination}. */
    public SpecBuilder bindMount(Path source, String destination, boolean readOnly) {
        return bindMount(source.toAbsolutePath().toString(), destination, readOnly);
    }

    /**
     * Adds a tmpfs at {@code destination} with the given mount options ({@code size=64m}, {@code mode=1777},
     * ...), or {@code nosuid,nodev,noexec} when none are given (as {@code docker run --tmpfs}).
     */
    public SpecBuilder tmpfs(String destination, String... options) {
        String dest = checkAbsolute("tmpfs destination", destination);
        List<String> opts = options.length == 0 ? List.of("nosuid", "nodev", "noexec") : List.of(options);
        return addMount(new Mount(dest, "tmpfs", "tmpfs", opts));
    }

    /**
     * Adds any OCI mount. A mount whose destination is one of the default mounts ({@code /dev/shm}, ...)
     * replaces that default in place; others are mounted after the defaults, in the order added.
     */
    public SpecBuilder mount(Mount mount) {
        Objects.requireNonNull(mount, "mount");
        checkAbsolute("mount destination", mount.destination());
        if (mount.type() == null || mount.type().isBlank()) {
            throw invalid("mount type", mount.type(), "mount at " + mount.destination() + " needs a type");
        }
        return addMount(mount.withDestination(normalize(mount.destination())));
    }

    private SpecBuilder addMount(Mount mount) {
        for (Mount m : mounts) {
            if (m.destination().equals(mount.destination())) {
                throw invalid("mount destination", mount.destination(), "already has a mount");
            }
        }
        mounts.add(mount);
        return this;
    }

    // ---- namespaces ---------------------------------------------------------------------------------

    /**
     * Runs the container in the host's network namespace, with the host's {@code /etc/resolv.conf} and
     * {@code /etc/hosts} bound read-only (containerd's WithHostNamespace, WithHostResolvconf,
     * WithHostHostsFile).
     */
    public SpecBuilder hostNetwork(boolean hostNetwork) {
        this.hostNetwork = hostNetwork;
        return this;
    }

    /**
     * Joins an existing namespace instead of creating one, e.g. {@code ("network", "/proc/42/ns/net")};
     * a type that is not in the default set ({@code user}, {@code cgroup}, {@code time}) is added.
     */
    public SpecBuilder joinNamespace(String type, String path) {
        if (!NAMESPACE_TYPES.contains(type)) {
            throw invalid("joinNamespace type", type, "must be one of " + new TreeSet<>(NAMESPACE_TYPES));
        }
        joinedNamespaces.put(type, checkAbsolute("joinNamespace path", path));
        return this;
    }

    // ---- resources ----------------------------------------------------------------------------------

    /** The memory limit in bytes ({@code memory.limit_in_bytes} / {@code memory.max}). */
    public SpecBuilder memoryLimit(long bytes) {
        if (bytes <= 0) {
            throw invalid("memoryLimit", bytes, "must be a positive number of bytes");
        }
        this.memoryLimit = bytes;
        return this;
    }

    /** Memory plus swap in bytes, at least {@link #memoryLimit}; -1 for unlimited swap. */
    public SpecBuilder memorySwap(long bytes) {
        if (bytes <= 0 && bytes != -1) {
            throw invalid("memorySwap", bytes, "must be a positive number of bytes or -1");
        }
        this.memorySwap = bytes;
        return this;
    }

    /** The relative CPU weight ({@code cpu.shares}, 2..262144; 1024 is the default weight). */
    public SpecBuilder cpuShares(long shares) {
        if (shares < 2 || shares > 262_144) {
            throw invalid("cpuShares", shares, "must be within 2..262144");
        }
        this.cpuShares = shares;
        return this;
    }

    /** A CFS quota: {@code quota} microseconds of CPU time per {@code period} microseconds. */
    public SpecBuilder cpuQuota(long quotaMicros, long periodMicros) {
        if (quotaMicros < 1000) {
            throw invalid("cpuQuota", quotaMicros, "must be at least 1000 microseconds");
        }
        if (periodMicros < 1000 || periodMicros > 1_000_000) {
            throw invalid("cpuQuota period", periodMicros, "must be within 1000..1000000 microseconds");
        }
        this.cpuQuota = quotaMicros;
        this.cpuPeriod = periodMicros;
        return this;
    }

    /**
     * A CPU limit as a number of CPUs ({@code "1.5"}), turned into a quota over a period of
     * {@value #DEFAULT_CPU_PERIOD} microseconds as {@code ctr run --cpus} does.
     */
    public SpecBuilder cpus(String decimal) {
        Objects.requireNonNull(decimal, "decimal");
        BigDecimal value;
        try {
            value = new BigDecimal(decimal.trim());
        } catch (NumberFormatException e) {
            throw invalid("cpus", decimal, "not a decimal number");
        }
        if (value.multiply(BigDecimal.valueOf(DEFAULT_CPU_PERIOD)).compareTo(BigDecimal.valueOf(1000)) < 0) {
            throw invalid("cpus", decimal, "must be at least 0.01");
        }
        this.cpus = value;
        return this;
    }

    /** As {@link #cpus(String)}. */
    public SpecBuilder cpus(double cpus) {
        if (!Double.isFinite(cpus)) {
            throw invalid("cpus", cpus, "not a finite number");
        }
        return cpus(BigDecimal.valueOf(cpus).toPlainString());
    }

    /** The CPUs the container may run on, e.g. {@code 0-3,6} ({@code cpuset.cpus}). */
    public SpecBuilder cpusetCpus(String cpuList) {
        this.cpusetCpus = checkCpuList("cpusetCpus", cpuList);
        return this;
    }

    /** The memory nodes the container may use, e.g. {@code 0} ({@code cpuset.mems}). */
    public SpecBuilder cpusetMems(String nodeList) {
        this.cpusetMems = checkCpuList("cpusetMems", nodeList);
        return this;
    }

    /** The most tasks (processes and threads) the container may have; -1 for no limit. */
    public SpecBuilder pidsLimit(long limit) {
        if (limit <= 0 && limit != -1) {
            throw invalid("pidsLimit", limit, "must be positive or -1");
        }
        this.pidsLimit = limit;
        return this;
    }

    /**
     * The container's cgroup: an absolute path (default {@code /<namespace>/<id>}) or, with runc's systemd
     * driver, {@code slice:prefix:name}.
     */
    public SpecBuilder cgroupsPath(String path) {
        Objects.requireNonNull(path, "path");
        if (!(path.startsWith("/") || SYSTEMD_CGROUP.matcher(path).matches()) || path.contains("\0")) {
            throw invalid("cgroupsPath", path, "must be an absolute path or slice:prefix:name");
        }
        this.cgroupsPath = path;
        return this;
    }

    /**
     * Sets a namespaced kernel parameter. runc only allows those that live in the container's own
     * namespaces: IPC ({@code kernel.msg*}, {@code kernel.sem}, {@code kernel.shm*}, {@code fs.mqueue.*}),
     * UTS ({@code kernel.domainname}) and network ({@code net.*}, not with {@link #hostNetwork}).
     */
    public SpecBuilder sysctl(String key, String value) {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(value, "value");
        if (!SYSCTL_KEY.matcher(key).matches()) {
            throw invalid("sysctl", key, "not a sysctl name");
        }
        String dotted = key.replace('/', '.');
        if (dotted.equals("kernel.hostname")) {
            throw invalid("sysctl", key, "set the hostname with hostname(...) instead");
        }
        if (!(IPC_SYSCTLS.contains(dotted) || dotted.startsWith("fs.mqueue.") || dotted.startsWith("net.")
                || dotted.equals("kernel.domainname"))) {
            throw invalid("sysctl", key, "not namespaced, so runc refuses to set it in a container");
        }
        sysctls.put(key, value);
        return this;
    }

    /** Adds an annotation, replacing one with the same key. */
    public SpecBuilder annotation(String key, String value) {
        Objects.requireNonNull(value, "value");
        if (key == null || key.isEmpty()) {
            throw invalid("annotation", key, "key must not be empty");
        }
        annotations.put(key, value);
        return this;
    }

    /** Adds annotations, replacing those with the same keys. */
    public SpecBuilder annotations(Map<String, String> annotations) {
        annotations.forEach(this::annotation);
        return this;
    }

    /**
     * Applies {@code change} to the finished spec, after every option and check: an escape hatch for
     * settings without an option here. Changes are applied in the order added and are not checked.
     */
    public SpecBuilder customize(UnaryOperator<Spec> change) {
        customizers.add(Objects.requireNonNull(change, "change"));
        return this;
    }

    // ---- build --------------------------------------------------------------------------------------

    /**
     * The spec.
     *
     * @throws InvalidArgumentException if the options do not make a runnable container: no args, a user
     *     or group not in the rootfs, a bind source that does not exist, swap without or below the memory
     *     limit, both {@code cpus} and {@code cpuQuota}, a {@code net.*} sysctl with the host network, ...
     */
    public Spec build() {
        Spec base = DefaultSpec.create(namespace, containerId);
        Spec spec = base.toBuilder()
                .root(new Root(rootPath, readOnlyRootfs ? Boolean.TRUE : null))
                .hostname(hostname)
                .process(buildProcess(base.process()))
                .mounts(buildMounts(base.mounts()))
                .annotations(annotations.isEmpty() ? null : annotations)
                .linux(buildLinux(base.linux(), capabilitySet()))
                .build();
        for (UnaryOperator<Spec> change : customizers) {
            spec = Objects.requireNonNull(change.apply(spec), "customize returned null");
        }
        return spec;
    }

    /** {@link #build()} as {@code config.json} bytes. */
    public byte[] buildJson() {
        return RuntimeSpecJson.toJson(build());
    }

    private Process buildProcess(Process base) {
        List<String> env = mergeEnv(baseEnv != null ? baseEnv
                : image != null && !image.env().isEmpty() ? image.env() : base.env(), envChanges);
        if (terminal && env.stream().noneMatch(e -> e.startsWith("TERM="))) {
            env = new ArrayList<>(env);
            env.add("TERM=xterm");
        }

        List<String> argv = processArgs();
        if (argv.isEmpty()) {
            throw new InvalidArgumentException("args: the process has no command; set args(...), or use an image "
                    + "config with an Entrypoint or Cmd");
        }

        String dir = cwd != null ? cwd
                : image != null && !image.workingDir().isEmpty() ? checkAbsolute("image WorkingDir", image.workingDir())
                : "/";

        String userString = user != null ? user : image != null ? image.user() : "";
        RootfsUsers.UserFiles files = userFiles != null ? userFiles
                : rootfs != null ? RootfsUsers.UserFiles.read(rootfs) : null;
        User resolved = RootfsUsers.resolveWith(files, userString);
        if (!additionalGroups.isEmpty()) {
            Set<Long> gids = new LinkedHashSet<>(resolved.additionalGids());
            gids.addAll(RootfsUsers.groupIdsWith(files, additionalGroups));
            resolved = resolved.withAdditionalGids(List.copyOf(gids));
        }

        Map<String, Rlimit> limits = new LinkedHashMap<>();
        base.rlimits().forEach(r -> limits.put(r.type(), r));
        limits.putAll(rlimits);

        return base.toBuilder()
                .terminal(terminal ? Boolean.TRUE : null)
                .user(resolved)
                .args(argv)
                .env(env)
                .cwd(dir)
                .capabilities(capabilities(capabilitySet()))
                .rlimits(List.copyOf(limits.values()))
                .noNewPrivileges(noNewPrivileges ? Boolean.TRUE : null)
                .oomScoreAdj(oomScoreAdj)
                .build();
    }

    private List<String> processArgs() {
        if (args != null) {
            return args;
        }
        List<String> ep = entrypoint != null ? entrypoint : image != null ? image.entrypoint() : List.of();
        List<String> command = cmd != null ? cmd
                : entrypoint == null && image != null ? image.cmd() : List.of();
        List<String> argv = new ArrayList<>(ep);
        argv.addAll(command);
        return argv;
    }

    private Set<Capability> capabilitySet() {
        Optional<Set<Capability>> bounding = Capability.currentBoundingSet();
        Set<Capability> all = bounding.orElse(EnumSet.allOf(Capability.class));
        Set<Capability> caps = new LinkedHashSet<>(); // keeps containerd's order for the defaults
        if (privileged) {
            caps.addAll(all);
        } else {
            DefaultSpec.CAPABILITIES.forEach(c -> caps.add(Capability.parse(c)));
        }
        if (dropAllCaps) {
            caps.clear();
        }
        caps.removeAll(droppedCaps);
        if (addAllCaps) {
            caps.addAll(all);
        }
        for (Capability c : addedCaps) {
            if (bounding.isPresent() && !bounding.get().contains(c)) {
                throw invalid("addCapabilities", c.specName(), "not in this process's bounding set (CapBnd), "
                        + "so no container started from it can have it");
            }
            caps.add(c);
        }
        return caps;
    }

    private static Capabilities capabilities(Set<Capability> caps) {
        List<String> names = caps.stream().map(Capability::specName).toList();
        return new Capabilities(names, names, List.of(), names, List.of());
    }

    private LinuxSeccomp seccomp(Set<Capability> caps) {
        if (privileged || seccompUnconfined) {
            return null;
        }
        return seccompProfile != null ? seccompProfile : DefaultSeccomp.forCapabilities(caps);
    }

    private List<Mount> buildMounts(List<Mount> defaults) {
        List<Mount> result = new ArrayList<>();
        List<Mount> extra = new ArrayList<>(mounts);
        for (Mount m : defaults) {
            Mount replacement = null;
            for (Mount e : extra) {
                if (e.destination().equals(m.destination())) {
                    replacement = e;
                }
            }
            if (replacement != null) {
                extra.remove(replacement);
                result.add(replacement);
            } else if (privileged && (m.type().equals("sysfs") || m.type().equals("cgroup"))) {
                result.add(m.withOptions(m.options().stream().map(o -> o.equals("ro") ? "rw" : o).toList()));
            } else {
                result.add(m);
            }
        }
        for (Mount m : extra) {
            if (m.type().equals("bind") && !Files.exists(Path.of(m.source()))) {
                throw invalid("bindMount source", m.source(), "does not exist on the host");
            }
            result.add(m);
        }
        if (hostNetwork) {
            for (String file : List.of("/etc/resolv.conf", "/etc/hosts")) {
                boolean taken = result.stream().anyMatch(m -> m.destination().equals(file));
                if (!taken && Files.exists(Path.of(file))) {
                    result.add(new Mount(file, "bind", file, List.of("rbind", "ro")));
                }
            }
        }
        return result;
    }

    private Linux buildLinux(Linux base, Set<Capability> caps) {
        List<LinuxNamespace> namespaces = new ArrayList<>();
        for (LinuxNamespace ns : base.namespaces()) {
            if (hostNetwork && ns.type().equals(LinuxNamespace.NETWORK)) {
                if (joinedNamespaces.containsKey(LinuxNamespace.NETWORK)) {
                    throw invalid("hostNetwork", "true", "conflicts with joinNamespace(\"network\", "
                            + joinedNamespaces.get(LinuxNamespace.NETWORK) + ")");
                }
                continue;
            }
            namespaces.add(ns);
        }
        for (Map.Entry<String, String> join : joinedNamespaces.entrySet()) {
            if (!Files.exists(Path.of(join.getValue()))) {
                throw invalid("joinNamespace path", join.getValue(), "does not exist");
            }
            LinuxNamespace joined = new LinuxNamespace(join.getKey(), join.getValue());
            int index = -1;
            for (int i = 0; i < namespaces.size(); i++) {
                if (namespaces.get(i).type().equals(join.getKey())) {
                    index = i;
                }
            }
            if (index >= 0) {
                namespaces.set(index, joined);
            } else {
                namespaces.add(joined);
            }
        }
        boolean ownNetwork = namespaces.stream().anyMatch(ns -> ns.type().equals(LinuxNamespace.NETWORK));
        for (String key : sysctls.keySet()) {
            if (key.replace('/', '.').startsWith("net.") && !ownNetwork) {
                throw invalid("sysctl", key, "net.* sysctls need the container's own network namespace, "
                        + "not the host's");
            }
        }

        List<LinuxDevice> devices = new ArrayList<>(privileged ? HostDevices.list(Path.of("/dev"))
                : base.devices() == null ? List.of() : base.devices());
        for (DeviceMapping m : deviceMappings) {
            List<LinuxDevice> nodes = HostDevices.mapped(Path.of(m.hostPath()), m.containerPath());
            if (nodes.isEmpty()) {
                throw invalid("device", m.hostPath(), "is not a device node (or a directory holding some) on this host");
            }
            for (LinuxDevice d : nodes) {
                devices.removeIf(existing -> existing.path().equals(d.path()));
                devices.add(d);
            }
        }
        return base.toBuilder()
                .namespaces(namespaces)
                .maskedPaths(privileged ? List.of() : base.maskedPaths())
                .readonlyPaths(privileged ? List.of() : base.readonlyPaths())
                .seccomp(seccomp(caps))
                .devices(devices)
                .cgroupsPath(cgroupsPath != null ? cgroupsPath : base.cgroupsPath())
                .sysctl(sysctls)
                .resources(buildResources(base.resources()))
                .build();
    }

    private LinuxResources buildResources(LinuxResources base) {
        if (memorySwap != null) {
            if (memoryLimit == null) {
                throw invalid("memorySwap", memorySwap, "needs memoryLimit as well");
            }
            if (memorySwap != -1 && memorySwap < memoryLimit) {
                throw invalid("memorySwap", memorySwap, "is memory plus swap, so must be at least memoryLimit "
                        + memoryLimit);
            }
        }
        if (cpus != null && cpuQuota != null) {
            throw invalid("cpus", cpus.toPlainString(), "conflicts with cpuQuota; set one of them");
        }
        LinuxMemory memory = memoryLimit == null ? null
                : LinuxMemory.builder().limit(memoryLimit).swap(memorySwap).build();
        Long quota = cpuQuota;
        Long period = cpuPeriod;
        if (cpus != null) {
            period = DEFAULT_CPU_PERIOD;
            quota = cpus.multiply(BigDecimal.valueOf(DEFAULT_CPU_PERIOD)).setScale(0, RoundingMode.DOWN)
                    .longValueExact();
        }
        LinuxCpu cpu = cpuShares == null && quota == null && cpusetCpus == null && cpusetMems == null ? null
                : LinuxCpu.builder().shares(cpuShares).quota(quota).period(period).cpus(cpusetCpus)
                        .mems(cpusetMems).build();
        List<LinuxDeviceCgroup> deviceRules = privileged
                ? List.of(new LinuxDeviceCgroup(true, null, null, null, "rwm"))
                : new ArrayList<>(base.devices() == null ? List.<LinuxDeviceCgroup>of() : base.devices());
        if (!privileged) {
            for (DeviceMapping m : deviceMappings) {
                for (LinuxDevice d : HostDevices.mapped(Path.of(m.hostPath()), m.containerPath())) {
                    deviceRules.add(new LinuxDeviceCgroup(true, d.type(), d.major(), d.minor(), m.permissions()));
                }
            }
        }
        return base.toBuilder()
                .devices(deviceRules)
                .memory(memory)
                .cpu(cpu)
                .pids(pidsLimit == null ? null : new LinuxPids(pidsLimit))
                .build();
    }

    // ---- helpers ------------------------------------------------------------------------------------

    /**
     * {@code base} with {@code changes} applied in order: {@code KEY=value} replaces {@code KEY} in place
     * or appends it, a bare {@code KEY} removes it (containerd's replaceOrAppendEnvValues).
     */
    static List<String> mergeEnv(List<String> base, List<String> changes) {
        Map<String, String> byKey = new LinkedHashMap<>();
        for (String e : base) {
            byKey.put(envKey(e), e);
        }
        for (String change : changes) {
            if (change.contains("=")) {
                byKey.put(envKey(change), change);
            } else {
                byKey.remove(change);
            }
        }
        return List.copyOf(byKey.values());
    }

    private static String envKey(String entry) {
        int eq = entry.indexOf('=');
        return eq < 0 ? entry : entry.substring(0, eq);
    }

    private static String checkEnv(String option, String entry) {
        if (entry == null || entry.isEmpty() || entry.startsWith("=")) {
            throw invalid(option, entry, "needs a variable name (KEY=value, or KEY to unset)");
        }
        if (entry.indexOf('\0') >= 0) {
            throw invalid(option, entry.replace("\0", "\\0"), "contains a NUL character");
        }
        return entry;
    }

    private static List<String> checkArgs(String option, List<String> argv) {
        Objects.requireNonNull(argv, option);
        if (option.equals("args") && argv.isEmpty()) {
            throw invalid(option, "[]", "the process needs at least one argument");
        }
        for (String a : argv) {
            if (a == null || a.indexOf('\0') >= 0) {
                throw invalid(option, argv, "arguments must be non-null and free of NUL characters");
            }
        }
        if (!argv.isEmpty() && argv.get(0).isEmpty()) {
            throw invalid(option, argv, "the program (first argument) is empty");
        }
        return List.copyOf(argv);
    }

    private static String checkAbsolute(String option, String path) {
        if (path == null || !path.startsWith("/") || path.indexOf('\0') >= 0) {
            throw invalid(option, path, "must be an absolute path");
        }
        for (String part : path.split("/")) {
            if (part.equals("..")) {
                throw invalid(option, path, "must not contain '..'");
            }
        }
        return normalize(path);
    }

    private static String normalize(String path) {
        String collapsed = Arrays.stream(path.split("/")).filter(p -> !p.isEmpty() && !p.equals("."))
                .collect(Collectors.joining("/"));
        return "/" + collapsed;
    }

    private static String checkCpuList(String option, String list) {
        if (list == null || !CPU_LIST.matcher(list).matches()) {
            throw invalid(option, list, "must be a list like 0-3,6");
        }
        return list;
    }

    private static void checkId(String option, long id) {
        if (id < 0 || id > 0xFFFF_FFFFL) {
            throw invalid(option, id, "must be within 0..4294967295");
        }
    }

    private static boolean isAll(String capability) {
        return capability != null && capability.trim().equalsIgnoreCase(ALL_CAPABILITIES);
    }

    private static Capability capability(String option, String name) {
        return Capability.find(name).orElseThrow(() -> invalid(option, name,
                "unknown capability; known are " + Arrays.stream(Capability.values()).map(Capability::specName)
                        .collect(Collectors.joining(", "))));
    }

    private static InvalidArgumentException invalid(String option, Object value, String reason) {
        return new InvalidArgumentException("invalid " + option + " " + quote(value) + ": " + reason);
    }

    private static String quote(Object value) {
        return value instanceof String ? "\"" + value + "\"" : String.valueOf(value);
    }
}

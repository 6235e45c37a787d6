package dev.berth.runtime.testing;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

/**
 * A minimal valid runc {@code config.json}, written as a Jackson tree until Berth's spec builder lands:
 * the usual namespaces and mounts, a read-only rootfs, no capabilities beyond a small default set.
 */
public final class RuncSpec {
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final List<String> CAPS = List.of("CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER",
            "CAP_MKNOD", "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
            "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE");

    private final List<String> args;
    private String rootPath = "rootfs";
    private boolean readonly = true;
    private final List<String> env = new ArrayList<>(List.of("PATH=/usr/sbin:/usr/bin:/sbin:/bin"));
    private String cwd = "/";
    private int uid;
    private int gid;
    private Long memoryLimit;
    private String cgroupsPath;
    private boolean pidNamespace = true;
    private boolean terminal;
    private boolean resources = true;
    private final java.util.Map<String, String> annotations = new java.util.TreeMap<>();

    private RuncSpec(List<String> args) {
        this.args = List.copyOf(args);
    }

    public static RuncSpec of(String... args) {
        return new RuncSpec(List.of(args));
    }

    /** Absolute rootfs directory, or "rootfs" (relative to the bundle) when the shim mounts it. */
    public RuncSpec root(String path) {
        this.rootPath = path;
        return this;
    }

    public RuncSpec env(String kv) {
        env.add(kv);
        return this;
    }

    public RuncSpec cwd(String cwd) {
        this.cwd = cwd;
        return this;
    }

    public RuncSpec user(int uid, int gid) {
        this.uid = uid;
        this.gid = gid;
        return this;
    }

    public RuncSpec memoryLimit(long bytes) {
        this.memoryLimit = bytes;
        return this;
    }

    /** No {@code linux.resources} at all (crun in a private cgroup2 namespace cannot apply any). */
    public RuncSpec noResources() {
        this.resources = false;
        return this;
    }

    public RuncSpec terminal() {
        this.terminal = true;
        return this;
    }

    public RuncSpec cgroupsPath(String path) {
        this.cgroupsPath = path;
        return this;
    }

    /** Share the host's pid namespace (the process is then not an init, so default signal actions apply). */
    public RuncSpec hostPid() {
        this.pidNamespace = false;
        return this;
    }

    public RuncSpec annotation(String key, String value) {
        annotations.put(key, value);
        return this;
    }

    public byte[] toJson() {
        ObjectNode spec = JSON.createObjectNode();
        spec.put("ociVersion", "1.0.2");
        ObjectNode process = spec.putObject("process");
        process.put("terminal", terminal);
        process.putObject("user").put("uid", uid).put("gid", gid);
        strings(process.putArray("args"), args);
        strings(process.putArray("env"), env);
        process.put("cwd", cwd);
        ObjectNode caps = process.putObject("capabilities");
        for (String set : List.of("bounding", "effective", "permitted")) {
            strings(caps.putArray(set), CAPS);
        }
        process.putArray("rlimits").addObject().put("type", "RLIMIT_NOFILE").put("hard", 1024).put("soft", 1024);
        process.put("noNewPrivileges", true);
        spec.putObject("root").put("path", rootPath).put("readonly", readonly);
        spec.put("hostname", "berth");
        if (!annotations.isEmpty()) {
            ObjectNode a = spec.putObject("annotations");
            annotations.forEach(a::put);
        }
        ArrayNode mounts = spec.putArray("mounts");
        mount(mounts, "/proc", "proc", "proc");
        mount(mounts, "/dev", "tmpfs", "tmpfs", "nosuid", "strictatime", "mode=755", "size=65536k");
        mount(mounts, "/dev/pts", "devpts", "devpts", "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5");
        mount(mounts, "/dev/shm", "tmpfs", "shm", "nosuid", "noexec", "nodev", "mode=1777", "size=65536k");
        mount(mounts, "/dev/mqueue", "mqueue", "mqueue", "nosuid", "noexec", "nodev");
        mount(mounts, "/sys", "sysfs", "sysfs", "nosuid", "noexec", "nodev", "ro");
        mount(mounts, "/tmp", "tmpfs", "tmpfs", "nosuid", "nodev", "mode=1777");
        ObjectNode linux = spec.putObject("linux");
        ArrayNode ns = linux.putArray("namespaces");
        for (String type : List.of("pid", "ipc", "uts", "mount", "network")) {
            if (!type.equals("pid") || pidNamespace) {
                ns.addObject().put("type", type);
            }
        }
        if (cgroupsPath != null) {
            linux.put("cgroupsPath", cgroupsPath);
        }
        if (this.resources) {
            ObjectNode resources = linux.putObject("resources");
            resources.putArray("devices").addObject().put("allow", false).put("access", "rwm");
            if (memoryLimit != null) {
                resources.putObject("memory").put("limit", memoryLimit);
            }
        }
        strings(linux.putArray("maskedPaths"), List.of("/proc/kcore", "/proc/keys", "/proc/timer_list",
                "/sys/firmware"));
        strings(linux.putArray("readonlyPaths"), List.of("/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
                "/proc/sysrq-trigger"));
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsString(spec).getBytes(StandardCharsets.UTF_8);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static void strings(ArrayNode array, List<String> values) {
        values.forEach(array::add);
    }

    private static void mount(ArrayNode mounts, String dest, String type, String source, String... options) {
        ObjectNode m = mounts.addObject().put("destination", dest).put("type", type).put("source", source);
        if (options.length > 0) {
            strings(m.putArray("options"), List.of(options));
        }
    }
}

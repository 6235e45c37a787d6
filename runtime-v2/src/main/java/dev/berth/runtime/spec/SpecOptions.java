package dev.berth.runtime.spec;

import dev.berth.api.InvalidArgumentException;
import dev.berth.api.oci.runtime.Mount;
import dev.berth.api.oci.runtime.Spec;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.function.UnaryOperator;

/**
 * The spec options, one factory per {@link SpecBuilder} setting and named as it: containerd's
 * {@code oci.With...} functions. {@code SpecOptions.memoryLimit(64 << 20)} is the option that calls
 * {@code memoryLimit(64 << 20)} on the builder it is applied to; see that method for what it does.
 *
 * <p>Each factory checks its values when called, by applying the option to a scratch builder, so a
 * bad value fails where it is written with the builder's {@link InvalidArgumentException} (naming the
 * option); checks that need other options or the rootfs still run when the spec is built. Options hold
 * no mutable state and are thread-safe.
 */
public final class SpecOptions {
    private static final String CHECK_ID = "spec-option-check";

    private SpecOptions() {
    }

    /** {@code option}, after checking its values against a scratch builder. */
    private static SpecOption checked(SpecOption option) {
        option.apply(SpecBuilder.defaults(CHECK_ID));
        return option;
    }

    /** A private copy that keeps nulls, so the builder's check reports them (List.copyOf would throw NPE). */
    private static List<String> copy(List<String> list) {
        return Collections.unmodifiableList(new ArrayList<>(list));
    }

    // ---- process ------------------------------------------------------------------------------------

    /** {@link SpecBuilder#args(List)}: the whole argv, replacing the image's entrypoint and command. */
    public static SpecOption args(List<String> args) {
        List<String> copy = copy(Objects.requireNonNull(args, "args"));
        return checked(s -> s.args(copy));
    }

    /** {@link SpecBuilder#args(String...)}. */
    public static SpecOption args(String... args) {
        return args(Arrays.asList(args));
    }

    /** {@link SpecBuilder#cmd}: replaces the image's {@code Cmd}, keeping its {@code Entrypoint}. */
    public static SpecOption cmd(String... cmd) {
        String[] copy = cmd.clone();
        return checked(s -> s.cmd(copy));
    }

    /** {@link SpecBuilder#entrypoint}. */
    public static SpecOption entrypoint(String... entrypoint) {
        String[] copy = entrypoint.clone();
        return checked(s -> s.entrypoint(copy));
    }

    /** {@link SpecBuilder#env}: adds {@code KEY=value} (set) or {@code KEY} (unset) changes, in order. */
    public static SpecOption env(String... entries) {
        String[] copy = entries.clone();
        return checked(s -> s.env(copy));
    }

    /** {@link SpecBuilder#env}, from a list. */
    public static SpecOption env(List<String> entries) {
        return env(entries.toArray(String[]::new));
    }

    /** {@link SpecBuilder#envVar}: sets one variable. */
    public static SpecOption envVar(String name, String value) {
        return checked(s -> s.envVar(name, value));
    }

    /** {@link SpecBuilder#replaceEnv}. */
    public static SpecOption replaceEnv(List<String> entries) {
        List<String> copy = copy(Objects.requireNonNull(entries, "entries"));
        return checked(s -> s.replaceEnv(copy));
    }

    /** {@link SpecBuilder#cwd}. */
    public static SpecOption cwd(String dir) {
        return checked(s -> s.cwd(dir));
    }

    /** {@link SpecBuilder#user(String)}: {@code uid}, {@code uid:gid}, {@code name}, {@code name:group}, ... */
    public static SpecOption user(String user) {
        return checked(s -> s.user(user));
    }

    /** {@link SpecBuilder#user(long, long)}. */
    public static SpecOption user(long uid, long gid) {
        return checked(s -> s.user(uid, gid));
    }

    /** {@link SpecBuilder#additionalGroups}. */
    public static SpecOption additionalGroups(String... groups) {
        String[] copy = groups.clone();
        return checked(s -> s.additionalGroups(copy));
    }

    /** {@link SpecBuilder#terminal}: a pseudo-terminal for the process ({@code ctr run -t}). */
    public static SpecOption terminal(boolean terminal) {
        return s -> s.terminal(terminal);
    }

    /** {@link SpecBuilder#noNewPrivileges}. */
    public static SpecOption noNewPrivileges(boolean noNewPrivileges) {
        return s -> s.noNewPrivileges(noNewPrivileges);
    }

    /** {@link SpecBuilder#rlimit}. */
    public static SpecOption rlimit(String type, long soft, long hard) {
        return checked(s -> s.rlimit(type, soft, hard));
    }

    /** {@link SpecBuilder#oomScoreAdj}. */
    public static SpecOption oomScoreAdj(int adj) {
        return checked(s -> s.oomScoreAdj(adj));
    }

    /** {@link SpecBuilder#addCapabilities}. */
    public static SpecOption addCapabilities(String... capabilities) {
        String[] copy = capabilities.clone();
        return checked(s -> s.addCapabilities(copy));
    }

    /** {@link SpecBuilder#dropCapabilities}. */
    public static SpecOption dropCapabilities(String... capabilities) {
        String[] copy = capabilities.clone();
        return checked(s -> s.dropCapabilities(copy));
    }

    /** {@link SpecBuilder#privileged}. */
    public static SpecOption privileged(boolean privileged) {
        return s -> s.privileged(privileged);
    }

    /** {@link SpecBuilder#seccompUnconfined()}: no seccomp filter (the default is Docker's profile). */
    public static SpecOption seccompUnconfined() {
        return SpecBuilder::seccompUnconfined;
    }

    /** {@link SpecBuilder#seccompProfile(Path)}: the OCI {@code linux.seccomp} profile in {@code file}. */
    public static SpecOption seccompProfile(Path file) {
        Objects.requireNonNull(file, "file");
        return checked(s -> s.seccompProfile(file));
    }

    // ---- filesystem ---------------------------------------------------------------------------------

    /** {@link SpecBuilder#hostname}. */
    public static SpecOption hostname(String hostname) {
        return checked(s -> s.hostname(hostname));
    }

    /** {@link SpecBuilder#rootPath}. */
    public static SpecOption rootPath(String rootPath) {
        return checked(s -> s.rootPath(rootPath));
    }

    /** {@link SpecBuilder#readOnlyRootfs}. */
    public static SpecOption readOnlyRootfs(boolean readOnly) {
        return s -> s.readOnlyRootfs(readOnly);
    }

    /** {@link SpecBuilder#bindMount(Path, String, boolean)}: adds a bind mount of a host path. */
    public static SpecOption bindMount(Path source, String destination, boolean readOnly) {
        Objects.requireNonNull(source, "source");
        return checked(s -> s.bindMount(source, destination, readOnly));
    }

    /** {@link SpecBuilder#bindMount(String, String, boolean)}. */
    public static SpecOption bindMount(String source, String destination, boolean readOnly) {
        return checked(s -> s.bindMount(source, destination, readOnly));
    }

    /** {@link SpecBuilder#tmpfs}. */
    public static SpecOption tmpfs(String destination, String... options) {
        String[] copy = options.clone();
        return checked(s -> s.tmpfs(destination, copy));
    }

    /** {@link SpecBuilder#mount}: adds any OCI mount. */
    public static SpecOption mount(Mount mount) {
        return checked(s -> s.mount(mount));
    }

    // ---- namespaces ---------------------------------------------------------------------------------

    /** {@link SpecBuilder#hostNetwork}. */
    public static SpecOption hostNetwork(boolean hostNetwork) {
        return s -> s.hostNetwork(hostNetwork);
    }

    /** {@link SpecBuilder#joinNamespace}. */
    public static SpecOption joinNamespace(String type, String path) {
        return checked(s -> s.joinNamespace(type, path));
    }

    // ---- resources ----------------------------------------------------------------------------------

    /** {@link SpecBuilder#memoryLimit}: bytes. */
    public static SpecOption memoryLimit(long bytes) {
        return checked(s -> s.memoryLimit(bytes));
    }

    /** {@link SpecBuilder#memorySwap}. */
    public static SpecOption memorySwap(long bytes) {
        return checked(s -> s.memorySwap(bytes));
    }

    /** {@link SpecBuilder#cpuShares}. */
    public static SpecOption cpuShares(long shares) {
        return checked(s -> s.cpuShares(shares));
    }

    /** {@link SpecBuilder#cpuQuota}. */
    public static SpecOption cpuQuota(long quotaMicros, long periodMicros) {
        return checked(s -> s.cpuQuota(quotaMicros, periodMicros));
    }

    /** {@link SpecBuilder#cpus(String)}: a number of CPUs such as {@code "1.5"}. */
    public static SpecOption cpus(String decimal) {
        return checked(s -> s.cpus(decimal));
    }

    /** {@link SpecBuilder#cpusetCpus}. */
    public static SpecOption cpusetCpus(String cpuList) {
        return checked(s -> s.cpusetCpus(cpuList));
    }

    /** {@link SpecBuilder#cpusetMems}. */
    public static SpecOption cpusetMems(String nodeList) {
        return checked(s -> s.cpusetMems(nodeList));
    }

    /** {@link SpecBuilder#pidsLimit}. */
    public static SpecOption pidsLimit(long limit) {
        return checked(s -> s.pidsLimit(limit));
    }

    /** {@link SpecBuilder#cgroupsPath}. */
    public static SpecOption cgroupsPath(String path) {
        return checked(s -> s.cgroupsPath(path));
    }

    /** {@link SpecBuilder#sysctl}. */
    public static SpecOption sysctl(String key, String value) {
        return checked(s -> s.sysctl(key, value));
    }

    /** {@link SpecBuilder#annotation}. */
    public static SpecOption annotation(String key, String value) {
        return checked(s -> s.annotation(key, value));
    }

    /** {@link SpecBuilder#device}: a host device node in the container, allowed with {@code permissions}. */
    public static SpecOption device(String hostPath, String containerPath, String permissions) {
        return checked(s -> s.device(hostPath, containerPath, permissions));
    }

    /**
     * Runs the task in the shim of {@code group}: the first task of a namespace naming the group starts the
     * shim, the others join it (the runc shim's {@code io.containerd.runc.v2.group} annotation; a CRI pod's
     * tasks are grouped by {@code io.kubernetes.cri.sandbox-id} the same way). The shim outlives the runtime
     * that started it and exits with the delete of the group's last task. Name the group after its first
     * task (as a pod's sandbox) to have the shim's command line name that task.
     */
    public static SpecOption shimGroup(String group) {
        if (group == null || group.isBlank() || group.contains("/") || group.contains("\0")) {
            throw new InvalidArgumentException("shim group \"" + group
                    + "\" must be a non-blank name without '/' or NUL");
        }
        return annotation("io.containerd.runc.v2.group", group);
    }

    /** {@link SpecBuilder#annotations}. */
    public static SpecOption annotations(Map<String, String> annotations) {
        Map<String, String> copy = Collections.unmodifiableMap(new LinkedHashMap<>(annotations));
        return checked(s -> s.annotations(copy));
    }

    /** {@link SpecBuilder#customize}: a change to the finished spec, unchecked. */
    public static SpecOption customize(UnaryOperator<Spec> change) {
        Objects.requireNonNull(change, "change");
        return s -> s.customize(change);
    }
}

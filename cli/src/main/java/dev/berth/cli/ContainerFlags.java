package dev.berth.cli;

import dev.berth.ContainerOption;
import dev.berth.ContainerOptions;
import dev.berth.RunOptions;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.oci.runtime.Mount;
import dev.berth.api.task.RuncOptions;
import dev.berth.runtime.spec.SpecOption;
import dev.berth.runtime.spec.SpecOptions;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Locale;
import picocli.CommandLine.Option;

/** The container options {@code run} and {@code containers create} share, as ctr spells them. */
final class ContainerFlags {
    @Option(names = {"-e", "--env"}, paramLabel = "K=V", description = "Set an environment variable")
    List<String> env = new ArrayList<>();

    @Option(names = "--mount", paramLabel = "SPEC",
            description = "Add a mount: type=bind,src=/host,dst=/ctr,options=rbind:ro")
    List<String> mounts = new ArrayList<>();

    @Option(names = "--net-host", description = "Use the host's network namespace")
    boolean netHost;

    @Option(names = "--net", paramLabel = "MODE",
            description = "Network: a network name (default: Berth's bridge network), host, none (the default) or container:ID")
    String net;

    @Option(names = {"-p", "--publish"}, paramLabel = "[IP:][HOST:]PORT[/udp]",
            description = "Publish a container port on the host (127.0.0.1 unless an IP is given; no HOST: Berth picks one)")
    List<String> publish = new ArrayList<>();

    @Option(names = "--alias", paramLabel = "NAME", description = "Another name peers on the network reach the container by")
    List<String> aliases = new ArrayList<>();

    @Option(names = {"--memory", "--memory-limit"}, paramLabel = "N",
            description = "Memory limit in bytes (suffixes k, m, g allowed)")
    String memory;

    @Option(names = {"-u", "--user"}, paramLabel = "USER", description = "uid[:gid] or name[:group]")
    String user;

    @Option(names = "--cwd", paramLabel = "DIR", description = "Working directory")
    String cwd;

    @Option(names = "--hostname", paramLabel = "NAME", description = "Hostname (default: the container id)")
    String hostname;

    @Option(names = {"-t", "--tty"}, description = "Allocate a terminal")
    boolean tty;

    @Option(names = "--snapshotter", paramLabel = "NAME", description = "overlayfs or native")
    String snapshotter;

    @Option(names = "--runtime", paramLabel = "NAME", description = "Runtime (default io.containerd.runc.v2)")
    String runtime;

    @Option(names = "--runc-binary", paramLabel = "BIN", description = "OCI runtime binary for the runc shim (crun, ...)")
    String runcBinary;

    @Option(names = "--seccomp-profile", paramLabel = "FILE|unconfined",
            description = "Seccomp profile (OCI linux.seccomp JSON) instead of the default; unconfined for none")
    String seccompProfile;

    @Option(names = "--label", paramLabel = "K=V", description = "Container label")
    List<String> labels = new ArrayList<>();

    /**
     * The options these flags stand for, with {@code command} (empty: the image's) as the args: the
     * same {@link SpecOptions} and {@link ContainerOptions} a Java caller would use, so a flag never
     * applies an option itself.
     */
    List<ContainerOption> options(List<String> command) {
        List<SpecOption> spec = new ArrayList<>();
        if (command != null && !command.isEmpty()) {
            spec.add(SpecOptions.args(command));
        }
        if (!env.isEmpty()) {
            spec.add(SpecOptions.env(env));
        }
        for (String m : mounts) {
            spec.add(SpecOptions.mount(parseMount(m)));
        }
        if (netHost) {
            spec.add(SpecOptions.hostNetwork(true));
        }
        if (memory != null) {
            spec.add(SpecOptions.memoryLimit(parseBytes(memory)));
        }
        if (user != null) {
            spec.add(SpecOptions.user(user));
        }
        if (cwd != null) {
            spec.add(SpecOptions.cwd(cwd));
        }
        if (hostname != null) {
            spec.add(SpecOptions.hostname(hostname));
        }
        if (tty) {
            spec.add(SpecOptions.terminal(true));
        }
        if (seccompProfile != null) {
            spec.add(seccompProfile.equals("unconfined") ? SpecOptions.seccompUnconfined()
                    : SpecOptions.seccompProfile(java.nio.file.Path.of(seccompProfile)));
        }
        List<ContainerOption> options = new ArrayList<>();
        if (snapshotter != null) {
            options.add(ContainerOptions.snapshotter(snapshotter));
        }
        if (runtime != null) {
            options.add(ContainerOptions.runtime(runtime));
        }
        if (runcBinary != null) {
            options.add(ContainerOptions.runcOptions(RuncOptions.builder().binaryName(runcBinary).build()));
        }
        if (net != null) {
            options.add(ContainerOptions.network(net));
        } else if (!publish.isEmpty() || !aliases.isEmpty()) {
            options.add(ContainerOptions.network("default"));
        }
        publish.forEach(p -> options.add(ContainerOptions.publish(p)));
        aliases.forEach(a -> options.add(ContainerOptions.alias(a)));
        for (String l : labels) {
            int eq = l.indexOf('=');
            if (eq <= 0) {
                throw new InvalidArgumentException("label \"" + l + "\" is not KEY=VALUE");
            }
            options.add(ContainerOptions.label(l.substring(0, eq), l.substring(eq + 1)));
        }
        options.add(ContainerOptions.spec(spec));
        return options;
    }

    /** {@code ctr run}'s options for container {@code id}: these flags' options on a {@link RunOptions}. */
    RunOptions.Builder runOptions(String id, List<String> command) {
        return RunOptions.builder().id(id).container(options(command));
    }

    /** ctr's {@code --mount} syntax: comma-separated key=value pairs, options separated by colons. */
    static Mount parseMount(String spec) {
        String type = "none";
        String src = null;
        String dst = null;
        List<String> options = new ArrayList<>();
        for (String part : spec.split(",")) {
            int eq = part.indexOf('=');
            if (eq <= 0) {
                throw new InvalidArgumentException("mount \"" + spec + "\": \"" + part + "\" is not key=value");
            }
            String k = part.substring(0, eq);
            String v = part.substring(eq + 1);
            switch (k) {
                case "type" -> type = v;
                case "src", "source" -> src = v;
                case "dst", "destination", "target" -> dst = v;
                case "options" -> options.addAll(Arrays.asList(v.split(":")));
                default -> throw new InvalidArgumentException("mount \"" + spec + "\": unknown key \"" + k
                        + "\" (use type, src, dst, options)");
            }
        }
        if (src == null || dst == null) {
            throw new InvalidArgumentException("mount \"" + spec + "\" needs src= and dst=");
        }
        if (type.equals("bind") && options.stream().noneMatch(o -> o.equals("bind") || o.equals("rbind"))) {
            options.add(0, "rbind");
        }
        return new Mount(dst, type, src, options, null, null);
    }

    static long parseBytes(String s) {
        String t = s.trim().toLowerCase(Locale.ROOT);
        long unit = 1;
        if (t.endsWith("b")) {
            t = t.substring(0, t.length() - 1);
        }
        if (t.endsWith("k")) {
            unit = 1L << 10;
        } else if (t.endsWith("m")) {
            unit = 1L << 20;
        } else if (t.endsWith("g")) {
            unit = 1L << 30;
        }
        if (unit != 1) {
            t = t.substring(0, t.length() - 1);
        }
        try {
            return Math.multiplyExact(Long.parseLong(t), unit);
        } catch (NumberFormatException | ArithmeticException e) {
            throw new InvalidArgumentException("memory \"" + s + "\" is not a size in bytes (e.g. 67108864, 64m)");
        }
    }
}

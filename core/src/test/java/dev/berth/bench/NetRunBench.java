package dev.berth.bench;

import dev.berth.Berth;
import dev.berth.ContainerOptions;
import dev.berth.Namespace;
import dev.berth.RunOptions;
import dev.berth.api.task.RunResult;
import dev.berth.network.Networks;
import dev.berth.testing.TestFiles;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A networked container, Berth against {@code ctr run --cni} on a containerd 1.6 that bench/run started,
 * and Berth's network setup + teardown against the same plugin chain run by hand (issue 17):
 * <ul>
 *   <li>{@code run-echo-net}: busybox {@code echo hi} on the {@code default} bridge network to exit and
 *       removal ({@code runAndWait} with {@code network("default")} and rm vs {@code ctr run --cni --rm},
 *       which reads the conflist bench/run put first in {@code /etc/cni/net.d}: Berth's chain on its own
 *       bridge and subnet), alternating, 6 per pair after {@code bench.echoWarmup} warm-up runs per side;
 *       {@code run-echo-nonet}: the same runs without a network, interleaved, to show what the network adds
 *       on each side under the same load;</li>
 *   <li>{@code net-setup}: Berth's attach + detach of a container on {@code default}
 *       ({@link Networks#attach}, {@link Networks#detach}: namespace, loopback, the conflist's ADD, name
 *       files; DEL, namespace removal) against the floor: {@code ip netns add}, the plugin binaries run
 *       directly with the CNI environment and config on stdin ({@code loopback} ADD, then the conflist's
 *       ADD in order with each previous result, DEL in reverse order), {@code ip netns delete}.</li>
 * </ul>
 * Prints one {@code BENCH <workload> <side> <value>} line per measurement in seconds. Not a test; run by
 * {@code bench/run}.
 *
 * <p>Usage: {@code NetRunBench <pairs> <busybox image archive> <image name> <containerd socket>
 * <ctr's conflist> <plugin directory>}, system properties as {@link RunBench} ({@code bench.base},
 * {@code bench.state}).
 */
public final class NetRunBench {
    private static final int PER_PAIR = 6;
    private static final int WARMUP = Integer.getInteger("bench.echoWarmup", 5);
    private static final long SETTLE_MS = Long.getLong("bench.settleMillis", 200);
    private static final String BERTH_NS = "bench-net";
    private static final String CTR_NS = "bench-net";
    private static final ObjectMapper JSON = new ObjectMapper();
    private static final String SERIAL = "berth.network.serialAttach";
    private static final String SYNC_DETACH = "berth.network.syncDetach";
    private static final Pattern MEASURED_RUN = Pattern.compile("net-\\d+-\\d+");
    private static final Pattern MEASURED_SETUP = Pattern.compile("setup-\\d+-\\d+");
    private static final Pattern STEP = Pattern.compile("([a-z-]+) ([0-9.]+)");

    private final String image;
    private final String socket;
    private final ObjectNode conflist;
    private final Path pluginDir;
    /** The floor's steps, for the breakdown printed at the end: step -> milliseconds per measured run. */
    private final Map<String, List<Double>> floorSteps = new LinkedHashMap<>();
    private Networks networks;

    private NetRunBench(String image, String socket, ObjectNode conflist, Path pluginDir) {
        this.image = image;
        this.socket = socket;
        this.conflist = conflist;
        this.pluginDir = pluginDir;
    }

    public static void main(String[] args) throws Exception {
        // Berth's step times (dev.berth.timing at debug) go to a file of their own, read back at the end
        Path stepLog = Files.createTempFile("berth-net-steps-", ".log");
        System.setProperty("org.slf4j.simpleLogger.logFile", stepLog.toString());
        System.setProperty("org.slf4j.simpleLogger.log.dev.berth.timing", "debug");
        int pairs = Integer.parseInt(args[0]);
        Path archive = Path.of(args[1]);
        NetRunBench bench = new NetRunBench(args[2], args[3],
                (ObjectNode) JSON.readTree(Files.readString(Path.of(args[4]))), Path.of(args[5]));
        Path base = Files.createTempDirectory(Path.of(System.getProperty("bench.base", "/var/tmp")), "berth-net-bench-");
        Path state = Path.of(System.getProperty("bench.state", base.resolve("state").toString()));
        // Berth's defaults; -Dbench.spareShim=false measures the path without the spare shim
        boolean spareShim = Boolean.parseBoolean(System.getProperty("bench.spareShim", "true"));
        System.out.println("Berth with its defaults" + (spareShim ? "" : ", no spare shim"));
        try (Berth berth = Berth.builder().root(base.resolve("root")).stateDir(state).spareShim(spareShim).build()) {
            Namespace ns = berth.namespace(BERTH_NS);
            ns.importImage(archive);
            bench.ctr("-n", CTR_NS, "images", "import", archive.toString());
            System.out.println("Berth's default network: " + berth.networks().conflist("default"));
            System.out.println("ctr's conflist: " + bench.conflist);
            bench.run(berth, ns, pairs);
        }
        TestFiles.deleteTree(base);
        List<String> lines = Files.readAllLines(stepLog);
        Files.delete(stepLog);
        printSteps(lines);
    }

    private void run(Berth berth, Namespace ns, int pairs) throws Exception {
        networks = berth.networks();
        for (int i = 0; i < WARMUP; i++) {
            System.out.printf("BENCH run-echo-net-warmup berth %.4f%n", berthEcho(ns, "warm-" + i, true));
            System.out.printf("BENCH run-echo-net-warmup containerd %.4f%n", ctrEcho("warm-" + i, true));
            berthSetup(berth.networks(), "warm-setup-" + i);
            floorSetup("warm-" + i);
        }
        for (int p = 0; p < pairs; p++) {
            for (int i = 0; i < PER_PAIR; i++) {
                String id = "net-" + p + "-" + i;
                settle();
                System.out.printf("BENCH run-echo-net berth %.4f%n", berthEcho(ns, id, true));
                settle();
                System.out.printf("BENCH run-echo-net containerd %.4f%n", ctrEcho(id, true));
                settle();
                // A/B inside the run: the same Berth run with ADD before the task's creation and DEL after
                // its deletion, as before they overlapped
                System.setProperty(SERIAL, "true");
                try {
                    System.out.printf("BENCH run-echo-net-serial berth %.4f%n", berthEcho(ns, id + "-serial", true));
                } finally {
                    System.clearProperty(SERIAL);
                }
                settle();
                // A/B inside the run: no spare network namespace taken (the full chain on the run's path)
                System.setProperty(Networks.SPARE_PROPERTY, "false");
                try {
                    System.out.printf("BENCH run-echo-net-nospare berth %.4f%n", berthEcho(ns, id + "-nospare", true));
                } finally {
                    System.clearProperty(Networks.SPARE_PROPERTY);
                }
                settle();
                // and without either change: no spare, DEL on the run's path (overlapping the task's deletion)
                System.setProperty(Networks.SPARE_PROPERTY, "false");
                System.setProperty(SYNC_DETACH, "true");
                try {
                    System.out.printf("BENCH run-echo-net-before berth %.4f%n", berthEcho(ns, id + "-before", true));
                } finally {
                    System.clearProperty(Networks.SPARE_PROPERTY);
                    System.clearProperty(SYNC_DETACH);
                }
                settle();
                System.out.printf("BENCH run-echo-nonet berth %.4f%n", berthEcho(ns, id + "-nonet", false));
                settle();
                System.out.printf("BENCH run-echo-nonet containerd %.4f%n", ctrEcho(id + "-nonet", false));
            }
        }
        floorSteps.clear();
        for (int p = 0; p < pairs; p++) {
            for (int i = 0; i < PER_PAIR; i++) {
                String id = "setup-" + p + "-" + i;
                settle();
                System.out.printf("BENCH net-setup berth %.4f%n", berthSetup(berth.networks(), id));
                settle();
                System.out.printf("BENCH net-setup floor %.4f%n", floorSetup(id));
            }
        }
        StringBuilder b = new StringBuilder("floor steps, median ms:");
        floorSteps.forEach((step, ms) -> b.append(String.format(" %s %.0f;", step,
                ms.stream().sorted().toList().get(ms.size() / 2))));
        System.out.println(b);
    }

    /**
     * Berth's step times of the measured runs, from its debug lines, as {@code BENCH <step> berth <s>}
     * lines: {@code netrun-*} for the overlapped runs on the network (the run's steps, attach's and
     * detach's, each plugin's), {@code netsetup-*} for the attach + detach rows.
     */
    private static void printSteps(List<String> lines) {
        for (String line : lines) {
            String[] f = line.substring(line.indexOf(" - ") + 3).split(" ");
            if (f.length < 4) {
                continue;
            }
            String prefix;
            String id;
            String rest;
            switch (f[0]) {
                case "run-steps" -> {
                    id = f[2].substring(f[2].indexOf('/') + 1);
                    prefix = "run";
                    rest = String.join(" ", Arrays.asList(f).subList(3, f.length));
                }
                case "net-steps" -> {
                    id = f[2].substring(f[2].indexOf('/') + 1);
                    prefix = f[1];
                    rest = String.join(" ", Arrays.asList(f).subList(3, f.length));
                }
                case "cni-step" -> {
                    id = f[1].substring(BERTH_NS.length() + 1);
                    prefix = "cni-" + f[2] + "-" + f[3];
                    rest = "time " + f[4];
                }
                default -> {
                    continue;
                }
            }
            String kind = MEASURED_RUN.matcher(id).matches() ? "netrun-"
                    : MEASURED_SETUP.matcher(id).matches() ? "netsetup-" : null;
            if (kind == null) {
                continue;
            }
            Matcher m = STEP.matcher(rest);
            while (m.find()) {
                String name = m.group(1).equals("time") ? prefix : prefix + "-" + m.group(1);
                System.out.printf("BENCH %s%s berth %.4f%n", kind, name, Double.parseDouble(m.group(2)) / 1000);
            }
        }
    }

    private long step(String name, long since) {
        long now = System.nanoTime();
        floorSteps.computeIfAbsent(name, k -> new ArrayList<>()).add((now - since) / 1e6);
        return now;
    }

    private static void settle() throws InterruptedException {
        Thread.sleep(SETTLE_MS);
    }

    /** ctr run's spec, as {@link RunBench} uses: no read-only /sys/fs/cgroup mount. */
    private RunOptions.Builder options(String id, boolean network) {
        return RunOptions.builder().id(id).container(ContainerOptions.network(network ? "default" : "none"))
                .spec(s -> s.customize(spec -> spec.toBuilder().mounts(spec.mounts().stream()
                        .filter(m -> !m.destination().equals("/sys/fs/cgroup")).toList()).build()));
    }

    private double berthEcho(Namespace ns, String id, boolean network) throws InterruptedException {
        long t0 = System.nanoTime();
        RunResult r = ns.runAndWait(image, options(id, network).args("/bin/echo", "hi").rm(true).build());
        long t1 = System.nanoTime();
        double s = (t1 - t0) / 1e9;
        if (r.exitCode() != 0 || !r.stdout().equals("hi\n")) {
            throw new IllegalStateException("berth echo failed: " + r);
        }
        // the work left running (the DEL, the next spare) ends before any other measured run starts, so
        // none of it lands in another row's time; how long it ran on is printed as a row of its own
        ns.awaitRemovals();
        networks.awaitIdle();
        if (network && MEASURED_RUN.matcher(id).matches()) {
            System.out.printf("BENCH run-echo-net-background berth %.4f%n", (System.nanoTime() - t1) / 1e9);
        }
        return s;
    }

    private double ctrEcho(String id, boolean network) throws Exception {
        long t0 = System.nanoTime();
        String out = network ? ctr("-n", CTR_NS, "run", "--cni", "--rm", image, id, "/bin/echo", "hi")
                : ctr("-n", CTR_NS, "run", "--rm", image, id, "/bin/echo", "hi");
        double s = (System.nanoTime() - t0) / 1e9;
        if (!out.equals("hi\n")) {
            throw new IllegalStateException("ctr run --cni printed '" + out + "'");
        }
        return s;
    }

    /** Berth's attach + detach running the whole chain (no spare namespace), as the floor does. */
    private static double berthSetup(Networks networks, String id) {
        System.setProperty(Networks.SPARE_PROPERTY, "false");
        try {
            long t0 = System.nanoTime();
            networks.attach(new Networks.AttachRequest(BERTH_NS, id, "default", List.of(), List.of()));
            networks.detach(BERTH_NS, id);
            return (System.nanoTime() - t0) / 1e9;
        } finally {
            System.clearProperty(Networks.SPARE_PROPERTY);
        }
    }

    /** The floor: what any runtime has to do for the same attachment, with nothing around it. */
    private double floorSetup(String id) throws Exception {
        String name = "bnf-" + ProcessHandle.current().pid() + "-" + id;
        String netns = "/run/netns/" + name;
        String cniId = "bench-floor-" + id;
        long t0 = System.nanoTime();
        long t = t0;
        exec("ip", "netns", "add", name);
        t = step("netns-add", t);
        ObjectNode lo = JSON.createObjectNode().put("cniVersion", "1.0.0").put("name", "bench-floor-lo")
                .put("type", "loopback");
        plugin("loopback", "ADD", cniId, netns, "lo", lo);
        t = step("loopback-ADD", t);
        List<JsonNode> plugins = new ArrayList<>();
        conflist.path("plugins").forEach(plugins::add);
        JsonNode prev = null;
        for (JsonNode p : plugins) {
            prev = plugin(p.path("type").asText(), "ADD", cniId, netns, "eth0", config(p, prev));
            t = step(p.path("type").asText() + "-ADD", t);
        }
        for (int i = plugins.size() - 1; i >= 0; i--) {
            plugin(plugins.get(i).path("type").asText(), "DEL", cniId, netns, "eth0", config(plugins.get(i), prev));
            t = step(plugins.get(i).path("type").asText() + "-DEL", t);
        }
        exec("ip", "netns", "delete", name);
        step("netns-delete", t);
        return (System.nanoTime() - t0) / 1e9;
    }

    private ObjectNode config(JsonNode plugin, JsonNode prev) {
        ObjectNode c = ((ObjectNode) plugin).deepCopy();
        c.put("cniVersion", conflist.path("cniVersion").asText()).put("name", conflist.path("name").asText());
        if (plugin.path("capabilities").path("portMappings").asBoolean()) {
            c.putObject("runtimeConfig").putArray("portMappings");
        }
        if (prev != null) {
            c.set("prevResult", prev);
        }
        return c;
    }

    private JsonNode plugin(String type, String command, String cniId, String netns, String ifName, ObjectNode conf)
            throws Exception {
        ProcessBuilder pb = new ProcessBuilder(pluginDir.resolve(type).toString()).redirectErrorStream(true);
        Map<String, String> env = pb.environment();
        env.clear();
        env.put("PATH", "/usr/sbin:/usr/bin:/sbin:/bin");
        env.put("CNI_PATH", pluginDir.toString());
        env.put("CNI_COMMAND", command);
        env.put("CNI_CONTAINERID", cniId);
        env.put("CNI_NETNS", netns);
        env.put("CNI_IFNAME", ifName);
        env.put("CNI_ARGS", "IgnoreUnknown=1");
        Process p = pb.start();
        try (OutputStream in = p.getOutputStream()) {
            in.write(JSON.writeValueAsBytes(conf));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(1, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IllegalStateException(type + " " + command + " failed: " + out);
        }
        return out.isBlank() ? null : JSON.readTree(out);
    }

    private static void exec(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(1, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
        }
    }

    private String ctr(String... args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of("ctr", "-a", socket));
        cmd.addAll(Arrays.asList(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new IllegalStateException(String.join(" ", cmd) + " failed: " + out);
        }
        return out;
    }
}

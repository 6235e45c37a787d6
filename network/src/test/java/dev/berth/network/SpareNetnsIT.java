package dev.berth.network;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Spare network namespaces: attached ahead of need on a network of the test's own, taken by the next
 * container, made again off the caller's thread, and removed on close or after their JVM was killed. Each
 * test compares the objects of its own network before and after: the veths on its bridge, the iptables
 * rules naming its subnet or a spare, its host-local leases, the netns mounts and spare records of its
 * state directory.
 */
class SpareNetnsIT {
    private static final String SUFFIX = UUID.randomUUID().toString().substring(0, 6);
    private Path root;
    private Path state;
    private Networks networks;
    private NetworkInfo net;
    private Set<String> before;
    private final List<Process> servers = new ArrayList<>();

    @BeforeEach
    void open() throws Exception {
        root = Files.createTempDirectory("berth-spare-root-");
        state = Files.createTempDirectory(Path.of("/tmp"), "bsp-");
        networks = Networks.builder(root, state).spareNetns(true).build();
        net = networks.create("sp-" + UUID.randomUUID().toString().substring(0, 6));
        before = ownObjects();
    }

    @AfterEach
    void close() throws Exception {
        servers.forEach(Process::destroyForcibly);
        for (Attachment a : networks.attachments()) {
            networks.detach(a.namespace(), a.containerId());
        }
        networks.close();
        assertThat(ownObjects()).as("nothing of the network's containers or spares is left").isEqualTo(before);
        networks.remove(net.name());
        networks.close();
        try (var s = Files.walk(root)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
        try (var s = Files.walk(state)) {
            for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                Files.delete(p);
            }
        }
    }

    @Test
    void theNextContainerTakesTheReadySpareAndIsReachedByAddressPublishedPortAndName() throws Exception {
        Attachment first = networks.attach(request("first-" + SUFFIX, List.of(), List.of("peer")));
        networks.awaitSpares();
        assertThat(networks.readySpares(net.name())).isEqualTo(1);
        String spareIp = leasedTo("berth-spare-");
        assertThat(spareIp).isNotEmpty();

        String id = "web-" + SUFFIX;
        Attachment web = networks.attach(request(id, List.of(PortMapping.tcp(8080)), List.of("web")));

        assertThat(web.ip()).as("the spare's address").isEqualTo(spareIp);
        Path www = Files.createTempDirectory("www");
        Files.writeString(www.resolve("index.html"), "hello " + id);
        Process httpd = new ProcessBuilder("nsenter", "--net=" + web.netns(), "/bin/busybox", "httpd", "-f", "-p",
                "8080", "-h", www.toString()).redirectErrorStream(true).start();
        servers.add(httpd);
        int hostPort = web.port(8080, "tcp").orElseThrow().hostPort();
        Awaitility.await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
                .until(() -> httpGet("127.0.0.1", hostPort).contains("hello " + id));
        assertThat(httpGet(web.ip(), 8080)).contains("hello " + id);
        assertThat(Files.readString(networks.filesDir("sp", first.containerId()).resolve("hosts")))
                .contains(web.ip() + "\t" + id + " web");
        assertThat(Files.readString(networks.filesDir("sp", id).resolve("hosts")))
                .contains(first.ip() + "\t" + first.containerId() + " peer");
        assertThat(Files.readString(networks.filesDir("sp", id).resolve("hostname"))).isEqualTo(id + "\n");

        httpd.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        Files.delete(www.resolve("index.html"));
        Files.delete(www);
        networks.detach("sp", id);
        assertThat(forwardRules(spareIp)).as("the taken spare's firewall rules go with its container").isEmpty();
        assertThat(portmapRulesNaming(hostPort)).isEmpty();
        networks.awaitSpares();
        assertThat(networks.readySpares(net.name())).as("a spare was made again").isEqualTo(1);
    }

    @Test
    void aContainerRightAfterPrepareWaitsForTheSpareBeingMadeAndTakesIt() throws Exception {
        networks.prepare(net.name());
        Attachment first = networks.attach(request("prep-" + SUFFIX, List.of(), List.of()));

        Path lease = Networks.IPAM_DIR.resolve(net.cniName()).resolve(first.ip());
        assertThat(Files.readString(lease)).as("the address is the spare's: no chain of its own ran")
                .startsWith("berth-spare-");
        networks.awaitSpares();
        assertThat(networks.readySpares(net.name())).as("a spare was made again").isEqualTo(1);
        networks.prepare(net.name());
        networks.awaitSpares();
        assertThat(networks.readySpares(net.name())).as("prepare is idempotent").isEqualTo(1);
    }

    @Test
    void aSpareDeferredByAStartInFlightIsMadeWhenItEndsAndAtOnceForAnAttachmentThatNeedsIt() throws Exception {
        Attachment first;
        Attachment second;
        try (dev.berth.api.internal.Foreground.Hold start = dev.berth.api.internal.Foreground.enter()) {
            networks.prepare(net.name());
            assertThat(networks.spareProgress(net.name())).as("a prepared spare is for this start: not deferred")
                    .isNotEqualTo("deferred");
            Awaitility.await().atMost(Duration.ofSeconds(120)).until(() -> networks.readySpares(net.name()) == 1);
            first = networks.attach(request("held-" + SUFFIX, List.of(), List.of()));
            assertThat(networks.spareProgress(net.name())).as("the refill waits for the start").isEqualTo("deferred");
            assertThat(networks.readySpares(net.name())).isZero();

            second = networks.attach(request("needs-" + SUFFIX, List.of(), List.of()));
            Path lease = Networks.IPAM_DIR.resolve(net.cniName()).resolve(second.ip());
            assertThat(Files.readString(lease)).as("the deferred spare was made at once and taken")
                    .startsWith("berth-spare-");
            assertThat(networks.spareProgress(net.name())).as("the next refill waits again").isEqualTo("deferred");
        }
        Awaitility.await().atMost(Duration.ofSeconds(120)).until(() -> networks.readySpares(net.name()) == 1);
        networks.detach("sp", first.containerId());
        networks.detach("sp", second.containerId());
    }

    @Test
    void twoInstancesOnOneStateDirectoryNeverTakeTheSameSpare() throws Exception {
        try (Networks second = Networks.builder(root, state).spareNetns(true).build()) {
            List<Attachment> all = Collections.synchronizedList(new ArrayList<>());
            CompletableFuture<?> a = CompletableFuture.runAsync(() -> attachSeveral(networks, "a", all));
            CompletableFuture<?> b = CompletableFuture.runAsync(() -> attachSeveral(second, "b", all));
            CompletableFuture.allOf(a, b).get(300, TimeUnit.SECONDS);

            assertThat(all).hasSize(8);
            Set<Object> namespaces = new HashSet<>();
            for (Attachment x : all) {
                namespaces.add(Files.getAttribute(Path.of(x.netns()), "unix:ino"));
            }
            assertThat(namespaces).as("network namespaces (nsfs inodes)").hasSize(8);
            assertThat(all.stream().map(Attachment::ip).distinct()).hasSize(8);
            assertThat(networks.readySpares(net.name())).isEqualTo(1);
            assertThat(second.readySpares(net.name())).isEqualTo(1);
            assertThat(leaseIds()).as("8 containers and a spare per instance").hasSize(10);
            Set<String> leasedToSpares = new HashSet<>();
            for (String ip : all.stream().map(Attachment::ip).toList()) {
                if (Files.readString(Networks.IPAM_DIR.resolve(net.cniName()).resolve(ip)).startsWith("berth-spare-")) {
                    leasedToSpares.add(ip);
                }
            }
            assertThat(leasedToSpares).as("all but each instance's first container were on a spare").hasSize(6);
            for (Attachment x : all) {
                (x.containerId().startsWith("a") ? networks : second).detach(x.namespace(), x.containerId());
            }
        }
    }

    private void attachSeveral(Networks n, String prefix, List<Attachment> out) {
        for (int i = 0; i < 4; i++) {
            out.add(n.attach(request(prefix + i + "-" + SUFFIX, List.of(PortMapping.tcp(80)), List.of())));
            n.awaitSpares(); // the next attachment takes the spare this one had made
        }
    }

    @Test
    void theSpareOfAKilledJvmIsRemovedByTheNextCleanup() throws Exception {
        String id = "kid-" + SUFFIX;
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), AttachingChild.class.getName(),
                root.toString(), state.toString(), "-", "sp", id, net.name(), "spare")
                .redirectError(ProcessBuilder.Redirect.INHERIT).start();
        try (BufferedReader out = new BufferedReader(new InputStreamReader(child.getInputStream(), StandardCharsets.UTF_8))) {
            assertThat(out.readLine()).isEqualTo("READY");
            String spareIp = leasedTo("berth-spare-");
            assertThat(spareIp).isNotEmpty();
            assertThat(forwardRules(spareIp)).hasSize(2);
            assertThat(networks.cleanup((ns, c) -> false)).as("the child is alive: nothing is its to clean").isZero();

            child.destroyForcibly().waitFor(30, TimeUnit.SECONDS);

            assertThat(networks.cleanup((ns, c) -> false)).as("its container and its spare").isEqualTo(2);
            assertThat(forwardRules(spareIp)).isEmpty();
            assertThat(leaseIds()).isEmpty();
        } finally {
            child.destroyForcibly();
        }
    }

    private Networks.AttachRequest request(String id, List<PortMapping> ports, List<String> aliases) {
        return new Networks.AttachRequest("sp", id, net.name(), ports, aliases);
    }

    private Set<String> ownObjects() throws Exception {
        Set<String> out = new TreeSet<>();
        for (String l : command("ip", "-o", "link", "show", "master", net.bridge(), "type", "veth").split("\n")) {
            if (l.matches("\\d+: .*")) { // (before the bridge exists, ip answers with an error)
                out.add("veth " + l.split(":")[1].trim().split("@")[0]);
            }
        }
        String subnetPrefix = net.subnet().substring(0, net.subnet().lastIndexOf('.') + 1);
        for (String l : command("iptables-save").split("\n")) {
            if (!l.startsWith("#") && (l.contains(subnetPrefix) || l.contains("sp-" + SUFFIX))) {
                out.add("rule " + l.replaceAll("\\[\\d+:\\d+\\]", ""));
            }
        }
        leaseIds().forEach(i -> out.add("lease " + i));
        for (String l : Files.readAllLines(Path.of("/proc/self/mountinfo"))) {
            if (l.split(" ")[4].startsWith(state + "/netns/")) {
                out.add("mount " + l.split(" ")[4]);
            }
        }
        Path records = state.resolve("net").resolve(".spare");
        if (Files.isDirectory(records)) {
            try (Stream<Path> s = Files.list(records)) {
                s.forEach(p -> out.add("spare record " + p.getFileName()));
            }
        }
        return out;
    }

    /** The CNI container ids of the network's host-local leases. */
    private List<String> leaseIds() throws IOException {
        List<String> out = new ArrayList<>();
        Path dir = Networks.IPAM_DIR.resolve(net.cniName());
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.filter(f -> f.getFileName().toString().matches("\\d+\\.\\d+\\.\\d+\\.\\d+")).toList()) {
                out.add(Files.readString(p).split("\\r?\\n")[0].trim());
            }
        }
        return out;
    }

    /** The address leased to a CNI container id starting with {@code prefix}; "" if none. */
    private String leasedTo(String prefix) throws IOException {
        Path dir = Networks.IPAM_DIR.resolve(net.cniName());
        try (Stream<Path> s = Files.list(dir)) {
            for (Path p : s.filter(f -> f.getFileName().toString().matches("\\d+\\.\\d+\\.\\d+\\.\\d+")).toList()) {
                if (Files.readString(p).startsWith(prefix)) {
                    return p.getFileName().toString();
                }
            }
        }
        return "";
    }

    private static List<String> forwardRules(String ip) throws Exception {
        return command("iptables-save", "-t", "filter").lines()
                .filter(l -> l.matches("-A CNI-FORWARD -[ds] .*") && l.contains(" " + ip + "/32 ")).toList();
    }

    private static List<String> portmapRulesNaming(int hostPort) throws Exception {
        return command("iptables-save", "-t", "nat").lines()
                .filter(l -> l.contains("--dport " + hostPort + " ") && l.contains("CNI-DN")).toList();
    }

    private static String command(String... argv) throws Exception {
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(30, TimeUnit.SECONDS);
        return out;
    }

    private static String httpGet(String host, int port) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 2000);
            s.setSoTimeout(3000);
            s.getOutputStream().write("GET /index.html HTTP/1.0\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }
}

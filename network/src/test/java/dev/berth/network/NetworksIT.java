package dev.berth.network;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.berth.api.AlreadyExistsException;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.InvalidArgumentException;
import java.io.IOException;
import java.io.InputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Networks with the real CNI plugins, real iptables and real network namespaces. The "container" is a
 * busybox server started in the attachment's namespace with nsenter, so this module needs no runtime.
 */
class NetworksIT {
    private static Path root;
    private static Path state;
    private static Networks networks;
    private static final List<Process> servers = new ArrayList<>();
    private static final String SUFFIX = UUID.randomUUID().toString().substring(0, 6);

    @BeforeAll
    static void open() throws IOException {
        root = Files.createTempDirectory("berth-net-root-");
        state = Files.createTempDirectory(Path.of("/tmp"), "bnet-");
        networks = Networks.builder(root, state).build();
    }

    @AfterAll
    static void close() throws Exception {
        servers.forEach(p -> p.destroyForcibly());
        for (Attachment a : networks.attachments()) {
            networks.detach(a.namespace(), a.containerId());
        }
        for (NetworkInfo n : networks.list()) {
            if (!n.name().equals(NetworkMode.DEFAULT_NETWORK)) {
                networks.remove(n.name());
            }
        }
        networks.close();
        assertThat(Files.readString(Path.of("/proc/self/mountinfo"))).doesNotContain(state.toString());
        for (Path dir : List.of(root, state)) {
            try (var s = Files.walk(dir)) {
                for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.delete(p);
                }
            }
        }
    }

    private static Process inNetns(Attachment a, String... cmd) throws IOException {
        List<String> argv = new ArrayList<>(List.of("nsenter", "--net=" + a.netns(), "/bin/busybox"));
        argv.addAll(List.of(cmd));
        Process p = new ProcessBuilder(argv).redirectErrorStream(true).start();
        servers.add(p);
        return p;
    }

    private static String httpGet(String host, int port) throws IOException {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress(host, port), 2000);
            s.setSoTimeout(3000);
            s.getOutputStream().write(("GET /index.html HTTP/1.0\r\nHost: x\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
            InputStream in = s.getInputStream();
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @Test
    void httpdInTheNamespaceIsReachedAtTheMappedLoopbackPortAndAtTheContainerAddress() throws Exception {
        String id = "web-" + SUFFIX;
        Attachment a = networks.attach(new Networks.AttachRequest("nt", id, NetworkMode.DEFAULT_NETWORK,
                List.of(PortMapping.tcp(8080)), List.of()));
        Path www = Files.createTempDirectory("www");
        Files.writeString(www.resolve("index.html"), "hello " + id);
        inNetns(a, "httpd", "-f", "-p", "8080", "-h", www.toString());
        int hostPort = a.port(8080, "tcp").orElseThrow().hostPort();
        assertThat(hostPort).isPositive();

        Awaitility.await().atMost(Duration.ofSeconds(10)).ignoreExceptions()
                .until(() -> httpGet("127.0.0.1", hostPort).contains("hello " + id));
        assertThat(httpGet(a.ip(), 8080)).contains("hello " + id);
        assertThat(a.ip()).startsWith("10.89.");
        assertThat(Files.readString(networks.filesDir("nt", id).resolve("hosts"))).contains(a.ip() + "\t" + id);

        networks.detach("nt", id);
        networks.detach("nt", id);
        assertThat(networks.attachment("nt", id)).isEmpty();
        assertThat(Path.of(a.netns())).doesNotExist();
    }

    @Test
    void udpIsEchoedThroughThePublishedPort() throws Exception {
        String id = "udp-" + SUFFIX;
        Attachment a = networks.attach(new Networks.AttachRequest("nt", id, NetworkMode.DEFAULT_NETWORK,
                List.of(PortMapping.udp(5353)), List.of()));
        // Debian's busybox has no UDP server applet: a one-file Java echo server stands in for the container
        Path echo = Files.createTempDirectory("udp-echo").resolve("UdpEcho.java");
        Files.writeString(echo, """
                public class UdpEcho {
                    public static void main(String[] a) throws Exception {
                        var s = new java.net.DatagramSocket(5353);
                        byte[] b = new byte[1500];
                        while (true) {
                            var p = new java.net.DatagramPacket(b, b.length);
                            s.receive(p);
                            s.send(new java.net.DatagramPacket(b, p.getLength(), p.getSocketAddress()));
                        }
                    }
                }
                """);
        String java = Path.of(System.getProperty("java.home"), "bin", "java").toString();
        Process server = new ProcessBuilder("nsenter", "--net=" + a.netns(), java, echo.toString())
                .redirectErrorStream(true).start();
        servers.add(server);
        int hostPort = a.port(5353, "udp").orElseThrow().hostPort();
        try (DatagramSocket s = new DatagramSocket()) {
            s.setSoTimeout(500);
            byte[] buf = new byte[64];
            Awaitility.await().atMost(Duration.ofSeconds(30)).ignoreExceptions().until(() -> {
                byte[] msg = "ping\n".getBytes(StandardCharsets.US_ASCII);
                s.send(new DatagramPacket(msg, msg.length, new InetSocketAddress("127.0.0.1", hostPort)));
                DatagramPacket in = new DatagramPacket(buf, buf.length);
                s.receive(in);
                return new String(buf, 0, in.getLength(), StandardCharsets.US_ASCII).equals("ping\n");
            });
        }
        server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        networks.detach("nt", id);
    }

    @Test
    void aHostPortInUseIsRefusedByNumberAndNothingIsLeft() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getByName("127.0.0.1"))) {
            int port = taken.getLocalPort();
            String id = "busy-" + SUFFIX;
            assertThatThrownBy(() -> networks.attach(new Networks.AttachRequest("nt", id, NetworkMode.DEFAULT_NETWORK,
                    List.of(PortMapping.tcp(port, 80)), List.of())))
                    .isInstanceOf(AlreadyExistsException.class).hasMessageContaining("127.0.0.1:" + port + "/tcp");
            assertThat(networks.filesDir("nt", id)).doesNotExist();
            assertThat(networks.netnsPath("nt", id)).doesNotExist();
        }
    }

    @Test
    void aHangingPluginLateInTheChainFailsTheAttachWithinItsTimeAndEverythingEarlierIsUndone() throws Exception {
        // a third-party "tuning" earlier in the plugin path shadows the real one and hangs
        Path fake = Files.createTempDirectory("cni-fake");
        Path tuning = fake.resolve("tuning");
        Files.writeString(tuning, "#!/bin/sh\nif [ \"$CNI_COMMAND\" = ADD ]; then echo 'stuck in ADD' >&2; exec sleep 600; fi\n"
                + "cat > /dev/null; exit 0\n");
        tuning.toFile().setExecutable(true);
        List<Path> dirs = new ArrayList<>(List.of(fake));
        dirs.addAll(CniPlugins.DEFAULT_DIRS);
        try (Networks slow = Networks.builder(root, state).pluginDirs(dirs).pluginTimeout(Duration.ofSeconds(2)).build()) {
            String id = "hang-" + SUFFIX;
            assertThatThrownBy(() -> slow.attach(new Networks.AttachRequest("nt", id, NetworkMode.DEFAULT_NETWORK,
                    List.of(PortMapping.tcp(80)), List.of())))
                    .isInstanceOf(dev.berth.api.DeadlineExceededException.class).hasMessageContaining("stuck in ADD");
            assertThat(slow.filesDir("nt", id)).doesNotExist();
            assertThat(slow.netnsPath("nt", id)).doesNotExist();
            Process p = new ProcessBuilder("iptables-save").start();
            String rules = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            p.waitFor(10, TimeUnit.SECONDS);
            assertThat(rules).doesNotContain("nt-" + id);
            try (var leases = Files.list(Networks.IPAM_DIR.resolve("berth"))) {
                assertThat(leases.filter(f -> Files.isRegularFile(f)).map(f -> {
                    try {
                        return Files.readString(f);
                    } catch (IOException e) {
                        return "";
                    }
                })).noneMatch(c -> c.contains("nt-" + id));
            }
        }
    }

    @Test
    void aHalfMadeAttachmentOfADeadProcessIsUndoneByTheNextAttach() throws Exception {
        String id = "half-" + SUFFIX;
        Networks.AttachRequest request = new Networks.AttachRequest("nt", id, NetworkMode.DEFAULT_NETWORK,
                List.of(PortMapping.tcp(80)), List.of());
        Attachment first = networks.attach(request);
        Process exited = new ProcessBuilder("true").start();
        exited.waitFor(10, TimeUnit.SECONDS);
        Path saved = networks.filesDir("nt", id).resolve("attachment.json");
        // as a process that died between its ADD and recording the result would have left it
        Files.writeString(saved, Files.readString(saved)
                .replaceAll("\"ownerPid\":\\d+", "\"ownerPid\":" + exited.pid())
                .replaceAll("\"result\":\"(?:[^\"\\\\]|\\\\.)*\"", "\"result\":null"));
        assertThat(networks.attachment("nt", id)).isEmpty();
        assertThat(forwardRules(first.ip())).as("the firewall plugin's rules of the first ADD").hasSize(2);

        Attachment second = networks.attach(request);

        assertThat(second.ip()).isNotBlank();
        assertThat(Files.exists(Networks.IPAM_DIR.resolve("berth").resolve(first.ip())))
                .as("the first lease is released").isEqualTo(first.ip().equals(second.ip()));
        // the DEL of the lost ADD found the address in its lease: the rules went with it
        assertThat(forwardRules(first.ip())).hasSize(first.ip().equals(second.ip()) ? 2 : 0);
        networks.detach("nt", id);
        assertThat(forwardRules(first.ip())).isEmpty();
        assertThat(forwardRules(second.ip())).isEmpty();
    }

    @Test
    void aJvmKilledInTheMiddleOfTheChainLeavesNoFirewallRuleOrLeaseOnceCleanedUp() throws Exception {
        // a "tuning" after the firewall plugin that tells when it runs and then blocks: the JVM is killed there
        Path fake = Files.createTempDirectory("cni-slow");
        Path started = fake.resolve("started");
        Path tuning = fake.resolve("tuning");
        Path pid = fake.resolve("pid");
        Files.writeString(tuning, "#!/bin/sh\nif [ \"$CNI_COMMAND\" = ADD ]; then echo $$ > " + pid + "; cat > "
                + started + "; exec sleep 600; fi\ncat > /dev/null; echo '{}'\n");
        tuning.toFile().setExecutable(true);
        String id = "killed-" + SUFFIX;
        Process child = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "-XX:TieredStopAtLevel=1", "-cp", System.getProperty("java.class.path"), AttachingChild.class.getName(),
                root.toString(), state.toString(), fake.toString(), "nt", id)
                .redirectErrorStream(true).start();
        try {
            Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> (Files.exists(started) && Files.size(started) > 0) || !child.isAlive());
            assertThat(child.isAlive()).as("the child is stuck in tuning's ADD").isTrue();
            String ip = leasedIp("nt-" + id);
            assertThat(forwardRules(ip)).as("the firewall plugin ran before the kill").hasSize(2);
            child.destroyForcibly().waitFor(30, TimeUnit.SECONDS);
            // the blocked plugin outlives the JVM; as a plugin would, it ends
            ProcessHandle plugin = ProcessHandle.of(Long.parseLong(Files.readString(pid).trim())).orElseThrow();
            plugin.destroyForcibly();
            plugin.onExit().get(30, TimeUnit.SECONDS);

            assertThat(networks.cleanup((ns, c) -> !c.equals(id))).isEqualTo(1);

            assertThat(forwardRules(ip)).isEmpty();
            assertThat(leasedIp("nt-" + id)).isEmpty();
            assertThat(networks.netnsPath("nt", id)).doesNotExist();
            assertThat(networks.filesDir("nt", id)).doesNotExist();
        } finally {
            child.destroyForcibly();
            try (var s = Files.walk(fake)) {
                for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
                    Files.deleteIfExists(p);
                }
            }
        }
    }

    /** The address host-local leased to CNI container id {@code cniId} on the default network; "" if none. */
    private static String leasedIp(String cniId) throws IOException {
        try (var leases = Files.list(Networks.IPAM_DIR.resolve("berth"))) {
            return leases.filter(f -> f.getFileName().toString().matches("\\d+\\.\\d+\\.\\d+\\.\\d+"))
                    .filter(f -> {
                        try {
                            return Files.readString(f).split("\\r?\\n")[0].trim().equals(cniId);
                        } catch (IOException e) {
                            return false;
                        }
                    }).map(f -> f.getFileName().toString()).findFirst().orElse("");
        }
    }

    /** The firewall plugin's per-address rules on the host (the CNI-FORWARD chain). */
    static List<String> allForwardRules() throws IOException, InterruptedException {
        Process p = new ProcessBuilder("iptables-save", "-t", "filter").start();
        String rules = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(10, TimeUnit.SECONDS);
        return rules.lines().filter(l -> l.matches("-A CNI-FORWARD -[ds] .*")).toList();
    }

    /** The CNI-FORWARD rules naming {@code ip}. */
    static List<String> forwardRules(String ip) throws IOException, InterruptedException {
        return allForwardRules().stream().filter(l -> l.contains(" " + ip + "/32 ")).toList();
    }

    @Test
    void aMissingPluginNamesThePackageAndLeavesNothing() throws Exception {
        Path empty = Files.createTempDirectory("cni-empty");
        try (Networks bare = Networks.builder(root, state).pluginDirs(List.of(empty)).build()) {
            String id = "bare-" + SUFFIX;
            assertThatThrownBy(() -> bare.attach(new Networks.AttachRequest("nt", id, NetworkMode.DEFAULT_NETWORK,
                    List.of(PortMapping.tcp(80)), List.of())))
                    .isInstanceOf(FailedPreconditionException.class).hasMessageContaining("containernetworking-plugins")
                    .hasMessageContaining(empty.toString());
            assertThat(bare.filesDir("nt", id)).doesNotExist();
            assertThat(bare.netnsPath("nt", id)).doesNotExist();
        }
    }

    @Test
    void anotherNetworkIsUnreachableAlsoWhenTheFirewallPluginsJumpComesFirstInForward() throws Exception {
        NetworkInfo front = networks.create("if-" + SUFFIX);
        NetworkInfo other = networks.create("io-" + SUFFIX);
        Attachment web = networks.attach(new Networks.AttachRequest("nt", "iso-web-" + SUFFIX, front.name(),
                List.of(), List.of()));
        Attachment peer = networks.attach(new Networks.AttachRequest("nt", "iso-peer-" + SUFFIX, front.name(),
                List.of(), List.of()));
        Attachment stranger = networks.attach(new Networks.AttachRequest("nt", "iso-out-" + SUFFIX, other.name(),
                List.of(), List.of()));
        try {
            // as a host ends up when the firewall plugin makes its chain after Berth's jump: its jump on top,
            // where its per-address accepts would let the stranger's packets through before Berth's rules
            List<String> jump = List.of("-m", "comment", "--comment", "CNI firewall plugin rules", "-j", "CNI-FORWARD");
            run(concat(List.of("iptables", "-w", "-D", "FORWARD"), jump));
            run(concat(List.of("iptables", "-w", "-I", "FORWARD", "1"), jump));
            assertThat(run(List.of("iptables", "-w", "-S", "FORWARD")).lines().filter(l -> l.startsWith("-A"))
                    .findFirst().orElseThrow()).contains("CNI-FORWARD");

            Path www = Files.createTempDirectory("www");
            Files.writeString(www.resolve("index.html"), "hello isolated");
            inNetns(web, "httpd", "-f", "-p", "8080", "-h", www.toString());
            Awaitility.await().atMost(Duration.ofSeconds(10))
                    .until(() -> getFrom(peer, web.ip()).contains("hello isolated"));

            assertThat(getFrom(stranger, web.ip())).as("GET from another network").doesNotContain("hello");
        } finally {
            for (Attachment a : List.of(web, peer, stranger)) {
                networks.detach(a.namespace(), a.containerId());
            }
            networks.remove(front.name());
            networks.remove(other.name());
        }
    }

    /** An HTTP GET of /index.html on port 8080 from inside {@code from}'s namespace (busybox nc, 2 s). */
    private static String getFrom(Attachment from, String ip) throws Exception {
        return run(List.of("nsenter", "--net=" + from.netns(), "/bin/busybox", "sh", "-c",
                "printf 'GET /index.html HTTP/1.0\\r\\n\\r\\n' | /bin/busybox nc -w 2 " + ip + " 8080 || true"));
    }

    private static String run(List<String> cmd) throws Exception {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, java.util.concurrent.TimeUnit.SECONDS)).as(String.join(" ", cmd)).isTrue();
        assertThat(p.exitValue()).as(String.join(" ", cmd) + ": " + out).isZero();
        return out;
    }

    private static List<String> concat(List<String> a, List<String> b) {
        List<String> out = new ArrayList<>(a);
        out.addAll(b);
        return out;
    }

    @Test
    void namedNetworksGetTheirOwnSubnetsAndOverlapsAreRefused() {
        NetworkInfo a = networks.create("a-" + SUFFIX);
        NetworkInfo b = networks.create("b-" + SUFFIX);
        assertThat(a.subnet()).isNotEqualTo(b.subnet());
        assertThat(networks.list()).extracting(NetworkInfo::name).contains(a.name(), b.name());
        assertThatThrownBy(() -> networks.create("a-" + SUFFIX)).isInstanceOf(AlreadyExistsException.class);
        assertThatThrownBy(() -> networks.create("c-" + SUFFIX, a.subnet()))
                .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("overlaps");
        assertThat(networks.list()).extracting(NetworkInfo::name).doesNotContain("c-" + SUFFIX);
    }

    @Test
    void aNetworkInUseIsNotRemoved() {
        NetworkInfo n = networks.create("used-" + SUFFIX);
        String id = "user-" + SUFFIX;
        networks.attach(new Networks.AttachRequest("nt", id, n.name(), List.of(), List.of("svc")));
        assertThatThrownBy(() -> networks.remove(n.name())).isInstanceOf(FailedPreconditionException.class)
                .hasMessageContaining("in use");
        networks.detach("nt", id);
        networks.remove(n.name());
        assertThat(networks.list()).extracting(NetworkInfo::name).doesNotContain(n.name());
    }

    @Test
    void cleanupDetachesWhatItIsToldIsGoneOnceTheAttachingProcessIsGone() throws Exception {
        String id = "gone-" + SUFFIX;
        networks.attach(new Networks.AttachRequest("nt2", id, NetworkMode.DEFAULT_NETWORK,
                List.of(PortMapping.tcp(80)), List.of()));
        assertThat(networks.cleanup((ns, c) -> !c.equals(id))).as("attached by this live JVM").isZero();

        // as if a process that exited had made it
        Process exited = new ProcessBuilder("true").start();
        exited.waitFor(10, TimeUnit.SECONDS);
        Path saved = networks.filesDir("nt2", id).resolve("attachment.json");
        Files.writeString(saved, Files.readString(saved).replaceAll("\"ownerPid\":\\d+", "\"ownerPid\":" + exited.pid()));
        assertThat(networks.cleanup((ns, c) -> !c.equals(id))).isEqualTo(1);
        assertThat(networks.attachment("nt2", id)).isEmpty();
        assertThat(networks.netnsPath("nt2", id)).doesNotExist();
        Process p = new ProcessBuilder("iptables-save").start();
        String rules = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        p.waitFor(10, TimeUnit.SECONDS);
        assertThat(rules).doesNotContain("nt2-" + id);
    }
}

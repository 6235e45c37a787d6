package dev.berth.network;

import dev.berth.api.IoFailureException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.berth.api.AlreadyExistsException;
import dev.berth.api.BerthException;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.Identifiers;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.NotFoundException;
import dev.berth.api.internal.Foreground;
import dev.berth.network.internal.Cidr;
import dev.berth.network.internal.Commands;
import dev.berth.network.internal.HostLock;
import dev.berth.network.internal.HostPorts;
import dev.berth.network.internal.Isolation;
import dev.berth.network.internal.NameFiles;
import dev.berth.network.internal.NetnsFiles;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.DirectoryStream;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.function.BiPredicate;
import java.util.stream.Stream;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The networks of one Berth root and the attachments of its containers.
 *
 * <p>A network is a bridge with a CNI conflist: {@code bridge} (gateway, masquerade, hairpin) with
 * {@code host-local} IPAM → {@code portmap} (SNAT, so 127.0.0.1 reaches published ports) →
 * {@code firewall} → {@code tuning}; each namespace's {@code lo} is brought up by the process that makes
 * the namespace ({@code ip link set lo up}), or by the {@code loopback} plugin without iproute2. Subnets are
 * /24s of {@value #POOL}: containerd's and podman's default is 10.88.0.0/16 and Docker's 172.17.0.0/16, so
 * Berth stays out of both; a subnet that overlaps a host route or another Berth network (of any root on
 * this host, reserved under the host directory) is never chosen. The {@value NetworkMode#DEFAULT_NETWORK}
 * network is created on first use and shared by every root on the host (bridge {@code berth0}).
 *
 * <p>An attachment is made before a container's task starts: a network namespace bound to a file under
 * {@code <state>/netns}, CNI ADD, the host ports reserved, and {@code hosts}, {@code hostname} and
 * {@code resolv.conf} under {@code <state>/net/<namespace>/<id>} for the spec to bind. Peers' {@code hosts}
 * files are rewritten in place (a bind mount pins the inode) when a container joins or leaves.
 * {@link #detach} undoes all of it and may be repeated. Thread-safe; several processes may share the
 * root and the host directory.
 */
public final class Networks implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Networks.class);
    /** Step times of attach and detach at debug level (the benchmark's step breakdown). */
    private static final Logger STEPS = LoggerFactory.getLogger("dev.berth.timing");
    private static final String LOOPBACK_CONFLIST =
            "{\"cniVersion\":\"1.0.0\",\"name\":\"berth-loopback\",\"plugins\":[{\"type\":\"loopback\"}]}";
    public static final String POOL = "10.89.0.0/16";
    public static final Path DEFAULT_HOST_DIR = Path.of("/var/lib/cni/berth");
    /** Where {@code host-local} keeps its leases (its default {@code dataDir}). */
    public static final Path IPAM_DIR = Path.of("/var/lib/cni/networks");
    static final String DEFAULT_BRIDGE = "berth0";
    static final String DEFAULT_CNI_NAME = "berth";
    /** In a holder: opening a root whose networks are untouched (a CLI call listing images) needs no Jackson. */
    private static final class Json {
        static final ObjectMapper MAPPER = new ObjectMapper();
    }

    private final Path configDir;
    private final Path stateNet;
    private final NetnsFiles netns;
    private final Path hostDir;
    private final HostLock hostLock;
    private final HostLock stateLock;
    private final CniPlugins plugins;
    private final String owner;
    private final HostPorts hostPorts;
    private final java.util.Set<String> isolated = java.util.concurrent.ConcurrentHashMap.newKeySet();
    private final Map<NetworkInfo, String> conflists = new java.util.concurrent.ConcurrentHashMap<>();
    private final boolean spares;
    private final Path spareRecords;
    /** This instance's spares ready to be taken, by network; only the instance that made a spare takes it. */
    private final Map<String, java.util.Deque<SpareRecord>> ready = new java.util.concurrent.ConcurrentHashMap<>();
    /** Spares being made, by network (one at a time per network). */
    /** The spares of {@link #making} whose start is deferred ({@link Foreground}), by network. */
    private final Map<String, Foreground.Deferred> deferredSpares = new java.util.concurrent.ConcurrentHashMap<>();
    private final Map<String, java.util.concurrent.CompletableFuture<Void>> making =
            new java.util.concurrent.ConcurrentHashMap<>();
    /**
     * This instance's id in its spare records, made when first needed: seeding the random UUID's generator
     * costs a short-lived process (a CLI listing) ~15 ms that it would spend for nothing.
     */
    private final java.util.concurrent.atomic.AtomicReference<String> instance = new java.util.concurrent.atomic.AtomicReference<>();
    private volatile boolean closed;
    /** Background detaches running, by namespace/id. */
    private final Map<String, CompletableFuture<Void>> detaching = new java.util.concurrent.ConcurrentHashMap<>();

    private Networks(Builder b) {
        this.configDir = b.root.resolve("networks");
        this.stateNet = b.stateDir.resolve("net");
        this.netns = new NetnsFiles(b.stateDir.resolve("netns"));
        this.hostDir = b.hostDir;
        this.hostLock = new HostLock(hostDir.resolve("lock"));
        this.stateLock = new HostLock(b.stateDir.resolve("net.lock"));
        this.plugins = new CniPlugins(b.pluginDirs, b.pluginTimeout);
        this.owner = b.root.toString();
        this.hostPorts = new HostPorts(hostDir.resolve("ports"));
        this.spares = b.spares;
        this.spareRecords = stateNet.resolve(".spare");
    }

    /** Networks of the root {@code root} with state (namespaces, attachments) under {@code stateDir}. */
    public static Builder builder(Path root, Path stateDir) {
        return new Builder(root, stateDir);
    }

    public CniPlugins plugins() {
        return plugins;
    }

    /** Checks a network name: 1-64 of letters, digits, '.', '_', '-', starting with a letter or digit. */
    public static String validateName(String name) {
        Objects.requireNonNull(name, "network name");
        if (!name.matches("[A-Za-z0-9][A-Za-z0-9_.-]{0,63}")) {
            throw new InvalidArgumentException("network name \"" + name
                    + "\" must be 1-64 letters, digits, '.', '_' or '-', starting with a letter or digit");
        }
        if (name.equals("none") || name.equals("host")) {
            throw new InvalidArgumentException("network name \"" + name + "\" is reserved for the network mode");
        }
        return name;
    }

    // ---- networks ---------------------------------------------------------------------------------

    /** Creates network {@code name} with the next free /24 of {@value #POOL}. */
    public NetworkInfo create(String name) {
        return create(name, null);
    }

    /**
     * Creates network {@code name} on {@code subnet} (null: the next free /24 of {@value #POOL}).
     *
     * @throws AlreadyExistsException if the name is taken
     * @throws InvalidArgumentException if the subnet is malformed, too small, or overlaps a host route
     *         or another Berth network
     */
    public NetworkInfo create(String name, String subnet) {
        validateName(name);
        if (name.equals(NetworkMode.DEFAULT_NETWORK)) {
            if (subnet != null) {
                throw new InvalidArgumentException("the default network's subnet is chosen by Berth");
            }
            return get(name);
        }
        Cidr wanted = subnet == null ? null : Cidr.parse(subnet);
        if (wanted != null && (wanted.prefix() > 28 || wanted.prefix() < 8)) {
            throw new InvalidArgumentException("subnet " + subnet + " must be a /8 to /28");
        }
        return hostLock.with(() -> {
            if (Files.exists(configFile(name))) {
                throw new AlreadyExistsException("network \"" + name + "\" already exists");
            }
            Cidr cidr = wanted != null ? reserveExact(wanted, name) : reserveFree(name);
            String hex = String.format("%08x", cidr.network());
            NetworkInfo info = new NetworkInfo(name, "berth-" + hex, "bn" + hex, cidr.toString(), cidr.host(1));
            save(info);
            return info;
        });
    }

    /**
     * Network {@code name}; the default network is created on its first use.
     *
     * @throws NotFoundException if there is no such network
     */
    public NetworkInfo get(String name) {
        validateName(name);
        Path f = configFile(name);
        if (!Files.exists(f) && name.equals(NetworkMode.DEFAULT_NETWORK)) {
            return hostLock.with(() -> Files.exists(f) ? read(f) : createDefault());
        }
        if (!Files.exists(f)) {
            throw new NotFoundException("network \"" + name + "\" not found");
        }
        return read(f);
    }

    /** The networks of this root, by name (the default network once it was used). */
    public List<NetworkInfo> list() {
        List<NetworkInfo> out = new ArrayList<>();
        if (!Files.isDirectory(configDir)) {
            return out;
        }
        try (Stream<Path> s = Files.list(configDir)) {
            s.filter(p -> p.getFileName().toString().endsWith(".json")).sorted().forEach(p -> out.add(read(p)));
        } catch (IOException e) {
            throw IoFailureException.of("cannot list " + configDir, e);
        }
        return out;
    }

    /** The CNI conflist of network {@code name}, as Berth hands it to the plugins. */
    public String conflist(String name) {
        return conflist(get(name)).toString();
    }

    /**
     * Removes network {@code name}, its bridge and its subnet reservation.
     *
     * @throws NotFoundException if there is no such network
     * @throws FailedPreconditionException if a container is still attached to it
     */
    public void remove(String name) {
        NetworkInfo info = get(name);
        awaitAllDetaches();
        var beingMade = making.get(name);
        if (beingMade != null) {
            joinMaking(name, beingMade);
        }
        dropDeadSpares(name);
        hostLock.run(() -> {
            List<String> users = attachments().stream().filter(a -> a.network().equals(name))
                    .map(a -> a.namespace() + "/" + a.containerId()).toList();
            if (!users.isEmpty()) {
                throw new FailedPreconditionException("network \"" + name + "\" is in use by " + users);
            }
            List<String> leases = leases(info.cniName());
            if (!leases.isEmpty()) {
                throw new FailedPreconditionException("network \"" + name + "\" is in use: addresses " + leases
                        + " are leased (see " + IPAM_DIR.resolve(info.cniName()) + ")");
            }
            try {
                Files.deleteIfExists(configFile(name));
                if (!name.equals(NetworkMode.DEFAULT_NETWORK)) {
                    Files.deleteIfExists(hostDir.resolve("subnets").resolve(Cidr.parse(info.subnet()).fileName()));
                    deleteTree(IPAM_DIR.resolve(info.cniName()));
                    Commands.run(List.of("ip", "link", "del", info.bridge()));
                    Isolation.remove(info.bridge());
                    isolated.remove(info.bridge());
                }
            } catch (IOException e) {
                throw IoFailureException.of("cannot remove network " + name, e);
            }
        });
    }

    private NetworkInfo createDefault() {
        Path reservations = hostDir.resolve("subnets");
        Cidr chosen = null;
        for (Path p : listDir(reservations)) {
            if (readString(p).equals("default")) {
                chosen = Cidr.parse(p.getFileName().toString().replace('-', '/'));
            }
        }
        if (chosen == null) {
            chosen = reserveFreeAs("default");
        }
        NetworkInfo info = new NetworkInfo(NetworkMode.DEFAULT_NETWORK, DEFAULT_CNI_NAME, DEFAULT_BRIDGE,
                chosen.toString(), chosen.host(1));
        save(info);
        return info;
    }

    private Cidr reserveFree(String name) {
        return reserveFreeAs(owner + "\t" + name);
    }

    private Cidr reserveFreeAs(String who) {
        Cidr pool = Cidr.parse(POOL);
        List<Cidr> taken = takenSubnets();
        for (long i = 0; i < 256; i++) {
            Cidr c = new Cidr(pool.network() + (i << 8), 24);
            if (taken.stream().noneMatch(c::overlaps)) {
                writeNew(hostDir.resolve("subnets").resolve(c.fileName()), who);
                return c;
            }
        }
        throw new FailedPreconditionException("no free /24 left in " + POOL + " for a new network");
    }

    private Cidr reserveExact(Cidr wanted, String name) {
        for (Cidr t : takenSubnets()) {
            if (t.overlaps(wanted)) {
                throw new InvalidArgumentException("subnet " + wanted + " overlaps " + t
                        + " (a host route or another Berth network)");
            }
        }
        writeNew(hostDir.resolve("subnets").resolve(wanted.fileName()), owner + "\t" + name);
        return wanted;
    }

    /** Subnets of host routes (other than the default route) and of every Berth network on the host. */
    private List<Cidr> takenSubnets() {
        List<Cidr> out = new ArrayList<>();
        for (Path p : listDir(hostDir.resolve("subnets"))) {
            out.add(Cidr.parse(p.getFileName().toString().replace('-', '/')));
        }
        for (String line : Commands.check(List.of("ip", "-4", "route", "show", "table", "all")).split("\n")) {
            String[] f = line.trim().split("\\s+");
            int i = f.length > 0 && (f[0].equals("local") || f[0].equals("broadcast") || f[0].equals("unicast")) ? 1 : 0;
            if (f.length <= i || f[i].equals("default") || f[i].isEmpty()) {
                continue;
            }
            if (f[i].startsWith("127.")) {
                continue;
            }
            try {
                out.add(Cidr.parse(f[i]));
            } catch (InvalidArgumentException notIpv4) {
                // multicast and other route kinds
            }
        }
        return out;
    }

    /** The conflist text of {@code n}, built once per network record. */
    private String conflistText(NetworkInfo n) {
        return conflists.computeIfAbsent(n, k -> conflist(k).toString());
    }

    private ObjectNode conflist(NetworkInfo n) {
        ObjectNode list = Json.MAPPER.createObjectNode().put("cniVersion", "1.0.0").put("name", n.cniName());
        ArrayNode ps = list.putArray("plugins");
        ObjectNode bridge = ps.addObject().put("type", "bridge").put("bridge", n.bridge()).put("isGateway", true)
                .put("ipMasq", true).put("hairpinMode", true);
        ObjectNode ipam = bridge.putObject("ipam").put("type", "host-local");
        ipam.putArray("ranges").addArray().addObject().put("subnet", n.subnet()).put("gateway", n.gateway());
        ipam.putArray("routes").addObject().put("dst", "0.0.0.0/0");
        ObjectNode portmap = ps.addObject().put("type", "portmap").put("snat", true);
        portmap.putObject("capabilities").put("portMappings", true);
        ps.addObject().put("type", "firewall").put("backend", "iptables");
        ps.addObject().put("type", "tuning");
        return list;
    }

    // ---- attachments ------------------------------------------------------------------------------

    /** What a container asks of its network. */
    public record AttachRequest(String namespace, String containerId, String network, List<PortMapping> ports,
                                List<String> aliases) {
        public AttachRequest {
            Identifiers.validate("namespace", namespace);
            Identifiers.validate("container id", containerId);
            validateName(network);
            ports = List.copyOf(ports);
            aliases = List.copyOf(aliases);
            for (String a : aliases) {
                if (!a.matches("[A-Za-z0-9]([A-Za-z0-9.-]{0,62})")) {
                    throw new InvalidArgumentException("alias \"" + a + "\" is not a host name");
                }
            }
        }
    }

    /** The netns file of container {@code id}: the spec's network namespace path. */
    public Path netnsPath(String namespace, String id) {
        return netns.dir().resolve(namespace).resolve(id);
    }

    /** The directory with the container's {@code hosts}, {@code hostname} and {@code resolv.conf}. */
    public Path filesDir(String namespace, String id) {
        return stateNet.resolve(namespace).resolve(id);
    }

    /**
     * Creates the container's {@code hosts}, {@code hostname} and {@code resolv.conf} (empty until it is
     * attached) and its namespace file (a plain file until then), so that a spec can name them before the
     * attachment exists; returns the directory of the name files.
     */
    public Path prepareFiles(String namespace, String id) {
        Path dir = filesDir(namespace, id);
        try {
            Path ns = netnsPath(namespace, id);
            if (!Files.exists(ns)) {
                Files.createDirectories(ns.getParent());
                Files.writeString(ns, "", StandardOpenOption.CREATE);
            }
            Files.createDirectories(dir);
            for (String f : List.of("hosts", "hostname", "resolv.conf")) {
                if (!Files.exists(dir.resolve(f))) {
                    Files.writeString(dir.resolve(f), "", StandardOpenOption.CREATE);
                }
            }
        } catch (IOException e) {
            throw IoFailureException.of("cannot create " + dir, e);
        }
        return dir;
    }

    /**
     * Attaches a container: a new network namespace, CNI ADD, published ports, name files. On failure
     * nothing is left behind. The same as {@code begin(r).finish()}.
     *
     * @throws NotFoundException if the network does not exist
     * @throws AlreadyExistsException if the container is attached already or a host port is in use
     * @throws FailedPreconditionException if a plugin is missing or fails
     * @throws dev.berth.api.DeadlineExceededException if a plugin hangs
     */
    public Attachment attach(AttachRequest r) {
        return begin(r).finish();
    }

    /**
     * The first part of {@link #attach}: the host ports reserved and the network namespace made (bound to
     * {@link #netnsPath}, {@code lo} up). When this returns, a task whose spec joins that namespace may be
     * created while {@link Attaching#finish()} runs the CNI ADD on another thread; the task must not start
     * before {@code finish} returned. On failure nothing is left behind.
     *
     * @throws NotFoundException if the network does not exist
     * @throws AlreadyExistsException if the container is attached already or a host port is in use
     * @throws FailedPreconditionException if a plugin is missing or the namespace cannot be made
     */
    public Attaching begin(AttachRequest r) {
        long t0 = System.nanoTime();
        awaitDetach(r.namespace(), r.containerId());
        NetworkInfo net = get(r.network());
        Path dir = filesDir(r.namespace(), r.containerId());
        Path ns = netnsPath(r.namespace(), r.containerId());
        String conflist = conflistText(net);
        if (Files.exists(dir.resolve("attachment.json"))) {
            Saved earlier = readSaved(dir.resolve("attachment.json"));
            if (earlier != null && (earlier.result() != null || earlier.ownerAlive())) {
                throw new AlreadyExistsException("container " + r.namespace() + "/" + r.containerId()
                        + " is already attached to a network");
            }
            // half made by a process that died: undo it first
            undo(earlier == null ? new Saved(r, net.name(), conflist, null, List.of(), ns.toString()) : earlier, dir);
        }
        for (String type : List.of("bridge", "host-local", "portmap", "firewall", "tuning")) {
            plugins.find(type);
        }
        if (isolated.add(net.bridge())) {
            hostLock.run(() -> Isolation.add(net.bridge()));
        }
        Saved saved = new Saved(r, net.name(), conflist, null, List.of(), ns.toString());
        try {
            Files.createDirectories(dir);
            List<PortMapping> ports = r.ports().isEmpty() ? List.of() : hostLock.with(() -> hostPorts.reserve(
                    r.ports(), owner + "\t" + r.namespace() + "/" + r.containerId()));
            saved = new Saved(r, net.name(), conflist, null, ports, ns.toString());
            writeSaved(dir, saved);
            long tReserved = System.nanoTime();
            Saved onSpare = null;
            if (sparesOn()) {
                onSpare = takeSpare(net, saved, dir, ns);
                if (onSpare == null && awaitSpareBeingMade(net.name())) {
                    onSpare = takeSpare(net, saved, dir, ns);
                }
            }
            if (onSpare != null) {
                saved = onSpare;
                ensureSpare(net.name(), true);
            } else {
                boolean loUp = stateLock.with(() -> netns.create(ns));
                if (!loUp) { // no iproute2: the loopback plugin brings lo up
                    CniPlugins.Invocation lo = new CniPlugins.Invocation(cniId(r.namespace(), r.containerId()),
                            ns.toString(), "lo", Map.of(), null);
                    plugins.add(LOOPBACK_CONFLIST, lo);
                }
            }
            long tNetns = System.nanoTime();
            return new Attaching(saved, dir, t0, tReserved, tNetns);
        } catch (IOException e) {
            undo(saved, dir);
            throw IoFailureException.of("cannot attach " + r.containerId(), e);
        } catch (RuntimeException e) {
            undo(saved, dir);
            throw e;
        }
    }

    /**
     * An attachment whose namespace exists and whose CNI ADD has yet to run ({@link #begin}). Either
     * {@link #finish()} or {@link #abort()} it, once.
     */
    public final class Attaching {
        private final Path dir;
        private final long t0;
        private final long tReserved;
        private final long tNetns;
        private Saved saved;

        private Attaching(Saved saved, Path dir, long t0, long tReserved, long tNetns) {
            this.saved = saved;
            this.dir = dir;
            this.t0 = t0;
            this.tReserved = tReserved;
            this.tNetns = tNetns;
        }

        /** The namespace file the container's spec joins. */
        public Path netns() {
            return Path.of(saved.netns());
        }

        /**
         * Runs the conflist's ADD and writes the name files; the attachment. May run on any thread. On
         * failure the attachment is undone (namespace, reservations) before the exception is thrown.
         *
         * @throws FailedPreconditionException if a plugin fails
         * @throws dev.berth.api.DeadlineExceededException if a plugin hangs
         */
        public Attachment finish() {
            long tStart = System.nanoTime();
            try {
                String result = saved.cniId() != null
                        ? (saved.ports().isEmpty() ? saved.partial() : plugins.add(portsConflist(saved.conflist()),
                                invocation(saved), null, saved.partial()))
                        : plugins.add(saved.conflist(), invocation(saved), soFar -> {
                    saved = saved.withPartial(soFar);
                    try {
                        writeSaved(dir, saved);
                    } catch (IOException e) {
                        throw IoFailureException.of("cannot record the CNI result of " + saved.request().containerId(), e);
                    }
                });
                long tAdd = System.nanoTime();
                saved = saved.withResult(result);
                writeSaved(dir, saved);
                Attachment a = saved.attachment();
                NameFiles.writeFor(dir, a.containerId());
                long tFiles = System.nanoTime();
                refreshHosts(saved.network());
                if (saved.cniId() == null) {
                    ensureSpare(saved.network(), true);
                }
                if (STEPS.isDebugEnabled()) {
                    long tEnd = System.nanoTime();
                    STEPS.debug(String.format("net-steps attach %s/%s prepare %.1f netns %.1f wait %.1f add %.1f"
                            + " files %.1f hosts %.1f total %.1f ms", a.namespace(), a.containerId(),
                            ms(t0, tReserved), ms(tReserved, tNetns), ms(tNetns, tStart), ms(tStart, tAdd),
                            ms(tAdd, tFiles), ms(tFiles, tEnd), ms(t0, tEnd)));
                }
                return a;
            } catch (IOException e) {
                undo(saved, dir);
                throw IoFailureException.of("cannot attach " + saved.request().containerId(), e);
            } catch (RuntimeException e) {
                undo(saved, dir);
                throw e;
            }
        }

        /** Undoes what {@link #begin} made (for a caller that will not call {@link #finish()}). */
        public void abort() {
            undo(saved, dir);
        }
    }

    private static double ms(long from, long to) {
        return (to - from) / 1e6;
    }

    private void undo(Saved s, Path dir) {
        try {
            detach(s, dir);
        } catch (RuntimeException e) {
            LOG.warn("cleaning up the failed attachment of {}: {}", s.request().containerId(), e.toString());
        }
    }

    /** The container's attachment, if it is attached. */
    public Optional<Attachment> attachment(String namespace, String id) {
        awaitDetach(namespace, id);
        Path f = filesDir(namespace, id).resolve("attachment.json");
        if (!Files.exists(f)) {
            return Optional.empty();
        }
        Saved s = readSaved(f);
        return s == null || s.result() == null ? Optional.empty() : Optional.of(s.attachment());
    }

    /** Every attachment made under this state directory. */
    public List<Attachment> attachments() {
        List<Attachment> out = new ArrayList<>();
        for (Saved s : allSaved()) {
            if (s.result() != null) {
                out.add(s.attachment());
            }
        }
        return out;
    }

    /**
     * Detaches a container: CNI DEL, its namespace unbound and removed, its host ports released, its
     * files removed, its peers' {@code hosts} rewritten. Does nothing if it is not attached.
     */
    public void detach(String namespace, String id) {
        awaitDetach(namespace, id);
        detachNow(namespace, id);
    }

    /**
     * Starts detaching a container whose task is gone on a thread of its own and returns at once (a run
     * with rm: its caller need not wait for the CNI DEL). The attachment's record stays until the DEL is
     * done, so a JVM that dies meanwhile leaves it to the next cleanup; {@link #detach}, {@link #attachment},
     * {@link #begin} of the same container and {@link #close} wait for it.
     */
    public CompletableFuture<Void> detachInBackground(String namespace, String id) {
        String key = namespace + "/" + id;
        CompletableFuture<Void> f = new CompletableFuture<>();
        CompletableFuture<Void> earlier = detaching.putIfAbsent(key, f);
        if (earlier != null) {
            return earlier;
        }
        SPARE_THREADS.execute(() -> {
            try {
                detachNow(namespace, id);
                f.complete(null);
            } catch (RuntimeException e) {
                LOG.warn("cannot detach {}: {} (the next cleanup tries again)", key, e.toString());
                f.completeExceptionally(e);
            } finally {
                detaching.remove(key, f);
            }
        });
        return f;
    }

    /** Waits for a background detach of the container, if one runs; its failure is not rethrown. */
    private void awaitDetach(String namespace, String id) {
        CompletableFuture<Void> f = detaching.get(namespace + "/" + id);
        if (f != null) {
            f.handle((v, e) -> null).join();
        }
    }

    private void awaitAllDetaches() {
        for (var f : List.copyOf(detaching.values())) {
            f.handle((v, e) -> null).join();
        }
    }

    private void detachNow(String namespace, String id) {
        Path dir = filesDir(namespace, id);
        Path f = dir.resolve("attachment.json");
        Saved s = Files.exists(f) ? readSaved(f) : null;
        if (s == null) {
            stateLock.run(() -> netns.remove(netnsPath(namespace, id)));
            deleteTree(dir);
            return;
        }
        detach(s, dir);
    }

    private void detach(Saved s, Path dir) {
        long t0 = System.nanoTime();
        RuntimeException failure = null;
        Path ns = Path.of(s.netns());
        try {
            String prevResult = s.delResult();
            if (s.result() == null) {
                // the ADD did not finish (its process died, or it failed): a plugin it started may still run
                awaitPluginsOf(s.pluginId());
            }
            if (prevResult == null) {
                // died before the first plugin answered (or the record was lost): the address is in the lease
                prevResult = resultFromLease(s);
            }
            if (netns.exists(ns) || prevResult != null) {
                // a namespace already gone (a reboot, a crash after its removal) is passed as none: the
                // plugins then release what lives outside it (leases, rules) and skip the rest
                plugins.del(s.conflist(), invocation(s, netns.exists(ns) ? s.netns() : ""), prevResult);
            }
        } catch (RuntimeException e) {
            failure = e;
        }
        long tDel = System.nanoTime();
        try {
            stateLock.run(() -> netns.remove(ns));
        } catch (RuntimeException e) {
            failure = failure == null ? e : failure;
        }
        long tNetns = System.nanoTime();
        if (!s.ports().isEmpty()) {
            hostLock.run(() -> hostPorts.release(s.ports()));
        }
        deleteTree(dir);
        long tFiles = System.nanoTime();
        try {
            refreshHosts(s.network());
        } catch (RuntimeException e) {
            LOG.warn("cannot rewrite the hosts files of network {}: {}", s.network(), e.toString());
        }
        if (STEPS.isDebugEnabled()) {
            long tEnd = System.nanoTime();
            STEPS.debug(String.format("net-steps detach %s/%s del %.1f netns %.1f files %.1f hosts %.1f total %.1f ms",
                    s.request().namespace(), s.request().containerId(), ms(t0, tDel), ms(tDel, tNetns),
                    ms(tNetns, tFiles), ms(tFiles, tEnd), ms(t0, tEnd)));
        }
        if (failure != null) {
            throw failure;
        }
    }

    /**
     * A result naming the address {@code host-local} leased to the attachment {@code s} (a lease file holds
     * the CNI container id and interface), enough for the firewall plugin's DEL to find its rules; null if
     * there is no lease.
     */
    private String resultFromLease(Saved s) {
        return resultFromLease(s.network(), s.pluginId());
    }

    private String resultFromLease(String network, String id) {
        NetworkInfo net;
        try {
            net = read(configFile(network));
        } catch (RuntimeException gone) {
            return null;
        }
        int prefix = Cidr.parse(net.subnet()).prefix();
        ArrayNode ips = Json.MAPPER.createArrayNode();
        for (String ip : leases(net.cniName())) {
            String[] lines = readString(IPAM_DIR.resolve(net.cniName()).resolve(ip)).split("\\r?\\n");
            if (lines.length > 0 && lines[0].trim().equals(id) && (lines.length < 2 || lines[1].trim().equals("eth0"))) {
                ips.addObject().put("address", ip + "/" + prefix).put("gateway", net.gateway());
            }
        }
        if (ips.isEmpty()) {
            return null;
        }
        ObjectNode result = Json.MAPPER.createObjectNode().put("cniVersion", "1.0.0");
        result.set("ips", ips);
        return result.toString();
    }

    /**
     * Waits (within the plugin timeout) until no CNI plugin runs for {@code cniId}: a plugin outlives the
     * process that started it, and a DEL that ran before its ADD finished would leave what the ADD made.
     */
    private void awaitPluginsOf(String cniId) {
        byte[] marker = ("CNI_CONTAINERID=" + cniId + "\0").getBytes(StandardCharsets.UTF_8);
        long deadline = System.nanoTime() + plugins.timeout().toNanos();
        while (System.nanoTime() < deadline) {
            boolean running = false;
            for (Path p : listDir(Path.of("/proc"))) {
                if (!p.getFileName().toString().chars().allMatch(Character::isDigit)) {
                    continue;
                }
                try {
                    byte[] env = Files.readAllBytes(p.resolve("environ"));
                    if (indexOf(env, marker) >= 0) {
                        running = true;
                        break;
                    }
                } catch (IOException | RuntimeException gone) {
                    // exited meanwhile, or a kernel thread
                }
            }
            if (!running) {
                return;
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                return;
            }
        }
    }

    private static int indexOf(byte[] hay, byte[] needle) {
        outer:
        for (int i = 0; i + needle.length <= hay.length; i++) {
            if (i > 0 && hay[i - 1] != 0) {
                continue;
            }
            for (int j = 0; j < needle.length; j++) {
                if (hay[i + j] != needle[j]) {
                    continue outer;
                }
            }
            return i;
        }
        return -1;
    }

    /**
     * Detaches every container under this state directory for which {@code keep(namespace, id)} is false
     * (its container or task is gone) and whose attaching process is gone too (while it runs, it may be
     * between the attachment and its task's creation, and it detaches what it attached); the number detached.
     */
    public int cleanup(BiPredicate<String, String> keep) {
        int n = 0;
        for (Path nsDir : listDir(stateNet)) {
            for (Path c : listDir(nsDir)) {
                String namespace = nsDir.getFileName().toString();
                String id = c.getFileName().toString();
                Saved s = readSaved(c.resolve("attachment.json"));
                if (s != null && s.ownerAlive()) {
                    continue;
                }
                if (!keep.test(namespace, id)) {
                    try {
                        detach(namespace, id);
                        n++;
                    } catch (RuntimeException e) {
                        LOG.warn("cannot clean up the network of {}/{}: {}", namespace, id, e.toString());
                    }
                }
            }
        }
        n += dropDeadSpares(null);
        for (Path nsDir : listDir(netns.dir())) {
            for (Path c : listDir(nsDir)) {
                String namespace = nsDir.getFileName().toString();
                String id = c.getFileName().toString();
                if (!Files.exists(filesDir(namespace, id)) && !keep.test(namespace, id)) {
                    stateLock.run(() -> netns.remove(c));
                    n++;
                }
            }
        }
        return n;
    }

    /**
     * Waits for a spare being made, detaches this instance's unused spares, and unmounts the namespace
     * directory if no namespace is left in it. Idempotent.
     */
    @Override
    public void close() {
        closed = true;
        awaitAllDetaches();
        releaseSpares();
        stateLock.run(netns::releaseIfEmpty);
    }

    // ---- spare namespaces -------------------------------------------------------------------------

    /**
     * The system property that turns spare namespaces off ({@code false}) while it is set, read at each
     * attachment: the benchmark's A/B rows.
     */
    public static final String SPARE_PROPERTY = "berth.network.spare";

    private boolean sparesOn() {
        return spares && !"false".equals(System.getProperty(SPARE_PROPERTY));
    }

    /**
     * A namespace attached ahead of need ({@code <state>/net/.spare/<cniId>.json}): the conflist without
     * its port-mapping plugins ran ADD on it as CNI container {@code cniId}; {@code result} null while that
     * runs ({@code partial}: the result so far). {@code instance} made it and alone takes it.
     */
    private record SpareRecord(String network, String conflist, String cniId, String netns, String result,
                               String partial, long ownerPid, String ownerStart, String instance) {
        SpareRecord with(String added, String soFar) {
            return new SpareRecord(network, conflist, cniId, netns, added, soFar, ownerPid, ownerStart, instance);
        }

        boolean ownerAlive() {
            return ProcessHandle.of(ownerPid).filter(ProcessHandle::isAlive)
                    .map(p -> startOf(p).equals(ownerStart)).orElse(false);
        }

        CniPlugins.Invocation invocation(String netnsPath) {
            return new CniPlugins.Invocation(cniId, netnsPath, "eth0", Map.of("IgnoreUnknown", "1"), null);
        }
    }

    /** The number of spares of this instance ready to be taken (for tests and the benchmark). */
    public int readySpares(String network) {
        var q = ready.get(network);
        return q == null ? 0 : q.size();
    }

    /**
     * Whether a spare for {@code network} is being made, and if so whether its start is still deferred
     * ({@link Foreground}): {@code none}, {@code deferred} or {@code running} (for tests and the benchmark).
     */
    public String spareProgress(String network) {
        if (!making.containsKey(network)) {
            return "none";
        }
        Foreground.Deferred d = deferredSpares.get(network);
        return d != null && !d.released() ? "deferred" : "running";
    }

    /**
     * Detaches this instance's unused spares now, after waiting for the background work (detaches, a spare
     * being made; the next attachment makes a spare again): a quiet point to compare the host's objects
     * at, or to give the addresses back.
     */
    public void releaseSpares() {
        awaitIdle();
        for (var q : ready.values()) {
            for (SpareRecord sp; (sp = q.poll()) != null; ) {
                dropSpare(sp);
            }
        }
    }

    /** Waits until this instance runs nothing in the background: no detach, no spare being made. */
    public void awaitIdle() {
        awaitAllDetaches();
        awaitSpares();
    }

    /** Waits until no spare of this instance is being made (tests: a quiet point to compare the host at). */
    public void awaitSpares() {
        for (var e : List.copyOf(making.entrySet())) {
            joinMaking(e.getKey(), e.getValue());
        }
    }

    /**
     * The system property that turns off waiting for a spare being made ({@code false}): an attachment that
     * finds no ready spare then runs the whole conflist itself at once, beside the spare's.
     */
    public static final String AWAIT_SPARE_PROPERTY = "berth.network.awaitSpare";

    /**
     * Waits for the spare of {@code network} being made, if one is: it started earlier, so it is ready no later
     * than the whole conflist run now would be, and two chains at once would share the CPU. True if one was
     * being made (it may still have failed or been taken by another attachment).
     */
    private boolean awaitSpareBeingMade(String network) {
        var f = making.get(network);
        if (f == null || "false".equals(System.getProperty(AWAIT_SPARE_PROPERTY))) {
            return false;
        }
        joinMaking(network, f);
        return true;
    }

    /**
     * Gets network {@code name} ready for its first attachment, off the caller's thread where it can: the
     * default network is created if it is new, the isolation rules of its bridge are set, and a spare
     * namespace is made (unless spares are off), so that an attachment that comes soon after takes it instead
     * of running the plugins itself. For a test kit's warm-up; idempotent.
     *
     * @throws NotFoundException if the network does not exist
     */
    public void prepare(String name) {
        NetworkInfo net = get(name);
        for (String type : List.of("bridge", "host-local", "portmap", "firewall", "tuning")) {
            plugins.find(type);
        }
        if (isolated.add(net.bridge())) {
            hostLock.run(() -> Isolation.add(net.bridge()));
        }
        // not deferred: the attachment it prepares for may be the start in flight itself
        ensureSpare(net.name(), false);
    }

    /** Waits for the spare of {@code network} being made ({@code f}), first releasing it if it was deferred. */
    private void joinMaking(String network, java.util.concurrent.CompletableFuture<Void> f) {
        boolean interrupted = false;
        while (!f.isDone()) {
            // looked up again until done: the deferral is recorded just after the spare counts as being made
            Foreground.Deferred d = deferredSpares.get(network);
            if (d != null) {
                d.expedite();
            }
            try {
                f.get(20, java.util.concurrent.TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.TimeoutException | java.util.concurrent.ExecutionException e) {
                // not done yet, or done (the spare's failure is logged where it happened)
            } catch (InterruptedException e) {
                interrupted = true;
            }
        }
        if (interrupted) {
            Thread.currentThread().interrupt();
        }
    }

    /**
     * Starts making a spare for {@code network} unless one is ready or being made, off the caller's thread;
     * {@code refill}: it replaces a spare just taken, and waits while a start is in flight ({@link Foreground}).
     */
    private void ensureSpare(String network, boolean refill) {
        if (!sparesOn() || closed || readySpares(network) > 0) {
            return;
        }
        var f = new java.util.concurrent.CompletableFuture<Void>();
        if (making.putIfAbsent(network, f) != null) {
            return;
        }
        String n = network;
        Runnable make = () -> {
            try {
                if (closed) {
                    return; // released by close after a deferral: nobody will take it
                }
                SpareRecord sp = makeSpare(get(n));
                if (closed) {
                    dropSpare(sp);
                } else {
                    ready.computeIfAbsent(n, k -> new java.util.concurrent.ConcurrentLinkedDeque<>()).add(sp);
                }
            } catch (RuntimeException e) {
                LOG.warn("cannot make a spare network namespace for network {}: {}", n, e.toString());
            } finally {
                deferredSpares.remove(n);
                making.remove(n);
                f.complete(null);
            }
        };
        if (refill) {
            // deferred while a latency-critical start is in flight (Foreground): its plugin processes would take
            // the CPU from that start's runc; whoever needs the spare expedites it
            deferredSpares.put(n, Foreground.defer(SPARE_THREADS, make));
        } else {
            SPARE_THREADS.execute(make);
        }
    }

    private String instance() {
        String id = instance.get();
        if (id == null) {
            instance.compareAndSet(null, java.util.UUID.randomUUID().toString());
            id = instance.get();
        }
        return id;
    }

    private SpareRecord makeSpare(NetworkInfo net) {
        long t0 = System.nanoTime();
        String id = "berth-spare-" + java.util.UUID.randomUUID().toString().replace("-", "").substring(0, 16);
        Path ns = netns.dir().resolve(".spare").resolve(id);
        SpareRecord sp = new SpareRecord(net.name(), spareConflist(conflistText(net)), id, ns.toString(), null, null,
                ProcessHandle.current().pid(), SELF_START, instance());
        writeSpare(sp);
        try {
            boolean loUp = stateLock.with(() -> netns.create(ns));
            if (!loUp) {
                plugins.add(LOOPBACK_CONFLIST, new CniPlugins.Invocation(id, ns.toString(), "lo", Map.of(), null));
            }
            SpareRecord[] now = {sp};
            String result = plugins.add(sp.conflist(), sp.invocation(ns.toString()), soFar -> {
                now[0] = now[0].with(null, soFar);
                writeSpare(now[0]);
            });
            sp = sp.with(result, null);
            writeSpare(sp);
            if (STEPS.isDebugEnabled()) {
                STEPS.debug(String.format("net-steps spare %s %s %.1f ms", net.name(), id, ms(t0, System.nanoTime())));
            }
            return sp;
        } catch (RuntimeException e) {
            dropSpare(sp);
            throw e;
        }
    }

    /**
     * Takes a ready spare of this instance for the attachment {@code saved}: the attachment is recorded on the
     * spare's CNI id and result, the spare's namespace bound to the container's file, the spare's record and
     * file removed, all under the state lock (a crash in between leaves two records of one CNI id, and
     * both are detached); null if there is none.
     */
    private Saved takeSpare(NetworkInfo net, Saved saved, Path dir, Path ns) {
        var q = ready.get(net.name());
        if (q == null || q.isEmpty()) {
            return null;
        }
        return stateLock.with(() -> {
            for (SpareRecord sp; (sp = q.poll()) != null; ) {
                Path spareNs = Path.of(sp.netns());
                if (!netns.exists(spareNs) || !sp.conflist().equals(spareConflist(saved.conflist()))) {
                    dropSpare(sp); // removed under us, or the network was made again
                    continue;
                }
                Saved taken = saved.onSpare(sp);
                try {
                    writeSaved(dir, taken);
                    netns.bind(spareNs, ns);
                    Files.deleteIfExists(spareFile(sp.cniId()));
                    netns.remove(spareNs);
                } catch (IOException e) {
                    throw IoFailureException.of("cannot take spare network namespace " + spareNs, e);
                }
                return taken;
            }
            return null;
        });
    }

    /** DEL on a spare, its namespace and record removed; failures logged (the next cleanup tries again). */
    private void dropSpare(SpareRecord sp) {
        Path ns = Path.of(sp.netns());
        try {
            String prev = sp.result() != null ? sp.result() : sp.partial();
            if (sp.result() == null) {
                awaitPluginsOf(sp.cniId());
            }
            if (prev == null) {
                prev = resultFromLease(sp.network(), sp.cniId());
            }
            if (netns.exists(ns) || prev != null) {
                plugins.del(sp.conflist(), sp.invocation(netns.exists(ns) ? sp.netns() : ""), prev);
            }
            stateLock.run(() -> netns.remove(ns));
            Files.deleteIfExists(spareFile(sp.cniId()));
        } catch (IOException | RuntimeException e) {
            LOG.warn("cannot remove spare network namespace {}: {}", sp.cniId(), e.toString());
        }
    }

    /** Removes the spares whose process is gone (and {@code network}'s ready ones too, if not null). */
    private int dropDeadSpares(String network) {
        int n = 0;
        for (Path f : listDir(spareRecords)) {
            SpareRecord sp = readSpare(f);
            if (sp == null) {
                continue;
            }
            boolean mine = sp.instance().equals(instance());
            boolean readyOfNetwork = network != null && sp.network().equals(network) && sp.result() != null
                    && (!mine || ready.getOrDefault(network, new java.util.ArrayDeque<>()).remove(sp));
            if (readyOfNetwork || !sp.ownerAlive()) {
                dropSpare(sp);
                n++;
            }
        }
        Path spareNetns = netns.dir().resolve(".spare");
        for (Path f : listDir(spareNetns)) {
            if (!Files.exists(spareFile(f.getFileName().toString()))) { // a record is written before its namespace
                stateLock.run(() -> netns.remove(f));
                n++;
            }
        }
        return n;
    }

    private Path spareFile(String cniId) {
        return spareRecords.resolve(cniId + ".json");
    }

    private void writeSpare(SpareRecord sp) {
        try {
            Files.createDirectories(spareRecords);
            Path tmp = spareRecords.resolve("." + sp.cniId() + ".tmp");
            Files.writeString(tmp, Json.MAPPER.writeValueAsString(sp), StandardCharsets.UTF_8);
            Files.move(tmp, spareFile(sp.cniId()), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw IoFailureException.of("cannot record spare network namespace " + sp.cniId(), e);
        }
    }

    private SpareRecord readSpare(Path f) {
        try {
            return Json.MAPPER.readValue(Files.readString(f), SpareRecord.class);
        } catch (NoSuchFileException gone) {
            return null;
        } catch (IOException e) {
            LOG.warn("unreadable spare record {}: {}", f, e.toString());
            return null;
        }
    }

    /** The conflist without the plugins that map ports (they run when the spare is taken). */
    private static String spareConflist(String conflist) {
        return filtered(conflist, false);
    }

    /** Only the conflist's port-mapping plugins: the rest of a spare's chain for a container's ports. */
    private static String portsConflist(String conflist) {
        return filtered(conflist, true);
    }

    private static final Map<String, String> FILTERED = new java.util.concurrent.ConcurrentHashMap<>();

    private static String filtered(String conflist, boolean portMapping) {
        if (FILTERED.size() > 256) {
            FILTERED.clear();
        }
        return FILTERED.computeIfAbsent(portMapping + conflist, k -> filter(conflist, portMapping));
    }

    private static String filter(String conflist, boolean portMapping) {
        try {
            ObjectNode list = (ObjectNode) Json.MAPPER.readTree(conflist);
            ArrayNode kept = Json.MAPPER.createArrayNode();
            for (var p : list.path("plugins")) {
                if (p.path("capabilities").path("portMappings").asBoolean() == portMapping) {
                    kept.add(p);
                }
            }
            list.set("plugins", kept);
            return list.toString();
        } catch (IOException e) {
            throw new BerthException("unreadable conflist " + conflist, e);
        }
    }

    /** Where spares are made: off every caller's thread; daemon threads ended after a minute unused. */
    private static final java.util.concurrent.Executor SPARE_THREADS = new java.util.concurrent.ThreadPoolExecutor(0,
            Integer.MAX_VALUE, 60, java.util.concurrent.TimeUnit.SECONDS, new java.util.concurrent.SynchronousQueue<>(),
            r -> {
                Thread t = new Thread(r, "berth-cni-spare");
                t.setDaemon(true);
                return t;
            });

    private CniPlugins.Invocation invocation(Saved s) {
        return invocation(s, s.netns());
    }

    private CniPlugins.Invocation invocation(Saved s, String netnsPath) {
        ArrayNode mappings = Json.MAPPER.createArrayNode();
        for (PortMapping p : s.ports()) {
            mappings.addObject().put("hostPort", p.hostPort()).put("containerPort", p.containerPort())
                    .put("protocol", p.protocol()).put("hostIP", p.hostIp());
        }
        ObjectNode rc = Json.MAPPER.createObjectNode();
        rc.set("portMappings", mappings);
        return new CniPlugins.Invocation(s.pluginId(), netnsPath, "eth0", Map.of("IgnoreUnknown", "1"), rc.toString());
    }

    private static String cniId(String namespace, String id) {
        return namespace + "-" + id;
    }

    /** Rewrites the {@code hosts} file of every container on {@code network}. */
    private void refreshHosts(String network) {
        stateLock.run(() -> {
            List<Attachment> peers = attachments().stream().filter(a -> a.network().equals(network))
                    .sorted(Comparator.comparing(Attachment::ip)).toList();
            for (Attachment a : peers) {
                Path hosts = filesDir(a.namespace(), a.containerId()).resolve("hosts");
                try {
                    if (Files.exists(hosts.getParent())) {
                        NameFiles.write(hosts, NameFiles.hosts(a, peers));
                    }
                } catch (IOException e) {
                    LOG.warn("cannot write {}: {}", hosts, e.toString());
                }
            }
        });
    }

    // ---- storage ----------------------------------------------------------------------------------

    /** An attachment as stored: the request, the conflist used, the ADD result, the reserved ports. */
    private record Saved(AttachRequest request, String network, String conflist, String result,
                         List<PortMapping> ports, String netns, long ownerPid, String ownerStart, String partial,
                         String cniId) {
        Saved(AttachRequest request, String network, String conflist, String result, List<PortMapping> ports,
              String netns) {
            this(request, network, conflist, result, ports, netns, ProcessHandle.current().pid(), SELF_START, null,
                    null);
        }

        /** The same, with the result of the ADD so far (the chain is running). */
        Saved withPartial(String soFar) {
            return new Saved(request, network, conflist, result, ports, netns, ownerPid, ownerStart, soFar, cniId);
        }

        Saved withResult(String added) {
            return new Saved(request, network, conflist, added, ports, netns, ownerPid, ownerStart, partial, cniId);
        }

        /** The same, on the spare namespace {@code spare} (its CNI id and ADD result). */
        Saved onSpare(SpareRecord spare) {
            return new Saved(request, network, conflist, null, ports, netns, ownerPid, ownerStart, spare.result(),
                    spare.cniId());
        }

        /** The CNI container id the plugins know this attachment by (a spare's, if it was made as one). */
        String pluginId() {
            return cniId != null ? cniId : Networks.cniId(request.namespace(), request.containerId());
        }

        /** The result a DEL hands the plugins: the ADD's, else what the ADD had made when it stopped. */
        String delResult() {
            return result != null ? result : partial;
        }

        /** Whether the process that made the attachment still runs (it then owns it). */
        boolean ownerAlive() {
            return ProcessHandle.of(ownerPid).filter(ProcessHandle::isAlive)
                    .map(p -> startOf(p).equals(ownerStart)).orElse(false);
        }

        Attachment attachment() {
            String ip = "";
            String gw = "";
            try {
                var res = Json.MAPPER.readTree(result);
                var first = res.path("ips").path(0);
                ip = first.path("address").asText().replaceAll("/.*", "");
                gw = first.path("gateway").asText();
            } catch (IOException e) {
                throw new BerthException("unreadable CNI result " + result, e);
            }
            return new Attachment(request.namespace(), request.containerId(), network, netns, ip, gw, ports,
                    request.aliases());
        }
    }

    private static final String SELF_START = startOf(ProcessHandle.current());

    private static String startOf(ProcessHandle p) {
        return p.info().startInstant().map(Object::toString).orElse("");
    }

    /**
     * Records an attachment: a new file renamed over the old, so a crash never leaves a torn record (a
     * record that cannot be read would be detached without its result, and the firewall rules would stay).
     */
    private static void writeSaved(Path dir, Saved saved) throws IOException {
        Path tmp = dir.resolve(".attachment.json.tmp");
        Files.writeString(tmp, Json.MAPPER.writeValueAsString(saved), StandardCharsets.UTF_8);
        Files.move(tmp, dir.resolve("attachment.json"), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    private Saved readSaved(Path f) {
        try {
            return Json.MAPPER.readValue(Files.readString(f), Saved.class);
        } catch (NoSuchFileException gone) {
            return null;
        } catch (IOException e) {
            LOG.warn("unreadable attachment {}: {}", f, e.toString());
            return null;
        }
    }

    private List<Saved> allSaved() {
        List<Saved> out = new ArrayList<>();
        for (Path nsDir : listDir(stateNet)) {
            for (Path c : listDir(nsDir)) {
                Saved s = readSaved(c.resolve("attachment.json"));
                if (s != null) {
                    out.add(s);
                }
            }
        }
        return out;
    }

    private List<String> leases(String cniName) {
        List<String> out = new ArrayList<>();
        for (Path p : listDir(IPAM_DIR.resolve(cniName))) {
            String n = p.getFileName().toString();
            if (n.matches("\\d+\\.\\d+\\.\\d+\\.\\d+")) {
                out.add(n);
            }
        }
        return out;
    }

    private Path configFile(String name) {
        return configDir.resolve(name + ".json");
    }

    private void save(NetworkInfo info) {
        try {
            Files.createDirectories(configDir);
            Path tmp = configDir.resolve("." + info.name() + ".tmp");
            Files.writeString(tmp, Json.MAPPER.writeValueAsString(info));
            Files.move(tmp, configFile(info.name()), java.nio.file.StandardCopyOption.ATOMIC_MOVE,
                    java.nio.file.StandardCopyOption.REPLACE_EXISTING);
        } catch (IOException e) {
            throw IoFailureException.of("cannot save network " + info.name(), e);
        }
    }

    private static NetworkInfo read(Path f) {
        try {
            return Json.MAPPER.readValue(Files.readString(f), NetworkInfo.class);
        } catch (IOException e) {
            throw IoFailureException.of("cannot read network " + f, e);
        }
    }

    private static void writeNew(Path f, String content) {
        try {
            Files.createDirectories(f.getParent());
            Files.writeString(f, content, StandardCharsets.UTF_8, StandardOpenOption.CREATE_NEW,
                    StandardOpenOption.WRITE);
        } catch (FileAlreadyExistsException e) {
            throw new AlreadyExistsException(f + " is already reserved by " + readString(f));
        } catch (IOException e) {
            throw IoFailureException.of("cannot write " + f, e);
        }
    }

    private static String readString(Path f) {
        try {
            return Files.readString(f, StandardCharsets.UTF_8).trim();
        } catch (IOException e) {
            return "";
        }
    }

    private static List<Path> listDir(Path dir) {
        List<Path> out = new ArrayList<>();
        if (!Files.isDirectory(dir)) {
            return out;
        }
        try (DirectoryStream<Path> s = Files.newDirectoryStream(dir)) {
            s.forEach(p -> {
                if (!p.getFileName().toString().startsWith(".") && !p.getFileName().toString().equals("lock")) {
                    out.add(p);
                }
            });
        } catch (IOException e) {
            throw IoFailureException.of("cannot list " + dir, e);
        }
        out.sort(Comparator.naturalOrder());
        return out;
    }

    private static void deleteTree(Path dir) {
        if (!Files.exists(dir)) {
            return;
        }
        try (Stream<Path> s = Files.walk(dir)) {
            for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
                Files.deleteIfExists(p);
            }
        } catch (IOException e) {
            throw IoFailureException.of("cannot remove " + dir, e);
        }
    }

    /** Options of {@link Networks}. Not thread-safe. */
    public static final class Builder {
        private final Path root;
        private final Path stateDir;
        private List<Path> pluginDirs = CniPlugins.DEFAULT_DIRS;
        private Duration pluginTimeout = CniPlugins.DEFAULT_TIMEOUT;
        private Path hostDir = DEFAULT_HOST_DIR;
        private boolean spares = true;

        private Builder(Path root, Path stateDir) {
            this.root = Objects.requireNonNull(root, "root").toAbsolutePath().normalize();
            this.stateDir = Objects.requireNonNull(stateDir, "stateDir").toAbsolutePath().normalize();
        }

        /** Where CNI plugins are looked up, in order (default /opt/cni/bin, /usr/lib/cni). */
        public Builder pluginDirs(List<Path> dirs) {
            if (dirs.isEmpty()) {
                throw new InvalidArgumentException("pluginDirs must not be empty");
            }
            this.pluginDirs = List.copyOf(dirs);
            return this;
        }

        /** How long one plugin may run before it is killed (default 30 s). */
        public Builder pluginTimeout(Duration timeout) {
            if (timeout.isNegative() || timeout.isZero()) {
                throw new InvalidArgumentException("pluginTimeout must be positive, not " + timeout);
            }
            this.pluginTimeout = timeout;
            return this;
        }

        /** The host-wide directory of subnet and host-port reservations (default /var/lib/cni/berth). */
        public Builder hostDir(Path dir) {
            this.hostDir = Objects.requireNonNull(dir, "hostDir").toAbsolutePath().normalize();
            return this;
        }

        /**
         * Whether a spare network namespace, attached ahead of need, is kept per network for the next
         * container to take (default on; {@code -Dberth.network.spare=false} turns the default off).
         */
        public Builder spareNetns(boolean on) {
            this.spares = on;
            return this;
        }

        public Networks build() {
            return new Networks(this);
        }
    }
}

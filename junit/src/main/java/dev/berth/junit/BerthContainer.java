package dev.berth.junit;

import dev.berth.ContainerConfig;
import dev.berth.ContainerOption;
import dev.berth.ContainerOptions;
import dev.berth.ExecOptions;
import dev.berth.Namespace;
import dev.berth.api.AlreadyExistsException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.NotFoundException;
import dev.berth.api.internal.Foreground;
import dev.berth.api.internal.StepTimes;
import dev.berth.api.task.ExitStatus;
import dev.berth.api.task.RunResult;
import dev.berth.api.task.Stdio;
import dev.berth.api.task.Task;
import dev.berth.junit.internal.ContainerLogs;
import dev.berth.junit.internal.ImageResolver;
import dev.berth.junit.internal.PortForwarder;
import dev.berth.junit.internal.ReuseKey;
import dev.berth.junit.internal.SharedBerth;
import dev.berth.junit.internal.WaitPauses;
import dev.berth.network.PortMapping;
import dev.berth.runtime.TaskOptions;
import dev.berth.runtime.spec.SpecOption;
import dev.berth.runtime.spec.SpecOptions;
import java.io.IOException;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.concurrent.CompletableFuture;
import java.util.function.Consumer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A container for a test, Testcontainers' {@code GenericContainer} without a Docker daemon: configured
 * with {@code with...} methods, started by {@link #start()} (or by the extension for a {@link Container @Container}
 * field), ready when its {@link WaitStrategy} says so, and removed (task, snapshot, record, network
 * attachment) by {@link #stop()}, or when the JVM ends however it ends.
 *
 * <pre>{@code
 * @Container
 * static BerthContainer<?> web = new BerthContainer<>(ImageSource.registry("docker.io/library/nginx:1.27"))
 *         .withExposedPorts(80)
 *         .waitingFor(Wait.forHttp("/"));
 * ... URI.create("http://" + web.host() + ":" + web.port(80) + "/") ...
 * }</pre>
 *
 * <p><b>Subclassing.</b> A ready-made container (a database, say) extends this class with itself as
 * {@code SELF} ({@code class PostgresContainer extends BerthContainer<PostgresContainer>}), sets its
 * defaults in the constructor (exposed ports, environment, wait strategy), may override {@link #configure()}
 * (runs at {@link #start()}, before the container is created: the last chance to read and change settings)
 * and {@link #containerIsStarted()} (runs once it is ready, e.g. to run a setup command), and adds its own
 * accessors on {@link #host()} and {@link #port(int)}.
 *
 * <p>Configuration methods must be called before {@link #start()}; the others need a started container.
 * Not thread-safe to configure; a started container may be used from several threads.
 *
 * @param <SELF> the concrete class, returned by the {@code with...} methods
 */
public class BerthContainer<SELF extends BerthContainer<SELF>> implements Startable {
    private static final Logger LOG = LoggerFactory.getLogger(BerthContainer.class);
    private static final SecureRandom RANDOM = new SecureRandom();
    /** The label that carries a reused container's spec hash. */
    public static final String REUSE_LABEL = "berth.junit/reuse";
    public static final Duration DEFAULT_STARTUP_TIMEOUT = Duration.ofSeconds(60);
    private static final int LOG_LINES_IN_ERRORS = 25;

    private final ImageSource image;
    private List<String> command;
    private List<String> entrypoint;
    private final Map<String, String> env = new LinkedHashMap<>();
    private String workingDirectory;
    private String user;
    private final List<String> binds = new ArrayList<>();
    private final List<SpecOption> mountOptions = new ArrayList<>();
    private final Map<String, String> tmpfs = new LinkedHashMap<>();
    private final Map<String, Transferable> copies = new LinkedHashMap<>();
    private long memoryBytes;
    private String cpus;
    private final Map<String, String> labels = new LinkedHashMap<>();
    private BerthNetwork network;
    private final List<String> aliases = new ArrayList<>();
    private final List<Integer> exposedPorts = new ArrayList<>();
    private final Map<Integer, Integer> fixedPorts = new LinkedHashMap<>();
    private WaitStrategy waitStrategy;
    private Duration startupTimeout = DEFAULT_STARTUP_TIMEOUT;
    private boolean reuse;
    private final List<Consumer<String>> logConsumers = new ArrayList<>();
    private final List<SpecOption> extraSpec = new ArrayList<>();
    private final List<ContainerOption> extraContainer = new ArrayList<>();

    private volatile dev.berth.Container container;
    private volatile Task task;
    private volatile ContainerLogs logs;
    private volatile Path logFile;
    private volatile boolean reused;
    /** A reusable container that became ready: {@link #stop()} lets go of it instead of removing it. */
    private volatile boolean keepOnStop;
    /** The reusable container {@link #stop()} let go of, for {@link #remove()}. */
    private volatile dev.berth.Container released;
    private volatile String imageName;
    private final Map<Integer, Integer> hostPorts = new java.util.concurrent.ConcurrentHashMap<>();
    /** The published ports of a session-scoped container, relayed by this JVM ({@link PortForwarder}). */
    private final List<PortForwarder> forwarders = new java.util.concurrent.CopyOnWriteArrayList<>();

    /**
     * The system property that turns off deferring the background refills a start causes (the next spare network
     * namespace) until its wait has passed ({@code false}: they run beside the start, as before).
     */
    public static final String DEFER_REFILL_PROPERTY = "berth.junit.deferRefill";

    /**
     * The system property that turns off setting up the published ports' relays while the task starts
     * ({@code false}: they are set up first, then the task is started, as before).
     */
    public static final String FORWARD_BESIDE_START_PROPERTY = "berth.junit.forwardBesideStart";

    /** Where a start's port relays are set up beside its {@code runc start}: daemon threads, ended when unused. */
    private static final java.util.concurrent.Executor FORWARD_SETUP = new java.util.concurrent.ThreadPoolExecutor(0,
            Integer.MAX_VALUE, 30, java.util.concurrent.TimeUnit.SECONDS, new java.util.concurrent.SynchronousQueue<>(),
            r -> {
                Thread th = new Thread(r, "berth-junit-forward-setup");
                th.setDaemon(true);
                return th;
            });

    /** A container of {@code image}. */
    public BerthContainer(ImageSource image) {
        this.image = Objects.requireNonNull(image, "image");
    }

    /** A container of registry image {@code reference}, pulled if the root does not have it. */
    public BerthContainer(String reference) {
        this(ImageSource.registry(reference));
    }

    /** This object as its concrete type, for the {@code with...} methods of subclasses. */
    @SuppressWarnings("unchecked")
    protected final SELF self() {
        return (SELF) this;
    }

    // ---------------------------------------------------------------- configuration

    /** Replaces the image's command ({@code Cmd}), keeping its entrypoint. */
    public SELF withCommand(String... newCommand) {
        requireNotStarted();
        this.command = List.of(newCommand);
        return self();
    }

    /** Replaces the image's entrypoint. */
    public SELF withEntrypoint(String... newEntrypoint) {
        requireNotStarted();
        this.entrypoint = List.of(newEntrypoint);
        return self();
    }

    /** Sets an environment variable over the image's. */
    public SELF withEnv(String name, String value) {
        requireNotStarted();
        if (name.isEmpty() || name.indexOf('=') >= 0) {
            throw new InvalidArgumentException("environment variable name \"" + name + "\" is empty or has '='");
        }
        env.put(name, Objects.requireNonNull(value, "value"));
        return self();
    }

    public SELF withEnv(Map<String, String> variables) {
        variables.forEach(this::withEnv);
        return self();
    }

    public SELF withWorkingDirectory(String dir) {
        requireNotStarted();
        this.workingDirectory = Objects.requireNonNull(dir, "dir");
        return self();
    }

    /** The user the process runs as: {@code name}, {@code uid}, {@code name:group} (looked up in the image). */
    public SELF withUser(String newUser) {
        requireNotStarted();
        this.user = Objects.requireNonNull(newUser, "user");
        return self();
    }

    /** Bind-mounts the host's {@code hostPath} at {@code containerPath}. */
    public SELF withBindMount(Path hostPath, String containerPath, boolean readOnly) {
        requireNotStarted();
        binds.add(hostPath.toAbsolutePath() + ":" + containerPath + (readOnly ? ":ro" : ":rw"));
        mountOptions.add(SpecOptions.bindMount(hostPath.toAbsolutePath(), containerPath, readOnly));
        return self();
    }

    /** A tmpfs at {@code containerPath}, with mount options such as {@code "size=64m"}. */
    public SELF withTmpFs(String containerPath, String... options) {
        requireNotStarted();
        tmpfs.put(containerPath, String.join(",", options));
        mountOptions.add(SpecOptions.tmpfs(containerPath, options));
        return self();
    }

    /** Copies {@code content} to {@code containerPath} before the container starts (directories are made). */
    public SELF withCopyToContainer(Transferable content, String containerPath) {
        requireNotStarted();
        copies.put(Objects.requireNonNull(containerPath, "containerPath"), Objects.requireNonNull(content, "content"));
        return self();
    }

    /** The memory limit in bytes. */
    public SELF withMemoryLimit(long bytes) {
        requireNotStarted();
        if (bytes <= 0) {
            throw new InvalidArgumentException("memory limit must be positive, not " + bytes);
        }
        this.memoryBytes = bytes;
        return self();
    }

    /** The CPU limit as a number of CPUs, e.g. 0.5. */
    public SELF withCpuLimit(double newCpus) {
        requireNotStarted();
        if (!(newCpus > 0)) {
            throw new InvalidArgumentException("CPU limit must be positive, not " + newCpus);
        }
        this.cpus = java.math.BigDecimal.valueOf(newCpus).stripTrailingZeros().toPlainString();
        return self();
    }

    public SELF withLabel(String key, String value) {
        requireNotStarted();
        dev.berth.api.Labels.validate(key, value);
        labels.put(key, value);
        return self();
    }

    /** Puts the container on {@code newNetwork} (default: Berth's {@code default} network). */
    public SELF withNetwork(BerthNetwork newNetwork) {
        requireNotStarted();
        this.network = Objects.requireNonNull(newNetwork, "network");
        return self();
    }

    /** Names other containers on the same network reach this one by. */
    public SELF withNetworkAliases(String... newAliases) {
        requireNotStarted();
        aliases.addAll(List.of(newAliases));
        return self();
    }

    /** Publishes these container TCP ports on free host ports of 127.0.0.1 (see {@link #port(int)}). */
    public SELF withExposedPorts(Integer... ports) {
        requireNotStarted();
        for (Integer p : ports) {
            if (p == null || p < 1 || p > 65535) {
                throw new InvalidArgumentException("exposed port " + p + " must be 1..65535");
            }
            if (!exposedPorts.contains(p)) {
                exposedPorts.add(p);
            }
        }
        return self();
    }

    /** Publishes {@code containerPort} on host port {@code hostPort} of 127.0.0.1 (fails if that port is taken). */
    public SELF withFixedExposedPort(int hostPort, int containerPort) {
        withExposedPorts(containerPort);
        fixedPorts.put(containerPort, hostPort);
        return self();
    }

    /** When the container counts as started (default: every exposed port listening, or at once without ports). */
    public SELF waitingFor(WaitStrategy strategy) {
        requireNotStarted();
        this.waitStrategy = Objects.requireNonNull(strategy, "strategy");
        return self();
    }

    /** How long {@link #start()} waits for the wait strategy (default 60 s). */
    public SELF withStartupTimeout(Duration timeout) {
        requireNotStarted();
        if (timeout.isNegative() || timeout.isZero()) {
            throw new InvalidArgumentException("startup timeout must be positive, not " + timeout);
        }
        this.startupTimeout = timeout;
        return self();
    }

    /**
     * Keeps the container running after the test and the JVM, and reuses it in later runs whose
     * configuration is the same (found by a hash of it in the label {@value #REUSE_LABEL}; any change makes
     * a new one). {@link #stop()} then only lets go of it. Files copied in count by content; options added
     * with {@link #withSpecOption} or {@link #withContainerOption} do not count. A reused container's output
     * goes to a file: {@link #logs()} reads it, log consumers are not called.
     */
    public SELF withReuse(boolean enabled) {
        requireNotStarted();
        this.reuse = enabled;
        return self();
    }

    /** Hands each line the container writes (stdout and stderr) to {@code consumer}, from start on. */
    public SELF withLogConsumer(Consumer<String> consumer) {
        requireNotStarted();
        logConsumers.add(Objects.requireNonNull(consumer, "consumer"));
        return self();
    }

    /** Any other setting of the OCI spec (capabilities, rlimits, sysctls, ...), applied after the others. */
    public SELF withSpecOption(SpecOption option) {
        requireNotStarted();
        extraSpec.add(Objects.requireNonNull(option, "option"));
        return self();
    }

    /** Any other container option (runtime, snapshotter, ...), applied after the others. */
    public SELF withContainerOption(ContainerOption option) {
        requireNotStarted();
        extraContainer.add(Objects.requireNonNull(option, "option"));
        return self();
    }

    // ---------------------------------------------------------------- settings, for subclasses and strategies

    /** The image source. */
    public ImageSource image() {
        return image;
    }

    /** The environment set with {@link #withEnv}, in order. */
    public Map<String, String> env() {
        return Map.copyOf(env);
    }

    /** The exposed container ports, in order. */
    public List<Integer> exposedPorts() {
        return List.copyOf(exposedPorts);
    }

    /** The network given to {@link #withNetwork}, if any. */
    public Optional<BerthNetwork> network() {
        return Optional.ofNullable(network);
    }

    /** The wait strategy that applies (the default one if none was set). */
    public WaitStrategy waitStrategy() {
        if (waitStrategy != null) {
            return waitStrategy;
        }
        return exposedPorts.isEmpty() ? Wait.none() : Wait.forListeningPort();
    }

    // ---------------------------------------------------------------- hooks

    /** Runs at {@link #start()} before anything is created: subclasses finish their configuration here. */
    protected void configure() {
    }

    /** Runs once the container is ready (and also when a reused one was found). */
    protected void containerIsStarted() {
    }

    // ---------------------------------------------------------------- lifecycle

    /**
     * Creates and starts the container (or finds the reused one) and waits until it is ready.
     *
     * @throws ContainerLaunchException if the image cannot be had, the container cannot start, exits early,
     *         or is not ready within the startup timeout (the message then ends with its last log lines)
     */
    @Override
    public synchronized void start() {
        if (task != null) {
            return;
        }
        // the refills of this start (the next spare network namespace) wait until its wait has passed, so their
        // plugin processes do not take the CPU from this container's runc create and start
        try (Foreground.Hold hold = "false".equals(System.getProperty(DEFER_REFILL_PROPERTY)) ? null
                : Foreground.enter()) {
            startHeld();
        }
    }

    private void startHeld() {
        configure();
        SharedBerth shared = SharedBerth.get();
        Namespace ns = shared.namespace();
        StepTimes.mark("junit-open");
        imageName = ImageResolver.resolve(ns, image);
        StepTimes.mark("junit-image");
        if (network != null) {
            network.start();
        }
        checkFixedPorts();
        String id;
        if (reuse) {
            String hash = ReuseKey.of(reuseDescription(ns));
            id = "reuse-" + hash.substring(0, 20);
            if (adoptReused(ns, id, hash)) {
                LOG.debug("reusing container {} ({})", id, imageName);
                waitUntilReady();
                keepOnStop = true;
                containerIsStarted();
                return;
            }
            create(ns, id, hash);
            waitUntilReady();
            keepOnStop = true;
            containerIsStarted();
            return;
        } else {
            byte[] r = new byte[6];
            RANDOM.nextBytes(r);
            id = "bj-" + HexFormat.of().formatHex(r);
            create(ns, id, null);
        }
        waitUntilReady();
        containerIsStarted();
    }

    private void create(Namespace ns, String id, String reuseHash) {
        List<ContainerOption> options = new ArrayList<>();
        options.add(ContainerOptions.image(imageName));
        List<SpecOption> spec = new ArrayList<>();
        spec.add(SpecOptions.hostname(id));
        if (entrypoint != null) {
            spec.add(SpecOptions.entrypoint(entrypoint.toArray(String[]::new)));
        }
        if (command != null) {
            spec.add(SpecOptions.cmd(command.toArray(String[]::new)));
        }
        env.forEach((k, v) -> spec.add(SpecOptions.envVar(k, v)));
        if (workingDirectory != null) {
            spec.add(SpecOptions.cwd(workingDirectory));
        }
        if (user != null) {
            spec.add(SpecOptions.user(user));
        }
        spec.addAll(mountOptions);
        if (memoryBytes > 0) {
            spec.add(SpecOptions.memoryLimit(memoryBytes));
        }
        if (cpus != null) {
            spec.add(SpecOptions.cpus(cpus));
        }
        spec.addAll(extraSpec);
        options.add(ContainerOptions.spec(spec));
        options.add(ContainerOptions.labels(labels));
        options.add(ContainerOptions.network(network != null ? network.name() : "default"));
        // A session-scoped container's ports are relayed by this JVM (it dies with it): its network attachment
        // then needs no portmap ADD and takes a spare namespace as it is. A reused one outlives the JVM: portmap.
        boolean forward = reuseHash == null && !exposedPorts.isEmpty() && PortForwarder.enabled();
        if (!forward) {
            for (int p : exposedPorts) {
                options.add(ContainerOptions.publish(PortMapping.tcp(fixedPorts.getOrDefault(p, 0), p)));
            }
        }
        aliases.forEach(a -> options.add(ContainerOptions.alias(a)));
        if (reuseHash != null) {
            options.add(ContainerOptions.label(REUSE_LABEL, reuseHash));
        } else {
            options.add(ContainerOptions.sessionScoped());
        }
        options.addAll(extraContainer);
        dev.berth.Container c;
        try {
            c = ns.containers().create(ContainerConfig.builder(id).with(options).build());
        } catch (AlreadyExistsException e) {
            throw e; // a reused container made by another JVM at the same moment: the caller adopts it
        } catch (RuntimeException e) {
            throw new ContainerLaunchException("cannot create container " + id + " from " + imageName + ": "
                    + e.getMessage(), e);
        }
        container = c;
        ContainerLogs newLogs = new ContainerLogs();
        logConsumers.forEach(newLogs::addConsumer);
        logs = newLogs;
        try {
            copies.forEach((path, content) -> c.copyTo(path, content.contentNoCopy(), content.mode()));
            Stdio stdio;
            if (reuseHash != null) {
                logFile = reuseLogFile(id);
                stdio = Stdio.file(logFile);
            } else {
                stdio = Stdio.of(null, newLogs.stdout(), newLogs.stderr());
            }
            Task t = c.newTask(TaskOptions.stdio(stdio));
            StepTimes.mark("task-create");
            task = t;
            if (forward && "false".equals(System.getProperty(FORWARD_BESIDE_START_PROPERTY))) {
                forwardPorts(c);
                StepTimes.mark("forward");
                t.start();
            } else if (forward) {
                // the relays are set up while the shim runs `runc start` (this thread only waits for it)
                startBesideForwarding(c, t);
            } else {
                t.start();
            }
            StepTimes.mark("task-start");
        } catch (RuntimeException e) {
            ContainerLaunchException failure = new ContainerLaunchException("cannot start container " + id + " from "
                    + imageName + ": " + e.getMessage() + portHint(e) + lastLogLines(), e);
            stopQuietly(failure);
            throw failure;
        }
        LOG.debug("started container {} ({}) as pid {}", id, imageName, task.pid());
    }

    private void startBesideForwarding(dev.berth.Container c, Task t) {
        CompletableFuture<Void> forwarding;
        try {
            forwarding = CompletableFuture.runAsync(() -> forwardPorts(c), FORWARD_SETUP);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            forwarding = CompletableFuture.completedFuture(null);
            forwardPorts(c);
        }
        RuntimeException failure = null;
        try {
            t.start();
        } catch (RuntimeException e) {
            failure = e;
        }
        try {
            forwarding.join();
        } catch (java.util.concurrent.CompletionException e) {
            RuntimeException cause = e.getCause() instanceof RuntimeException r ? r
                    : new ContainerLaunchException("cannot publish the ports of " + c.id() + ": " + e.getCause(), e);
            if (failure == null) {
                failure = cause;
            } else {
                failure.addSuppressed(cause);
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    private void forwardPorts(dev.berth.Container c) {
        String ip = c.ip().orElseThrow(() -> new ContainerLaunchException("container " + c.id()
                + " has no address on its network to forward its ports to"));
        for (int p : exposedPorts) {
            int fixed = fixedPorts.getOrDefault(p, 0);
            try {
                PortForwarder f = PortForwarder.open(fixed, ip, p);
                forwarders.add(f);
                hostPorts.put(p, f.hostPort());
            } catch (IOException e) {
                throw new ContainerLaunchException("cannot publish container port " + p + " on host port "
                        + (fixed == 0 ? "(any free)" : fixed) + " of 127.0.0.1: " + e.getMessage(), e);
            }
        }
    }

    private void closeForwarders() {
        for (PortForwarder f : forwarders) {
            f.close();
        }
        forwarders.clear();
    }

    private String portHint(RuntimeException e) {
        String m = String.valueOf(e.getMessage());
        return !fixedPorts.isEmpty() && m.contains("port") ? " (fixed host ports asked for: " + fixedPorts.values() + ")"
                : "";
    }

    private void checkFixedPorts() {
        for (var e : fixedPorts.entrySet()) {
            try (ServerSocket s = new ServerSocket(e.getValue(), 1, InetAddress.getLoopbackAddress())) {
                s.getLocalPort();
            } catch (IOException busy) {
                throw new ContainerLaunchException("host port " + e.getValue() + " (for container port " + e.getKey()
                        + ") is already in use on 127.0.0.1 by another process: choose another port, or use"
                        + " withExposedPorts(" + e.getKey() + ") to get a free one", busy);
            }
        }
    }

    private Path reuseLogFile(String id) {
        Path dir = SharedBerth.get().berth().stateDir().resolve("junit-reuse");
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw new ContainerLaunchException("cannot create " + dir + ": " + e.getMessage(), e);
        }
        return dir.resolve(id + ".log");
    }

    /** Takes over the running container {@code id} made by an earlier start with the same configuration. */
    private boolean adoptReused(Namespace ns, String id, String hash) {
        long deadline = System.nanoTime() + startupTimeout.toNanos();
        while (true) {
            dev.berth.Container c;
            try {
                c = ns.containers().get(id);
            } catch (NotFoundException e) {
                return false;
            }
            if (!hash.equals(c.labels().get(REUSE_LABEL))) {
                throw new ContainerLaunchException("container " + id + " exists but was not made for reuse by this"
                        + " configuration (label " + REUSE_LABEL + " differs); remove it");
            }
            Optional<Task> t = c.task();
            if (t.isPresent() && t.get().isAlive()) {
                container = c;
                task = t.get();
                reused = true;
                logFile = reuseLogFile(id);
                logs = new ContainerLogs();
                return true;
            }
            if (t.isEmpty() && System.nanoTime() < deadline && createdMomentsAgo(c)) {
                sleep(50); // another JVM made it and is starting its task
                continue;
            }
            LOG.debug("reused container {} is not running; making it again", id);
            try {
                Files.deleteIfExists(reuseLogFile(id));
            } catch (IOException e) {
                LOG.debug("cannot remove the log of {}: {}", id, e.toString());
            }
            t.ifPresent(x -> x.delete(true));
            try {
                c.delete();
            } catch (NotFoundException gone) {
                // another JVM removed it
            }
            return false;
        }
    }

    private static boolean createdMomentsAgo(dev.berth.Container c) {
        return c.info().createdAt() != null
                && Duration.between(c.info().createdAt(), java.time.Instant.now()).compareTo(Duration.ofSeconds(30)) < 0;
    }

    private String reuseDescription(Namespace ns) {
        StringBuilder sb = new StringBuilder();
        sb.append("image=").append(imageName).append('@').append(ns.images().get(imageName).target().digest()).append('\n');
        sb.append("entrypoint=").append(entrypoint).append("\ncommand=").append(command).append('\n');
        sb.append("env=").append(env).append("\ncwd=").append(workingDirectory).append("\nuser=").append(user).append('\n');
        sb.append("binds=").append(binds).append("\ntmpfs=").append(tmpfs).append('\n');
        copies.forEach((p, t) -> sb.append("copy=").append(p).append(' ').append(Integer.toOctalString(t.mode()))
                .append(' ').append(ReuseKey.of(t.contentNoCopy())).append('\n'));
        sb.append("memory=").append(memoryBytes).append("\ncpus=").append(cpus).append("\nlabels=").append(labels).append('\n');
        sb.append("network=").append(network == null ? "default" : network.name()).append("\naliases=").append(aliases)
                .append('\n');
        sb.append("ports=").append(exposedPorts).append(" fixed=").append(fixedPorts).append('\n');
        return sb.toString();
    }

    private void waitUntilReady() {
        WaitStrategy strategy = waitStrategy();
        long start = System.nanoTime();
        long deadline = start + startupTimeout.toNanos();
        WaitPauses pauses = WaitPauses.forInterval(strategy.pollInterval());
        Exception lastError = null;
        while (true) {
            boolean exited = !task.isAlive();
            try {
                if (strategy.isReady(this)) {
                    StepTimes.mark("wait-ready");
                    LOG.debug("container {} ready after {} ms ({})", id(), (System.nanoTime() - start) / 1_000_000,
                            strategy.description());
                    return;
                }
            } catch (ContainerLaunchException e) {
                fail(e.getMessage(), e);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                fail("interrupted while waiting for " + strategy.description(), e);
            } catch (Exception e) {
                lastError = e;
            }
            if (exited && !strategy.allowsExit()) {
                fail("container " + id() + " exited with code " + exitCode().orElse(-1) + " before it was ready ("
                        + strategy.description() + ")", null);
            }
            if (System.nanoTime() > deadline) {
                fail("container " + id() + " was not ready within " + startupTimeout.toMillis() + " ms: waited for "
                        + strategy.description() + (lastError == null ? "" : "; last check failed with " + lastError),
                        lastError);
            }
            sleep(pauses.next(System.nanoTime() - start));
        }
    }

    private void fail(String message, Throwable cause) {
        ContainerLaunchException e = new ContainerLaunchException(message + lastLogLines(), cause);
        stopQuietly(e);
        throw e;
    }

    private String lastLogLines() {
        if (logs == null && logFile == null) {
            return "";
        }
        List<String> lines = logLines();
        List<String> tail = lines.subList(Math.max(0, lines.size() - LOG_LINES_IN_ERRORS), lines.size());
        if (tail.isEmpty()) {
            return "\n(the container wrote no output)";
        }
        return "\nlast " + tail.size() + " log lines of " + id() + ":\n  " + String.join("\n  ", tail);
    }

    private void stopQuietly(Exception failure) {
        try {
            stop();
        } catch (RuntimeException e) {
            failure.addSuppressed(e);
        }
    }

    private static void sleep(long ms) {
        try {
            Thread.sleep(ms);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new ContainerLaunchException("interrupted", e);
        }
    }

    /**
     * Removes the container: kills its processes, deletes its task, snapshot, record and network attachment.
     * A reused container is only let go of (it keeps running for the next run). Idempotent.
     */
    @Override
    public synchronized void stop() {
        Task t = task;
        dev.berth.Container c = container;
        task = null;
        container = null;
        hostPorts.clear();
        if (keepOnStop) {
            keepOnStop = false;
            reused = false;
            released = c;
            if (t != null) {
                t.close();
            }
            return;
        }
        remove(t, c);
    }

    /**
     * Removes the container even if it is a reusable one ({@link #withReuse}): the next start makes it anew.
     * Idempotent.
     */
    public synchronized void remove() {
        Task t = task;
        dev.berth.Container c = container != null ? container : released;
        task = null;
        container = null;
        released = null;
        hostPorts.clear();
        keepOnStop = false;
        reused = false;
        if (t == null && c == null) {
            return;
        }
        remove(t, c);
    }

    private void remove(Task t, dev.berth.Container c) {
        closeForwarders();
        if (c != null && t == null) {
            t = c.task().orElse(null);
        }
        RuntimeException failure = null;
        if (t != null) {
            try {
                t.delete(true);
            } catch (NotFoundException gone) {
                // removed already
            } catch (RuntimeException e) {
                failure = e;
            }
        }
        if (c != null) {
            try {
                c.delete();
            } catch (NotFoundException gone) {
                // removed already
            } catch (RuntimeException e) {
                if (failure == null) {
                    failure = e;
                } else {
                    failure.addSuppressed(e);
                }
            }
        }
        Path f = logFile;
        logFile = null;
        if (f != null) {
            try {
                Files.deleteIfExists(f);
            } catch (IOException e) {
                LOG.debug("cannot remove {}: {}", f, e.toString());
            }
        }
        if (failure != null) {
            throw failure;
        }
    }

    private void requireNotStarted() {
        if (task != null) {
            throw new dev.berth.api.FailedPreconditionException("container " + id() + " has started; configure it before start()");
        }
    }

    private Task requireTask() {
        Task t = task;
        if (t == null) {
            throw new dev.berth.api.FailedPreconditionException("the container has not been started");
        }
        return t;
    }

    // ---------------------------------------------------------------- a started container

    /** Whether it has been started and its process has not exited. */
    public boolean isRunning() {
        Task t = task;
        return t != null && t.isAlive();
    }

    /** Whether {@link #start()} found a container made by an earlier run ({@link #withReuse}). */
    public boolean isReused() {
        return reused;
    }

    /** The container's id (null before {@link #start()}). */
    public String id() {
        dev.berth.Container c = container;
        return c == null ? null : c.id();
    }

    /** Berth's handle on the container (its record, labels, spec, network attachment). */
    public dev.berth.Container container() {
        dev.berth.Container c = container;
        if (c == null) {
            throw new dev.berth.api.FailedPreconditionException("the container has not been started");
        }
        return c;
    }

    /** The host address published ports listen on ({@code 127.0.0.1}). */
    public String host() {
        return PortMapping.LOOPBACK;
    }

    /**
     * The host port that exposed container port {@code containerPort} is published on.
     *
     * @throws InvalidArgumentException if that port was not exposed
     */
    public int port(int containerPort) {
        requireTask();
        if (!exposedPorts.contains(containerPort)) {
            throw new InvalidArgumentException("container port " + containerPort + " is not exposed (exposed: "
                    + exposedPorts + "); add it with withExposedPorts");
        }
        return hostPorts.computeIfAbsent(containerPort, p -> container().port(p));
    }

    /** The container's IPv4 address on its network. */
    public String ip() {
        return container().ip().orElseThrow(() -> new NotFoundException(id() + " is not attached to a network"));
    }

    /** Its process's pid on the host. */
    public int pid() {
        return requireTask().pid();
    }

    /** The exit code, once the process has exited. */
    public OptionalInt exitCode() {
        Task t = task;
        if (t == null || t.isAlive()) {
            return OptionalInt.empty();
        }
        ExitStatus s = t.onExit().join();
        return OptionalInt.of(s.code());
    }

    /** Everything the container wrote so far (stdout and stderr, interleaved as they came). */
    public String logs() {
        Path f = logFile;
        if (f != null) {
            try {
                return Files.exists(f) ? Files.readString(f) : "";
            } catch (IOException e) {
                throw new dev.berth.api.IoFailureException("cannot read " + f + ": " + e.getMessage(), e);
            }
        }
        ContainerLogs l = logs;
        return l == null ? "" : l.text();
    }

    /** The complete lines the container wrote so far. */
    public List<String> logLines() {
        if (logFile != null) {
            return logs().lines().toList();
        }
        ContainerLogs l = logs;
        return l == null ? List.of() : l.lines();
    }

    /** Runs {@code command} in the running container; exit code and output, byte for byte. */
    public RunResult exec(String... command) throws InterruptedException {
        return exec(ExecOptions.builder(command).build());
    }

    /** Runs a command with its own user (by name), environment, working directory or stdin. */
    public RunResult exec(ExecOptions options) throws InterruptedException {
        requireTask();
        return container().exec(options);
    }

    /** Copies {@code content} to {@code containerPath} in the running container (directories are made). */
    public void copyFileToContainer(Transferable content, String containerPath) {
        requireTask();
        container().copyTo(containerPath, content.contentNoCopy(), content.mode());
    }

    /** The bytes of the file {@code containerPath} in the container. */
    public byte[] copyFileFromContainer(String containerPath) {
        requireTask();
        return container().readFile(containerPath);
    }

    /** Copies the file {@code containerPath} to the host's {@code hostPath}, keeping its permission bits. */
    public void copyFileFromContainer(String containerPath, Path hostPath) {
        requireTask();
        container().copyFrom(containerPath, hostPath);
    }

    @Override
    public String toString() {
        return getClass().getSimpleName() + "[" + image.describe() + (id() == null ? "" : ", " + id()) + "]";
    }
}

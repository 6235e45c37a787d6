package dev.berth.junit.internal;

import dev.berth.Berth;
import dev.berth.Namespace;
import dev.berth.api.FailedPreconditionException;
import dev.berth.api.oci.image.ImageConfig;
import dev.berth.api.oci.image.OciJson;
import dev.berth.api.oci.runtime.RuntimeSpecJson;
import dev.berth.junit.BerthEnvironment;
import dev.berth.network.NetworkInfo;
import dev.berth.runtime.spec.SpecBuilder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** The JVM's shared Berth (see {@link BerthEnvironment}), closed by a shutdown hook. */
public final class SharedBerth {
    private static final Logger LOG = LoggerFactory.getLogger(SharedBerth.class);
    /** Networks made by test JVMs are named {@code bjn-<pid>-<start>-<n>}, so a later JVM can tell whose they were. */
    static final String NETWORK_PREFIX = "bjn-";
    private static final AtomicInteger NETWORKS = new AtomicInteger();
    private static volatile SharedBerth instance;

    private final Berth berth;
    private final Namespace namespace;

    private SharedBerth(Berth berth, String namespace) {
        this.berth = berth;
        this.namespace = berth.namespace(namespace);
    }

    public static SharedBerth get() {
        SharedBerth s = instance;
        if (s == null) {
            synchronized (SharedBerth.class) {
                s = instance;
                if (s == null) {
                    s = open();
                    instance = s;
                }
            }
        }
        return s;
    }

    private static SharedBerth open() {
        Path root = Path.of(System.getProperty(BerthEnvironment.ROOT_PROPERTY, Berth.DEFAULT_ROOT.toString()));
        Path state = Path.of(System.getProperty(BerthEnvironment.STATE_PROPERTY, Berth.DEFAULT_STATE.toString()));
        String ns = System.getProperty(BerthEnvironment.NAMESPACE_PROPERTY, "junit");
        if (!"false".equals(System.getProperty(PRELOAD_PROPERTY))) {
            Thread preload = new Thread(SharedBerth::preload, "berth-junit-preload");
            preload.setDaemon(true);
            preload.start();
        }
        Berth berth;
        try {
            // No shared shims: test containers are session-scoped, which the runtime never puts in a shared
            // shim (the session reaper must be able to kill a dead JVM's shims), and a reused container must
            // outlive the JVM, which a shared shim does not (it is stopped with the runtime that started it).
            berth = Berth.builder().root(root).stateDir(state).build();
        } catch (FailedPreconditionException e) {
            throw new FailedPreconditionException("Berth's JUnit extension cannot open root " + root + " (state "
                    + state + "): " + e.getMessage(), e);
        }
        SharedBerth s = new SharedBerth(berth, ns);
        Runtime.getRuntime().addShutdownHook(new Thread(berth::close, "berth-junit-close"));
        Thread warmUp = new Thread(s::warmUp, "berth-junit-warm-up");
        warmUp.setDaemon(true);
        warmUp.start();
        return s;
    }

    /** Classes a container's start loads, initialized ahead of it (their static setup is the slow part). */
    private static final List<String> FIRST_CONTAINER_CLASSES = List.of(
            "dev.berth.sys.LibC", "dev.berth.network.CniPlugins", "dev.berth.junit.internal.ListeningPorts");

    /**
     * The system property that keeps the warm-up from preparing the default network ({@code false}): for A/B
     * benchmarks.
     */
    static final String PREPARE_NETWORK_PROPERTY = "berth.junit.prepareNetwork";

    /**
     * The system property that keeps the warm-up from launching the first container's shim ahead
     * ({@code false}): for A/B benchmarks.
     */
    static final String PREPARE_SHIM_PROPERTY = "berth.junit.prepareShim";

    /**
     * The system property that keeps the preload thread from building the JSON codecs of image documents
     * and the runtime spec ({@code false}): for A/B benchmarks.
     */
    static final String PRELOAD_JSON_PROPERTY = "berth.junit.preloadJson";

    /** The system property that turns the preload thread off ({@code false}): for A/B benchmarks. */
    static final String PRELOAD_PROPERTY = "berth.junit.preload";

    /**
     * Classes the opening of the root and the first container need, in the order they need them,
     * initialized by {@link #preload} while the test's thread opens the root. Each has a costly static
     * setup that does not depend on the root: the metadata codec's Jackson mapper (needed when the root is
     * opened and its sessions are checked), jnr-ffi's generated libc binding (mounts and file copies), the
     * runtime spec's and the network records' JSON mappers, the CNI plugin runner, the task API's protobuf
     * messages, and the extension's own log and port readers.
     */
    private static final List<String> PRELOAD_CLASSES = List.of(
            "dev.berth.metadata.internal.Codec",
            "dev.berth.sys.Syscalls",
            "dev.berth.api.oci.runtime.RuntimeSpecJson",
            "dev.berth.network.Networks$Json",
            "dev.berth.network.CniPlugins",
            "dev.berth.runtime.internal.proto.task.CreateTaskRequest",
            "dev.berth.runtime.internal.proto.task.StartRequest",
            "dev.berth.junit.internal.ContainerLogs",
            "dev.berth.junit.internal.ListeningPorts");

    /**
     * Returns the classes that could not be initialized (none, unless one was renamed).
     *
     * <p>Opening the root is mostly one thread's work (SQLite, the snapshotters, the event journal) and the
     * classes it loads on the way; the first container then loads a second set. This initializes the
     * second set, and the codec the opening needs last, on another thread meanwhile, so a machine with
     * two cores spends the time once. A class initialized by both threads at once is initialized once
     * (the other waits), so this never delays the test's thread by more than that class's own setup.
     */
    static List<String> preload() {
        ClassLoader loader = SharedBerth.class.getClassLoader();
        List<String> failed = new java.util.ArrayList<>();
        for (String c : PRELOAD_CLASSES) {
            try {
                Class.forName(c, true, loader);
            } catch (ClassNotFoundException | LinkageError | RuntimeException e) {
                // only a head start: the test's thread loads what it needs itself and reports what fails
                LOG.debug("preloading {}: {}", c, e.toString());
                failed.add(c);
            }
        }
        if (!"false".equals(System.getProperty(PRELOAD_JSON_PROPERTY))) {
            try {
                warmJson();
            } catch (RuntimeException | LinkageError e) {
                LOG.debug("preloading the JSON codecs: {}", e.toString());
                failed.add("json");
            }
        }
        return failed;
    }

    /**
     * Has Jackson build its (de)serializers for the documents the first container reads and writes: the image's
     * manifest and config, and the runtime spec written to the bundle and read back by the task. Jackson
     * builds them on first use by introspecting each record type of the model, which is most of a first
     * container's image and spec steps in a fresh JVM; done here, on the preload thread, while the root opens.
     */
    static void warmJson() {
        String digest = "sha256:" + "0".repeat(64);
        OciJson.parseManifest(("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image.manifest.v1+json\","
                + "\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\",\"digest\":\"" + digest
                + "\",\"size\":2},\"layers\":[{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar\",\"digest\":\""
                + digest + "\",\"size\":2}]}").getBytes(StandardCharsets.UTF_8));
        ImageConfig config = OciJson.parseImageConfig(("{\"architecture\":\"amd64\",\"os\":\"linux\","
                + "\"config\":{\"Env\":[\"PATH=/bin\"],\"Cmd\":[\"sh\"],\"WorkingDir\":\"/\","
                + "\"ExposedPorts\":{\"80/tcp\":{}}},\"rootfs\":{\"type\":\"layers\","
                + "\"diff_ids\":[\"" + digest + "\"]}}").getBytes(StandardCharsets.UTF_8));
        RuntimeSpecJson.parse(RuntimeSpecJson.toJson(
                SpecBuilder.defaults("junit-preload", "preload").imageConfig(config).build()));
    }

    /**
     * What a JVM's first container would otherwise do in line, done while the test's thread resolves the
     * image and creates the container: the task runtime starts (its socket, event loop and the shim client's
     * classes) and launches the spare shim the first container takes, the classes of network setup and native
     * calls are initialized, and networks left by dead test JVMs are removed. On a loaded machine a second
     * runnable thread also gets the JVM a second share of the CPU.
     */
    private void warmUp() {
        try {
            if (!"false".equals(System.getProperty(PREPARE_SHIM_PROPERTY))) {
                // the first container's shim is launched now, on a runtime thread, while the image is resolved
                // and the network prepared; the container takes it instead of starting one in line
                namespace.tasks().prepareShim();
            }
            if (!"false".equals(System.getProperty(PREPARE_NETWORK_PROPERTY))) {
                // every container attaches to a network, the default one unless it names its own: its isolation
                // rules and a spare namespace are made now, and the first container takes that spare
                berth.networks().prepare("default");
            }
            namespace.tasks().list();
            for (String c : FIRST_CONTAINER_CLASSES) {
                Class.forName(c, true, SharedBerth.class.getClassLoader());
            }
            removeOrphanedNetworks();
        } catch (ClassNotFoundException | RuntimeException | LinkageError e) {
            // only a head start: the first container does the same work itself and reports what fails
            LOG.debug("warming up for the first container: {}", e.toString());
        }
    }

    public Berth berth() {
        return berth;
    }

    public Namespace namespace() {
        return namespace;
    }

    public void cleanUp() {
        berth.gc();
        removeOrphanedNetworks();
    }

    /** A new network name owned by this JVM. */
    public static String newNetworkName() {
        ProcessHandle me = ProcessHandle.current();
        return NETWORK_PREFIX + me.pid() + "-" + startOf(me) + "-" + NETWORKS.incrementAndGet();
    }

    private static String startOf(ProcessHandle p) {
        return Long.toString(p.info().startInstant().map(java.time.Instant::toEpochMilli).orElse(0L), 36);
    }

    private void removeOrphanedNetworks() {
        for (NetworkInfo n : berth.networks().list()) {
            String[] parts = n.name().split("-");
            if (!n.name().startsWith(NETWORK_PREFIX) || parts.length != 4) {
                continue;
            }
            boolean alive = ProcessHandle.of(Long.parseLong(parts[1]))
                    .filter(p -> p.isAlive() && startOf(p).equals(parts[2])).isPresent();
            if (!alive) {
                try {
                    berth.networks().remove(n.name());
                } catch (RuntimeException e) {
                    LOG.warn("cannot remove network {} left by a test JVM that is gone: {}", n.name(), e.toString());
                }
            }
        }
    }
}

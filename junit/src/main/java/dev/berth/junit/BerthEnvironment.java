package dev.berth.junit;

import dev.berth.Berth;
import dev.berth.Namespace;
import dev.berth.junit.internal.SharedBerth;

/**
 * The one {@link Berth} the containers of a test JVM run on, opened on first use and closed when the JVM
 * ends (its session-scoped containers then go with it). Set with system properties:
 * <ul>
 *   <li>{@value #ROOT_PROPERTY}: the root (default {@code /var/lib/berth}; images are shared with the CLI);</li>
 *   <li>{@value #STATE_PROPERTY}: the state directory (default {@code /run/berth});</li>
 *   <li>{@value #NAMESPACE_PROPERTY}: the namespace containers and images live in (default {@code junit}).</li>
 * </ul>
 * Several test JVMs (parallel Surefire forks) may use the same root and state directory at once. Each
 * container has a shim of its own: the runtime never puts session-scoped tasks in a shared shim (a killed
 * JVM's shims must be reaped with its containers), and a shared shim does not outlive the JVM that started it,
 * which a reused container must.
 */
public final class BerthEnvironment {
    public static final String ROOT_PROPERTY = "berth.junit.root";
    public static final String STATE_PROPERTY = "berth.junit.state";
    public static final String NAMESPACE_PROPERTY = "berth.junit.namespace";

    private BerthEnvironment() {
    }

    /**
     * The shared Berth, opened now if needed.
     *
     * @throws dev.berth.api.FailedPreconditionException if this JVM does not run as root (saying what is needed)
     */
    public static Berth berth() {
        return SharedBerth.get().berth();
    }

    /** The namespace test containers and their images live in. */
    public static Namespace namespace() {
        return SharedBerth.get().namespace();
    }

    /**
     * Removes what test JVMs that were killed left on the root: their session-scoped containers (tasks,
     * snapshots, records, network attachments) and their networks. Runs by itself when the shared Berth
     * opens; call it to clean up after a JVM killed while this one runs.
     */
    public static void cleanUp() {
        SharedBerth.get().cleanUp();
    }
}

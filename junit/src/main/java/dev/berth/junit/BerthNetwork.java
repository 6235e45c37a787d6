package dev.berth.junit;

import dev.berth.api.FailedPreconditionException;
import dev.berth.api.NotFoundException;
import dev.berth.junit.internal.SharedBerth;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A network of its own for a test's containers, which reach each other by their aliases
 * ({@link BerthContainer#withNetworkAliases}): Testcontainers' {@code Network.newNetwork()}. Created when it
 * or the first container on it starts, removed by {@link #stop()}; a network left by a killed test JVM is
 * removed by the next one. Thread-safe.
 */
public final class BerthNetwork implements Startable {
    private static final Logger LOG = LoggerFactory.getLogger(BerthNetwork.class);
    private final String name;
    private boolean created;

    private BerthNetwork(String name) {
        this.name = name;
    }

    /** A new network with a name unique to this JVM. */
    public static BerthNetwork newNetwork() {
        return new BerthNetwork(SharedBerth.newNetworkName());
    }

    /** The network's name (as containers and {@code Berth.networks()} know it). */
    public String name() {
        return name;
    }

    @Override
    public synchronized void start() {
        if (!created) {
            SharedBerth.get().berth().networks().create(name);
            created = true;
        }
    }

    /** Removes the network; containers still attached to it keep it (logged). */
    @Override
    public synchronized void stop() {
        if (!created) {
            return;
        }
        try {
            SharedBerth.get().berth().networks().remove(name);
            created = false;
        } catch (NotFoundException gone) {
            created = false;
        } catch (FailedPreconditionException e) {
            LOG.warn("network {} not removed: {}", name, e.getMessage());
        }
    }

    @Override
    public String toString() {
        return "network " + name;
    }
}

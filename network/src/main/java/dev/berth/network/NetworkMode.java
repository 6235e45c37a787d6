package dev.berth.network;

import dev.berth.api.Identifiers;
import dev.berth.api.InvalidArgumentException;
import java.util.Objects;

/** How a container is networked. */
public sealed interface NetworkMode {

    /** The name of the network Berth creates on first use. */
    String DEFAULT_NETWORK = "default";

    /** Its own network namespace with only a loopback interface (the default). */
    record None() implements NetworkMode {
        @Override
        public String toString() {
            return "none";
        }
    }

    /** The host's network namespace. */
    record Host() implements NetworkMode {
        @Override
        public String toString() {
            return "host";
        }
    }

    /** Its own network namespace, attached to network {@code name} through its CNI plugins. */
    record Attached(String name) implements NetworkMode {
        public Attached {
            Networks.validateName(name);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** The network namespace of container {@code id} in the same Berth namespace (pod-style). */
    record Joined(String containerId) implements NetworkMode {
        public Joined {
            Identifiers.validate("container id", containerId);
        }

        @Override
        public String toString() {
            return "container:" + containerId;
        }
    }

    static NetworkMode none() {
        return new None();
    }

    static NetworkMode host() {
        return new Host();
    }

    static NetworkMode network(String name) {
        return new Attached(name);
    }

    static NetworkMode container(String id) {
        return new Joined(id);
    }

    /** Parses {@code none}, {@code host}, {@code container:<id>} or a network name. */
    static NetworkMode parse(String text) {
        Objects.requireNonNull(text, "network mode");
        if (text.equals("none")) {
            return none();
        }
        if (text.equals("host")) {
            return host();
        }
        if (text.startsWith("container:")) {
            return container(text.substring("container:".length()));
        }
        if (text.isEmpty()) {
            throw new InvalidArgumentException("network mode must not be empty (none, host, container:<id> or a network)");
        }
        return network(text);
    }
}

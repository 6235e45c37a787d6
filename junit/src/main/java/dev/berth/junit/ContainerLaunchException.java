package dev.berth.junit;

import dev.berth.api.BerthException;

/**
 * A container did not become ready: its image could not be had, it could not be created or started, it
 * exited early, or a wait strategy timed out. The message says which, and ends with the container's last
 * log lines when it had started.
 */
public class ContainerLaunchException extends BerthException {
    private static final long serialVersionUID = 1L;

    public ContainerLaunchException(String message) {
        super(message);
    }

    public ContainerLaunchException(String message, Throwable cause) {
        super(message, cause);
    }
}

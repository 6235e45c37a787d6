package dev.berth.api.task;

/** A task process's lifecycle state, as containerd's {@code containerd.v1.types.Status}. */
public enum TaskStatus {
    UNKNOWN, CREATED, RUNNING, STOPPED, PAUSED, PAUSING
}

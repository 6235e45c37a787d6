package dev.berth.runtime.internal;

import dev.berth.runtime.internal.proto.task.ConnectResponse;

/**
 * A task's line to the shim serving it: a shim of its own ({@link OwnShim}) or one it shares with other
 * tasks of its namespace ({@link SharedShimLease}). What ending the task means for the shim differs, so the
 * connection decides: an own shim is shut down with its task, a shared one only loses a user.
 */
interface ShimConnection {
    ShimClient client();

    /** The shim's answer to {@code Connect} for the task: the shim's pid and the task's. */
    ConnectResponse connect();

    /** The task was deleted (or its create failed): the shim no longer serves it. */
    void release(boolean now);

    /** This JVM lets go of the task; the shim keeps serving it. */
    void detach();

    /** The shim is gone or does not answer, and its delete action ran: remove what is left of it. */
    void abandon();
}

package dev.berth.api.task;

/** What {@link TaskRuntime#run} captured: all of stdout and stderr (UTF-8) and the exit code. */
public record RunResult(String stdout, String stderr, int exitCode) {
}

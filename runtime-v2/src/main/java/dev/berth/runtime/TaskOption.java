package dev.berth.runtime;

import dev.berth.api.task.TaskConfig;
import java.util.List;

/**
 * One setting of a task being created, applied to its {@link TaskConfig.Builder}: containerd's
 * {@code NewTaskOpts}. {@link TaskOptions} has the factories. Whoever creates the task (a container's
 * {@code newTask}, a run) first fills in what it owns (spec, rootfs, runtime), then applies the caller's
 * options in order; a setting applied again replaces the earlier value.
 *
 * <p><b>A new task option</b> is a setter on {@link TaskConfig.Builder} plus one factory in
 * {@link TaskOptions}.
 */
@FunctionalInterface
public interface TaskOption {

    /** Applies this option to {@code task}; throws what the builder's setter throws. */
    void apply(TaskConfig.Builder task);

    /** Applies {@code options} to {@code task} in order and returns it. */
    static TaskConfig.Builder applyAll(TaskConfig.Builder task, List<? extends TaskOption> options) {
        for (TaskOption o : options) {
            o.apply(task);
        }
        return task;
    }
}

package dev.berth.examples;

import dev.berth.Berth;
import dev.berth.Container;
import dev.berth.ContainerOptions;
import dev.berth.api.task.ExecConfig;
import dev.berth.api.task.RunResult;
import dev.berth.api.task.Stdio;
import dev.berth.api.task.Task;
import dev.berth.api.task.TaskProcess;
import dev.berth.runtime.TaskOptions;
import dev.berth.runtime.spec.SpecOptions;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Execs into a running task: start a container that sleeps, run {@code echo} inside it (as
 * {@code berth tasks exec} does), print what it wrote and the container's processes, then kill and remove
 * everything.
 */
public final class ExecIntoTask {
    private ExecIntoTask() {
    }

    public static void main(String[] args) throws Exception {
        Path archive = Files.createTempFile("berth-demo-", ".tar");
        try (Berth berth = Roots.open()) {
            DemoImage.write(archive, DemoImage.NAME);
            berth.importImage(archive);

            String id = "exec-example";
            // containerd's NewContainer(id, WithImage, WithNewSpec(...)), then NewTask: options are values
            Container container = berth.containers().create(id,
                    ContainerOptions.image(DemoImage.NAME),
                    ContainerOptions.spec(SpecOptions.args("sleep", "300"), SpecOptions.hostname(id)));
            Task task = container.newTask(TaskOptions.stdio(Stdio.nullIO()));
            try {
                task.start();
                RunResult echo = task.run(ExecConfig.builder("say-hi")
                        .args("sh", "-c", "echo hello from $(hostname)")
                        .build(), null);
                System.out.print("exec output: " + echo.stdout());
                System.out.println("exec exit code: " + echo.exitCode());
                for (TaskProcess p : task.pids()) {
                    System.out.println("process " + p.pid() + (p.execId().isPresent() ? " (exec " + p.execId().get() + ")"
                            : " (init)"));
                }
            } finally {
                task.delete(true);
                container.delete();
            }
            System.out.println("removed " + id);
        } finally {
            Files.deleteIfExists(archive);
        }
    }
}

package dev.berth.examples;

import dev.berth.Berth;
import dev.berth.RunOptions;
import dev.berth.runtime.ExecConfig;
import dev.berth.runtime.RunResult;
import dev.berth.runtime.Task;
import dev.berth.runtime.TaskProcess;
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
            Task task = berth.run(DemoImage.NAME, RunOptions.builder().id(id).args("sleep", "300").build());
            try {
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
                berth.containers().delete(id);
            }
            System.out.println("removed " + id);
        } finally {
            Files.deleteIfExists(archive);
        }
    }
}

package dev.berth.examples;

import dev.berth.Berth;
import dev.berth.RunOptions;
import dev.berth.api.task.RunResult;
import dev.berth.runtime.spec.SpecOption;
import dev.berth.runtime.spec.SpecOptions;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Runs a container and captures its output: import an image, run one command in a fresh container,
 * read stdout, stderr and the exit code, and remove the container.
 */
public final class RunAndCapture {
    private RunAndCapture() {
    }

    public static void main(String[] args) throws Exception {
        Path archive = Files.createTempFile("berth-demo-", ".tar");
        try (Berth berth = Roots.open()) {
            DemoImage.write(archive, DemoImage.NAME);
            berth.importImage(archive);

            // spec options are values: one list of limits can go to every run or container that needs them
            List<SpecOption> limits = List.of(SpecOptions.memoryLimit(64L << 20), SpecOptions.pidsLimit(64));
            RunResult result = berth.runAndWait(DemoImage.NAME, RunOptions.builder()
                    .args("sh", "-c", "echo \"running as $(id -un) on $(hostname)\"; echo to-stderr >&2; exit 7")
                    .hostname("capture")
                    .spec(limits)
                    .rm(true)
                    .build());

            System.out.print("stdout: " + result.stdout());
            System.out.print("stderr: " + result.stderr());
            System.out.println("exit code: " + result.exitCode());
        } finally {
            Files.deleteIfExists(archive);
        }
    }
}

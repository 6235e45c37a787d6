package dev.berth.examples;

import dev.berth.Berth;
import dev.berth.RunOptions;
import dev.berth.runtime.RunResult;
import java.nio.file.Files;
import java.nio.file.Path;

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

            RunResult result = berth.runAndWait(DemoImage.NAME, RunOptions.builder()
                    .args("sh", "-c", "echo \"running as $(id -un) on $(hostname)\"; echo to-stderr >&2; exit 7")
                    .hostname("capture")
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

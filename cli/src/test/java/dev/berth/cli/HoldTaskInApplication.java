package dev.berth.cli;

import dev.berth.Berth;
import dev.berth.GcPolicy;
import dev.berth.Namespace;
import dev.berth.RunOptions;
import dev.berth.api.task.Task;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * An application embedding Berth, run in a child JVM by {@link HeldStateCliIT}: it holds the state
 * directory's task runtime with one running {@code sleep} task. Args: root, state, image archive, image name,
 * id. Prints {@code PID <pid>}, then obeys stdin: {@code kill} (SIGKILL, prints {@code EXITED <code>}),
 * {@code delete} (task and container, prints {@code DELETED}); closes Berth at end of input.
 */
public final class HoldTaskInApplication {
    private HoldTaskInApplication() {
    }

    public static void main(String[] args) throws Exception {
        try (Berth berth = Berth.builder().root(Path.of(args[0])).stateDir(Path.of(args[1]))
                .gcPolicy(GcPolicy.manual()).build()) {
            Namespace ns = berth.namespace("default");
            ns.importImage(Path.of(args[2]));
            String id = args[4];
            Task task = ns.run(args[3], RunOptions.builder().id(id).args("sleep", "600").build());
            System.out.println("PID " + task.pid());
            System.out.flush();
            BufferedReader in = new BufferedReader(new InputStreamReader(System.in, StandardCharsets.UTF_8));
            String line;
            while ((line = in.readLine()) != null) {
                switch (line) {
                    case "kill" -> {
                        task.kill(9);
                        System.out.println("EXITED " + task.waitFor().code());
                    }
                    case "delete" -> {
                        task.delete();
                        ns.containers().delete(id);
                        System.out.println("DELETED");
                    }
                    default -> throw new IllegalArgumentException(line);
                }
                System.out.flush();
            }
        }
    }
}

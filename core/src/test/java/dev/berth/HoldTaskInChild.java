package dev.berth;

import dev.berth.api.task.Task;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/**
 * Run in a child JVM by {@link ReadOnlyTasksIT}: owns the state directory's runtime with one running
 * {@code sleep} task. Args: root, state, busybox archive, namespace, id. Prints {@code PID <pid>}, then obeys
 * stdin: {@code kill} (SIGKILL, prints {@code EXITED <code>}), {@code delete} (task and container, prints
 * {@code DELETED}); closes everything at end of input.
 */
public final class HoldTaskInChild {
    private HoldTaskInChild() {
    }

    public static void main(String[] args) throws Exception {
        try (Berth berth = Berth.builder().root(Path.of(args[0])).stateDir(Path.of(args[1]))
                .gcPolicy(GcPolicy.manual()).build()) {
            Namespace ns = berth.namespace(args[3]);
            ns.importImage(Path.of(args[2]));
            String id = args[4];
            Task task = ns.run(TestRoots.BUSYBOX, RunOptions.builder().id(id).args("sleep", "600").build());
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

package dev.berth;

import dev.berth.api.task.Task;
import java.nio.file.Path;

/**
 * Run in a child JVM by {@link ContainerFilesAndSessionsIT}: runs one session-scoped {@code sleep} container
 * and prints {@code PID <pid>}, then waits to be killed. Args: root, state, busybox archive, namespace, id.
 */
public final class SessionChild {
    private SessionChild() {
    }

    public static void main(String[] args) throws Exception {
        Berth berth = Berth.builder().root(Path.of(args[0])).stateDir(Path.of(args[1])).gcPolicy(GcPolicy.manual())
                .build();
        Namespace ns = berth.namespace(args[3]);
        ns.importImage(Path.of(args[2]));
        Task task = ns.run(TestRoots.BUSYBOX, RunOptions.builder().id(args[4]).args("sleep", "600")
                .sessionScoped(true).build());
        System.out.println("PID " + task.pid());
        System.out.flush();
        Thread.sleep(600_000);
    }
}

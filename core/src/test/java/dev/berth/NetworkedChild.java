package dev.berth;

import dev.berth.network.PortMapping;
import dev.berth.api.task.Task;
import dev.berth.runtime.TaskOptions;
import java.nio.file.Path;

/**
 * Run in a child JVM by {@link NetworkIT}: starts {@code count} session-scoped tasks (reaped when this JVM
 * dies) on the default network, each publishing port 80, prints {@code PID <pid>} for each and {@code READY}, then waits to be killed.
 * Args: root, state, busybox archive, namespace, count.
 */
public final class NetworkedChild {
    private NetworkedChild() {
    }

    public static void main(String[] args) throws Exception {
        Berth berth = Berth.builder().root(Path.of(args[0])).stateDir(Path.of(args[1])).gcPolicy(GcPolicy.manual())
                .build();
        Namespace ns = berth.namespace(args[3]);
        ns.importImage(Path.of(args[2]));
        int count = Integer.parseInt(args[4]);
        for (int i = 0; i < count; i++) {
            Task t = ns.run(TestRoots.BUSYBOX, RunOptions.builder().id("held-" + i).args("sleep", "600")
                    .container(ContainerOptions.network("default"), ContainerOptions.publish(PortMapping.tcp(80)))
                    .task(TaskOptions.sessionScoped(true)).build());
            System.out.println("PID " + t.pid());
        }
        System.out.println("READY");
        System.out.flush();
        Thread.sleep(600_000);
    }
}

package dev.berth;

import dev.berth.api.task.RunResult;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

/**
 * Run in a child JVM by {@link ManyProcessesIT}: opens the root and state directory {@code args[0..1]} and
 * runs {@code args[4]} containers named {@code <args[3]>-<n>} from busybox in namespace {@code args[2]},
 * each {@code true} with rm, two at a time; prints {@code DONE} once all succeeded.
 */
public final class RunManyInChild {
    private RunManyInChild() {
    }

    public static void main(String[] args) throws Exception {
        try (Berth berth = Berth.builder().root(Path.of(args[0])).stateDir(Path.of(args[1]))
                .gcPolicy(GcPolicy.manual()).build()) {
            Namespace ns = berth.namespace(args[2]);
            int count = Integer.parseInt(args[4]);
            ExecutorService pool = Executors.newFixedThreadPool(2);
            List<Future<RunResult>> runs = new ArrayList<>();
            for (int i = 0; i < count; i++) {
                String id = args[3] + "-" + i;
                runs.add(pool.submit(() -> ns.runAndWait("busybox", RunOptions.builder().id(id).rm(true)
                        .args("true").build())));
            }
            for (Future<RunResult> r : runs) {
                if (r.get().exitCode() != 0) {
                    throw new IllegalStateException("a run failed: " + r.get());
                }
            }
            pool.shutdown();
            System.out.println("DONE");
        }
    }
}

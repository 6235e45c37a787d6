package dev.berth.runtime.testing;

import dev.berth.api.task.Stdio;
import dev.berth.api.task.Task;
import dev.berth.api.task.TaskConfig;
import dev.berth.api.task.TaskRuntime;
import dev.berth.runtime.TaskRuntimes;
import java.io.OutputStream;
import java.nio.file.Path;

/**
 * A second JVM for tests that kill one: opens a runtime on {@code args[0]} with the busybox rootfs
 * {@code args[1]}, creates and starts one task per further argument {@code <namespace>/<id>:<kind>[:scoped]}
 * (kind {@code long} = sleeps, {@code exit5} = exits with 5 after 3 s, {@code done} = runs {@code true} and is
 * deleted at once, {@code chatty} = runs {@link #CHATTY} with its stdout streamed to this JVM and discarded), prints {@code TASK <id> <pid>} for each, then {@code READY}, and waits to be killed. With
 * {@code -Dberth.test.sharedShims=true} the tasks share shims (idle ones stay warm for 10 minutes); with
 * {@code -Dberth.test.spareShim=true} a spare shim is kept ({@link TaskRuntimes.Builder#spareShim}). Kind
 * {@code churn} creates, starts, waits for and deletes tasks {@code <id>-0}, {@code <id>-1}, ... (running
 * {@code true}) in a loop after READY, printing {@code CREATE|START|DELETE <id>-<n>} before each step.
 */
public final class ChildRuntime {
    /**
     * Prints numbered lines of about 110 bytes, 100 at a time every 50 ms (some 200 KB/s): enough to fill a
     * pipe within a second when nobody reads, slow enough not to flood whatever logs it.
     */
    public static final String[] CHATTY = {"sh", "-c", "pad=" + ".".repeat(100) + "; i=0; while true; do "
            + "printf \"%s $pad\\n\" $(seq $i $((i+99))); i=$((i+100)); sleep 0.05; done"};

    private ChildRuntime() {
    }

    public static void main(String[] args) throws Exception {
        TaskRuntime runtime = TaskRuntimes.builder().stateDir(Path.of(args[0]))
                .sharedShims(Boolean.getBoolean("berth.test.sharedShims"))
                .spareShim(Boolean.getBoolean("berth.test.spareShim"))
                .sharedShimIdleTimeout(java.time.Duration.ofMinutes(10))
                .build();
        String rootfs = args[1];
        for (int i = 2; i < args.length; i++) {
            String[] parts = args[i].split(":");
            String[] nsId = parts[0].split("/");
            if (parts[1].equals("churn")) {
                Thread churn = new Thread(() -> churn(runtime, nsId[0], nsId[1], rootfs));
                churn.setDaemon(true);
                churn.start();
                continue;
            }
            RuncSpec spec = switch (parts[1]) {
                case "long" -> RuncSpec.of("sleep", "600");
                case "exit5" -> RuncSpec.of("sh", "-c", "sleep 3; exit 5");
                case "done" -> RuncSpec.of("true");
                case "chatty" -> RuncSpec.of(CHATTY);
                default -> throw new IllegalArgumentException(parts[1]);
            };
            Task task = runtime.create(TaskConfig.builder(nsId[1]).namespace(nsId[0])
                    .spec(spec.root(rootfs).toJson())
                    .sessionScoped(parts.length > 2 && parts[2].equals("scoped"))
                    .stdio(parts[1].equals("chatty")
                            ? Stdio.of(null, OutputStream.nullOutputStream(), OutputStream.nullOutputStream())
                            : Stdio.nullIO())
                    .build());
            task.start();
            System.out.println("TASK " + task.id() + " " + task.pid());
            if (parts[1].equals("done")) {
                task.waitFor();
                task.delete();
            }
        }
        System.out.println("READY");
        System.out.flush();
        Thread.sleep(Long.MAX_VALUE);
    }

    private static void churn(TaskRuntime runtime, String namespace, String prefix, String rootfs) {
        try {
            Thread.sleep(100); // after READY
            for (int n = 0; ; n++) {
                String id = prefix + "-" + n;
                System.out.println("CREATE " + id);
                Task task = runtime.create(TaskConfig.builder(id).namespace(namespace)
                        .spec(RuncSpec.of("true").root(rootfs).toJson()).stdio(Stdio.nullIO()).build());
                System.out.println("START " + id);
                task.start();
                task.waitFor();
                System.out.println("DELETE " + id);
                task.delete();
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}

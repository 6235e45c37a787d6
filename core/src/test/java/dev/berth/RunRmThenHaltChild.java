package dev.berth;

import dev.berth.api.task.RunResult;
import java.nio.file.Path;

/**
 * Run in a child JVM by {@link BerthIT}: opens the root and state directory {@code args[0..1]}, imports the
 * busybox archive {@code args[2]} and runs {@code echo hi} with rm as container {@code args[3]}; prints
 * {@code RAN <stdout>} and halts at once, while the run's removal (which goes on after
 * {@link Namespace#runAndWait} returned) may not have started or finished.
 */
public final class RunRmThenHaltChild {
    private RunRmThenHaltChild() {
    }

    public static void main(String[] args) throws Exception {
        Berth berth = Berth.builder().root(Path.of(args[0])).stateDir(Path.of(args[1]))
                .gcPolicy(GcPolicy.manual()).build();
        berth.importImage(Path.of(args[2]));
        RunResult r = berth.runAndWait(TestRoots.BUSYBOX, RunOptions.builder().id(args[3]).rm(true)
                .args("echo", "hi").build());
        System.out.println("RAN " + r.stdout().strip());
        System.out.flush();
        Runtime.getRuntime().halt(0); // no close(): as if the JVM were killed right after the return
    }
}

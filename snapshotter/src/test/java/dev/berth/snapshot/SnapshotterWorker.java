package dev.berth.snapshot;

import dev.berth.api.AlreadyExistsException;
import dev.berth.api.Mount;
import dev.berth.api.internal.FaultPoints;
import dev.berth.api.snapshot.Snapshotter;
import dev.berth.testing.ChildJvm;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A separate JVM driving a snapshotter, for crash and multi-process tests. Usage:
 * {@code SnapshotterWorker <overlay|native> <root> <command> args...}; prints one line per step.
 */
public final class SnapshotterWorker {
    private SnapshotterWorker() {
    }

    /**
     * Starts a worker in its own JVM. Its temp files (native libraries that sqlite-jdbc and jffi unpack,
     * which a killed JVM cannot delete) go to {@code root}'s parent, the test's own temp dir.
     */
    static ChildJvm launch(String crashAt, String type, Path root, String... command) throws IOException {
        List<String> options = new ArrayList<>(List.of("-Djava.io.tmpdir=" + root.toAbsolutePath().getParent()));
        if (crashAt != null) {
            options.add("-D" + FaultPoints.PROPERTY + "=" + crashAt);
        }
        List<String> args = new ArrayList<>(List.of(type, root.toString()));
        args.addAll(List.of(command));
        return ChildJvm.start(SnapshotterWorker.class, options, args.toArray(String[]::new));
    }

    public static void main(String[] args) throws Exception {
        PrintStream out = System.out;
        Path root = Path.of(args[1]);
        try (Snapshotter s = args[0].equals("native") ? Snapshotters.nativeSnapshotter(root)
                : Snapshotters.overlay(root)) {
            switch (args[2]) {
                case "prepare" -> s.prepare(args[3], args.length > 4 ? args[4] : null);
                case "commit" -> s.commit(args[3], args[4]);
                case "remove" -> s.remove(args[3]);
                case "churn" -> churn(s, args[3], out);
                case "race" -> race(s, args[3], Integer.parseInt(args[4]), args[5], Path.of(args[6]), out);
                default -> throw new IllegalArgumentException(args[2]);
            }
        }
        out.println("done");
        out.flush();
    }

    /** Endless create/commit/view/remove cycles, for a parent to SIGKILL at a random moment. */
    private static void churn(Snapshotter s, String base, PrintStream out) throws Exception {
        String parent = base;
        for (int i = 0; ; i++) {
            List<Mount> mounts = s.prepare("a-" + i, parent);
            Path layer = SnapshotterContract.layerDir(mounts);
            Files.writeString(layer.resolve("f" + i), "x".repeat(i % 1000));
            s.commit("c-" + i, "a-" + i);
            s.view("v-" + i, "c-" + i);
            s.remove("v-" + i);
            if (i % 3 == 2) {
                s.remove("c-" + i);
            } else {
                parent = "c-" + i;
            }
            out.println("iter " + i);
            out.flush();
        }
    }

    /** Both workers try to commit the same names; each prints which ones it won. */
    private static void race(Snapshotter s, String me, int n, String base, Path go, PrintStream out)
            throws Exception {
        out.println("ready");
        out.flush();
        while (!Files.exists(go)) {
            Thread.sleep(2);
        }
        for (int i = 0; i < n; i++) {
            String key = me + "-" + i;
            List<Mount> mounts = s.prepare(key, base);
            Files.writeString(SnapshotterContract.layerDir(mounts).resolve(me), me);
            try {
                s.commit("shared-" + i, key);
                out.println("won " + i);
            } catch (AlreadyExistsException e) {
                s.remove(key);
                out.println("lost " + i);
            }
            s.prepare(me + "-own-" + i, "shared-" + i);
        }
    }
}

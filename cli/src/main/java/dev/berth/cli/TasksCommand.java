package dev.berth.cli;

import dev.berth.api.FailedPreconditionException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.NotFoundException;
import dev.berth.api.NotImplementedException;
import dev.berth.runtime.Task;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import java.util.stream.Stream;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code berth tasks}. A task belongs to the shim that runs it; this process holds the tasks it created.
 * Tasks another process created (e.g. {@code run -d}) are found through their bundles in the state
 * directory: their init pid is the one the shim recorded there.
 */
@Command(name = "tasks", aliases = {"task", "t"}, description = "Manage tasks (running container processes)",
        subcommands = {TasksCommand.Ls.class, TasksCommand.Ps.class, TasksCommand.Kill.class,
            TasksCommand.Pause.class, TasksCommand.Resume.class, TasksCommand.Rm.class})
final class TasksCommand {
    @ParentCommand
    Main main;

    /** What is known of a task: from this process's runtime, or from its bundle. */
    record TaskView(String id, int pid, String status, Optional<Task> held) {
    }

    Path bundles() {
        return main.berth().stateDir().resolve("tasks").resolve(main.namespace);
    }

    Map<String, TaskView> tasks() {
        Map<String, TaskView> out = new TreeMap<>();
        Path dir = bundles();
        if (Files.isDirectory(dir)) {
            try (Stream<Path> s = Files.list(dir)) {
                s.filter(Files::isDirectory).forEach(b -> {
                    int pid = initPid(b);
                    out.put(b.getFileName().toString(),
                            new TaskView(b.getFileName().toString(), pid, processStatus(pid), Optional.empty()));
                });
            } catch (IOException e) {
                throw new java.io.UncheckedIOException("cannot list " + dir, e);
            }
        }
        for (Task t : main.ns().tasks().list()) {
            out.put(t.id(), new TaskView(t.id(), t.pid(), t.state().status().name(), Optional.of(t)));
        }
        return out;
    }

    TaskView task(String id) {
        TaskView v = tasks().get(id);
        if (v == null) {
            throw new NotFoundException("task " + id + ": not found in namespace " + main.namespace);
        }
        return v;
    }

    private static int initPid(Path bundle) {
        try {
            return Integer.parseInt(Files.readString(bundle.resolve("init.pid")).trim());
        } catch (IOException | NumberFormatException e) {
            return 0;
        }
    }

    /** RUNNING while the process exists and is not a zombie, else STOPPED; CREATED before it has a pid. */
    static String processStatus(int pid) {
        if (pid <= 0) {
            return "CREATED";
        }
        try {
            String stat = Files.readString(Path.of("/proc", Integer.toString(pid), "stat"));
            char state = stat.charAt(stat.lastIndexOf(')') + 2);
            return state == 'Z' || state == 'X' ? "STOPPED" : state == 'T' ? "PAUSED" : "RUNNING";
        } catch (IOException | RuntimeException e) {
            return "STOPPED";
        }
    }

    abstract static class Sub implements Callable<Integer> {
        @ParentCommand
        TasksCommand parent;
        @Spec
        CommandSpec spec;

        Output out() {
            return parent.main.out(spec);
        }
    }

    @Command(name = "ls", aliases = "list", description = "List tasks")
    static final class Ls extends Sub {
        @Override
        public Integer call() {
            Output.Table t = out().table("TASK", "PID", "STATUS");
            for (TaskView v : parent.tasks().values()) {
                t.row(v.id(), v.pid(), v.status());
            }
            t.print();
            return 0;
        }
    }

    @Command(name = "ps", description = "List the processes of a task's container")
    static final class Ps extends Sub {
        @Parameters(index = "0", paramLabel = "ID")
        String id;

        @Override
        public Integer call() throws IOException {
            TaskView v = parent.task(id);
            if (v.pid() <= 0 || v.status().equals("STOPPED")) {
                throw new FailedPreconditionException("task " + id + " has no running processes");
            }
            Output.Table t = out().table("PID", "INFO");
            for (int pid : cgroupPids(v.pid())) {
                t.row(pid, command(pid));
            }
            t.print();
            return 0;
        }

        /** Every process of the container is in its init process's cgroup (v2) or cgroup set (v1). */
        private static List<Integer> cgroupPids(int initPid) throws IOException {
            List<String> lines = Files.readAllLines(Path.of("/proc", Integer.toString(initPid), "cgroup"));
            for (String line : lines) {
                String[] parts = line.split(":", 3);
                if (parts.length == 3 && (parts[0].equals("0") || parts[1].contains("pids"))) {
                    Path base = parts[0].equals("0") ? Path.of("/sys/fs/cgroup") : Path.of("/sys/fs/cgroup/pids");
                    Path procs = base.resolve(parts[2].substring(1)).resolve("cgroup.procs");
                    if (Files.exists(procs)) {
                        List<Integer> pids = new ArrayList<>();
                        for (String p : Files.readAllLines(procs)) {
                            if (!p.isBlank()) {
                                pids.add(Integer.parseInt(p.trim()));
                            }
                        }
                        pids.sort(null);
                        return pids;
                    }
                }
            }
            return List.of(initPid);
        }

        private static String command(int pid) {
            try {
                byte[] cmd = Files.readAllBytes(Path.of("/proc", Integer.toString(pid), "cmdline"));
                return new String(cmd, java.nio.charset.StandardCharsets.UTF_8).replace('\0', ' ').trim();
            } catch (IOException e) {
                return "-";
            }
        }
    }

    @Command(name = "kill", description = "Signal a task's init process (or all its processes)")
    static final class Kill extends Sub {
        @Option(names = {"-s", "--signal"}, paramLabel = "SIG", description = "Signal name or number (default SIGTERM)")
        String signal = "SIGTERM";
        @Option(names = {"-a", "--all"}, description = "Signal every process of the container")
        boolean all;
        @Parameters(index = "0", paramLabel = "ID")
        String id;

        @Override
        public Integer call() throws IOException, InterruptedException {
            int sig = Signals.parse(signal);
            TaskView v = parent.task(id);
            if (v.held().isPresent()) {
                v.held().get().kill(sig, all);
                return 0;
            }
            if (v.pid() <= 0 || v.status().equals("STOPPED")) {
                throw new FailedPreconditionException("task " + id + " is not running");
            }
            if (all) {
                throw new NotImplementedException("kill --all of a task held by another process is not supported yet");
            }
            // the shim that owns the task reaps the process and records its exit status
            Process p = new ProcessBuilder("kill", "-s", Integer.toString(sig), Integer.toString(v.pid()))
                    .redirectErrorStream(true).start();
            String msg = new String(p.getInputStream().readAllBytes()).trim();
            if (p.waitFor() != 0) {
                throw new FailedPreconditionException("cannot signal task " + id + " (pid " + v.pid() + "): " + msg);
            }
            return 0;
        }
    }

    @Command(name = "pause", description = "Pause a task (freeze its processes)")
    static final class Pause extends Sub {
        @Parameters(index = "0", paramLabel = "ID")
        String id;

        @Override
        public Integer call() {
            throw new NotImplementedException("tasks pause: the runtime does not support pause yet");
        }
    }

    @Command(name = "resume", description = "Resume a paused task")
    static final class Resume extends Sub {
        @Parameters(index = "0", paramLabel = "ID")
        String id;

        @Override
        public Integer call() {
            throw new NotImplementedException("tasks resume: the runtime does not support resume yet");
        }
    }

    @Command(name = "rm", aliases = {"delete", "del", "remove"}, description = "Delete a stopped task")
    static final class Rm extends Sub {
        @Option(names = {"-f", "--force"}, description = "Kill the task first if it is running")
        boolean force;
        @Parameters(index = "0", paramLabel = "ID")
        String id;

        @Override
        public Integer call() {
            TaskView v = parent.task(id);
            if (v.held().isEmpty()) {
                throw new NotImplementedException("task " + id + " is held by its shim for another process; "
                        + "deleting it from here needs shim reconnection, which the runtime does not offer yet");
            }
            var status = v.held().get().delete(force);
            out().line(id + " exited " + status.code());
            return 0;
        }
    }

    /** Signal names as kill(1) knows them. */
    static final class Signals {
        private static final Map<String, Integer> NAMES = Map.ofEntries(
                Map.entry("HUP", 1), Map.entry("INT", 2), Map.entry("QUIT", 3), Map.entry("KILL", 9),
                Map.entry("USR1", 10), Map.entry("USR2", 12), Map.entry("TERM", 15), Map.entry("CONT", 18),
                Map.entry("STOP", 19), Map.entry("WINCH", 28));

        static int parse(String s) {
            String t = s.trim().toUpperCase(Locale.ROOT);
            if (t.startsWith("SIG")) {
                t = t.substring(3);
            }
            Integer n = NAMES.get(t);
            if (n != null) {
                return n;
            }
            try {
                int v = Integer.parseInt(t);
                if (v > 0 && v < 65) {
                    return v;
                }
            } catch (NumberFormatException ignored) {
                // fall through to the error
            }
            throw new InvalidArgumentException("unknown signal \"" + s + "\" (use a name such as SIGTERM or a number)");
        }
    }
}

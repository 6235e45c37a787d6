package dev.berth.cli;

import dev.berth.api.FailedPreconditionException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.NotFoundException;
import dev.berth.api.task.ExecConfig;
import dev.berth.api.task.ExecProcess;
import dev.berth.api.task.ExitStatus;
import dev.berth.api.task.Stdio;
import dev.berth.api.task.Task;
import dev.berth.api.task.TaskMetrics;
import dev.berth.api.task.TaskProcess;
import dev.berth.api.task.TaskSnapshot;
import dev.berth.api.task.TaskStatus;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.OptionalLong;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

/**
 * {@code berth tasks}. A task belongs to the shim that runs it; this process's task runtime reconnects to
 * the tasks earlier processes (e.g. {@code run -d}) left in the state directory, so every subcommand works
 * on them as on tasks created here, also while an application runs tasks on the same state directory.
 * {@code ls} and {@code ps} only read (they start no runtime).
 */
@Command(name = "tasks", aliases = {"task", "t"}, description = "Manage tasks (running container processes)",
        subcommands = {TasksCommand.Ls.class, TasksCommand.Ps.class, TasksCommand.Kill.class,
            TasksCommand.Exec.class, TasksCommand.Pause.class, TasksCommand.Resume.class,
            TasksCommand.Metrics.class, TasksCommand.Rm.class})
final class TasksCommand {
    @ParentCommand
    Main main;

    Task task(String id) {
        return main.ns().tasks().require(id);
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

    /** A task that has not exited: the shim still answers for its processes. */
    static Task running(Task t) {
        TaskStatus status = t.state().status();
        if (status == TaskStatus.STOPPED || status == TaskStatus.CREATED) {
            throw new FailedPreconditionException("task " + t.id() + " is not running (" + status + ")");
        }
        return t;
    }

    @Command(name = "ls", aliases = "list", description = "List tasks")
    static final class Ls extends Sub {
        @Override
        public Integer call() {
            Output.Table t = out().table("TASK", "PID", "STATUS");
            for (TaskSnapshot task : parent.main.ns().tasks().inspect()) {
                t.row(task.id(), task.pid(), task.status().name());
                task.error().ifPresent(e -> spec.commandLine().getErr().println("berth: task " + task.id() + ": " + e));
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
        public Integer call() {
            // read-only, so it also works while another process holds the runtime
            var tasks = parent.main.ns().tasks();
            TaskSnapshot task = tasks.inspect(id).orElseThrow(() -> new NotFoundException("task " + id
                    + ": not found in namespace " + parent.main.ns().name()));
            if (task.status() != TaskStatus.RUNNING && task.status() != TaskStatus.PAUSED
                    && task.status() != TaskStatus.PAUSING) {
                throw new FailedPreconditionException("task " + id + " is not running (" + task.status()
                        + task.error().map(e -> ": " + e).orElse("") + ")");
            }
            Output.Table t = out().table("PID", "EXEC", "INFO");
            for (TaskProcess p : tasks.processes(id)) {
                t.row(p.pid(), p.execId().orElse(""), command(p.pid()));
            }
            t.print();
            return 0;
        }

        private static String command(int pid) {
            try {
                byte[] cmd = Files.readAllBytes(Path.of("/proc", Integer.toString(pid), "cmdline"));
                return new String(cmd, StandardCharsets.UTF_8).replace('\0', ' ').trim();
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
        public Integer call() {
            int sig = Signals.parse(signal);
            running(parent.task(id)).kill(sig, all);
            return 0;
        }
    }

    @Command(name = "exec", description = "Run a process in a running task; exits with the process's exit code")
    static final class Exec extends Sub {
        @Option(names = "--exec-id", required = true, paramLabel = "X", description = "Id of the new process")
        String execId;
        @Option(names = {"-t", "--tty"}, description = "Give the process a terminal")
        boolean tty;
        @Option(names = "--cwd", paramLabel = "DIR", description = "Working directory in the container")
        String cwd;
        @Option(names = "--env", paramLabel = "K=V", description = "Set an environment variable")
        List<String> env = new ArrayList<>();
        @Parameters(index = "0", paramLabel = "ID")
        String id;
        @Parameters(index = "1..*", arity = "1..*", paramLabel = "CMD", description = "Command and arguments")
        List<String> command = new ArrayList<>();

        @Override
        public Integer call() throws InterruptedException {
            Task task = running(parent.task(id));
            ExecConfig.Builder config = ExecConfig.builder(execId).args(command).terminal(tty).stdio(Stdio.inherit());
            env.forEach(config::env);
            if (cwd != null) {
                config.cwd(cwd);
            }
            ExitStatus status;
            try (ExecProcess p = task.exec(config.build())) {
                p.start();
                p.waitFor();
                System.out.flush();
                System.err.flush();
                status = p.delete();
            }
            return status.code();
        }
    }

    @Command(name = "pause", description = "Pause a task (freeze its processes)")
    static final class Pause extends Sub {
        @Parameters(index = "0", paramLabel = "ID")
        String id;

        @Override
        public Integer call() {
            running(parent.task(id)).pause();
            return 0;
        }
    }

    @Command(name = "resume", description = "Resume a paused task")
    static final class Resume extends Sub {
        @Parameters(index = "0", paramLabel = "ID")
        String id;

        @Override
        public Integer call() {
            parent.task(id).resume();
            return 0;
        }
    }

    @Command(name = "metrics", aliases = "metric", description = "Show a task's resource usage (from its cgroup)")
    static final class Metrics extends Sub {
        @Parameters(index = "0", paramLabel = "ID")
        String id;

        @Override
        public Integer call() {
            TaskMetrics m = running(parent.task(id)).stats();
            Output out = out();
            if (out.json()) {
                out.printJson(json(id, m));
                return 0;
            }
            Output.Table t = out.table("METRIC", "VALUE");
            t.row("cgroup", "v" + m.cgroupVersion());
            t.row("memory.usage", m.memory().usage());
            t.row("memory.limit", limit(m.memory().limit()));
            t.row("memory.max_usage", m.memory().maxUsage());
            t.row("memory.cache", m.memory().cache());
            t.row("memory.rss", m.memory().rss());
            t.row("memory.swap", m.memory().swap());
            t.row("memory.oom_events", m.memory().oomEvents());
            t.row("cpu.usage_ns", m.cpu().usage().toNanos());
            t.row("cpu.user_ns", m.cpu().user().toNanos());
            t.row("cpu.kernel_ns", m.cpu().kernel().toNanos());
            t.row("cpu.throttled_periods", m.cpu().throttledPeriods());
            t.row("pids.current", m.pids().current());
            t.row("pids.limit", limit(m.pids().limit()));
            t.row("blkio.read_bytes", m.blockIo().readBytes());
            t.row("blkio.write_bytes", m.blockIo().writeBytes());
            t.print();
            return 0;
        }

        private static String limit(OptionalLong l) {
            return l.isPresent() ? Long.toString(l.getAsLong()) : "max";
        }

        private static Map<String, Object> json(String id, TaskMetrics m) {
            Map<String, Object> memory = new LinkedHashMap<>();
            memory.put("usage", m.memory().usage());
            memory.put("limit", m.memory().limit().isPresent() ? m.memory().limit().getAsLong() : null);
            memory.put("max_usage", m.memory().maxUsage());
            memory.put("cache", m.memory().cache());
            memory.put("rss", m.memory().rss());
            memory.put("swap", m.memory().swap());
            memory.put("oom_events", m.memory().oomEvents());
            memory.put("oom_kills", m.memory().oomKills());
            Map<String, Object> cpu = new LinkedHashMap<>();
            cpu.put("usage_ns", nanos(m.cpu().usage()));
            cpu.put("user_ns", nanos(m.cpu().user()));
            cpu.put("kernel_ns", nanos(m.cpu().kernel()));
            cpu.put("periods", m.cpu().periods());
            cpu.put("throttled_periods", m.cpu().throttledPeriods());
            cpu.put("throttled_ns", nanos(m.cpu().throttled()));
            Map<String, Object> pids = new LinkedHashMap<>();
            pids.put("current", m.pids().current());
            pids.put("limit", m.pids().limit().isPresent() ? m.pids().limit().getAsLong() : null);
            Map<String, Object> blkio = new LinkedHashMap<>();
            blkio.put("read_bytes", m.blockIo().readBytes());
            blkio.put("write_bytes", m.blockIo().writeBytes());
            blkio.put("read_ops", m.blockIo().readOps());
            blkio.put("write_ops", m.blockIo().writeOps());
            Map<String, Object> all = new LinkedHashMap<>();
            all.put("id", id);
            all.put("cgroup_version", m.cgroupVersion());
            all.put("memory", memory);
            all.put("cpu", cpu);
            all.put("pids", pids);
            all.put("blkio", blkio);
            return all;
        }

        private static long nanos(Duration d) {
            return d.toNanos();
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
            var status = parent.task(id).delete(force);
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

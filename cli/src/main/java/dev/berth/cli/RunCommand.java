package dev.berth.cli;

import dev.berth.Namespace;
import dev.berth.RunOptions;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.task.ExitStatus;
import dev.berth.api.task.Stdio;
import dev.berth.api.task.Task;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/** {@code berth run}: ctr's {@code run}. The exit code is the container process's. */
@Command(name = "run", description = "Run a container from an image; exits with the process's exit code")
final class RunCommand implements Callable<Integer> {
    @ParentCommand
    Main main;

    @Mixin
    ContainerFlags flags;

    @Option(names = "--rm", description = "Remove the container when the process exits")
    boolean rm;

    @Option(names = {"-d", "--detach"}, description = "Start the process and return; it keeps running")
    boolean detach;

    @Option(names = "--log", paramLabel = "FILE", description = "With -d: append the process's output to FILE")
    Path log;

    @Parameters(index = "0", paramLabel = "IMAGE")
    String image;

    @Parameters(index = "1", paramLabel = "ID")
    String id;

    @Parameters(index = "2..*", paramLabel = "CMD", description = "Command and arguments (default: the image's)")
    List<String> command = new ArrayList<>();

    @Override
    public Integer call() throws InterruptedException {
        if (detach && rm) {
            throw new InvalidArgumentException("--rm and --detach cannot be used together");
        }
        Namespace ns = main.ns();
        RunOptions.Builder options = flags.runOptions(id, command);
        if (detach) {
            options.stdio(log == null ? Stdio.nullIO() : Stdio.file(log.toAbsolutePath()));
            ns.run(image, options.build()).close();
            return 0;
        }
        Task task = ns.run(image, options.stdio(Stdio.inherit()).build());
        ExitStatus status = task.waitFor();
        System.out.flush();
        System.err.flush();
        task.delete();
        if (rm) {
            ns.containers().delete(id);
            main.berth().gc();
        }
        return status.code();
    }
}

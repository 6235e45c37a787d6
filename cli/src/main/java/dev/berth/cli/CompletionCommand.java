package dev.berth.cli;

import java.util.concurrent.Callable;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

/**
 * {@code berth completion bash}: a completion script generated from the command model, so it always
 * knows every subcommand and option. It also works in zsh after {@code autoload -U bashcompinit && bashcompinit}.
 */
@Command(name = "completion", description = {
    "Print a shell completion script (bash; zsh with bashcompinit).",
    "Use: source <(berth completion bash)"})
final class CompletionCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Parameters(index = "0", paramLabel = "SHELL", defaultValue = "bash", description = "bash (the default) or zsh")
    String shell;

    @Override
    public Integer call() {
        if (!shell.equals("bash") && !shell.equals("zsh")) {
            throw new CommandLine.ParameterException(spec.commandLine(),
                    "unsupported shell \"" + shell + "\": use bash or zsh");
        }
        CommandLine root = spec.commandLine().getParent();
        spec.commandLine().getOut().print(AutoComplete.bash(root.getCommandName(), root));
        spec.commandLine().getOut().flush();
        return 0;
    }
}

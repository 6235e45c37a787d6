package dev.berth.cli;

import dev.berth.NamespaceInfo;
import dev.berth.api.InvalidArgumentException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "namespaces", aliases = {"namespace", "ns"}, description = "Manage namespaces",
        subcommands = {NamespacesCommand.Ls.class, NamespacesCommand.Create.class, NamespacesCommand.Rm.class})
final class NamespacesCommand {
    @ParentCommand
    Main main;

    abstract static class Sub implements Callable<Integer> {
        @ParentCommand
        NamespacesCommand parent;
        @Spec
        CommandSpec spec;

        Output out() {
            return parent.main.out(spec);
        }
    }

    @Command(name = "ls", aliases = "list", description = "List namespaces")
    static final class Ls extends Sub {
        @Option(names = {"-q", "--quiet"}, description = "Print only the names")
        boolean quiet;

        @Override
        public Integer call() {
            List<NamespaceInfo> list = parent.main.berth().namespaces().list();
            if (quiet && !out().json()) {
                list.forEach(n -> out().line(n.name()));
                return 0;
            }
            Output.Table t = out().table("NAME", "LABELS");
            for (NamespaceInfo n : list) {
                t.row(n.name(), n.labels());
            }
            t.print();
            return 0;
        }
    }

    @Command(name = "create", description = "Create a namespace")
    static final class Create extends Sub {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;
        @Parameters(index = "1..*", paramLabel = "KEY=VALUE", description = "Labels")
        List<String> labels = new ArrayList<>();

        @Override
        public Integer call() {
            Map<String, String> l = new LinkedHashMap<>();
            for (String kv : labels) {
                int eq = kv.indexOf('=');
                if (eq <= 0) {
                    throw new InvalidArgumentException("label \"" + kv + "\" is not KEY=VALUE");
                }
                l.put(kv.substring(0, eq), kv.substring(eq + 1));
            }
            parent.main.berth().namespaces().create(name, l);
            out().line(name);
            return 0;
        }
    }

    @Command(name = "rm", aliases = {"delete", "del", "remove"}, description = "Delete empty namespaces")
    static final class Rm extends Sub {
        @Parameters(arity = "1..*", paramLabel = "NAME")
        List<String> names;

        @Override
        public Integer call() {
            for (String n : names) {
                parent.main.berth().namespaces().delete(n);
                out().line(n);
            }
            return 0;
        }
    }
}

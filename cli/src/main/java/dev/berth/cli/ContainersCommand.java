package dev.berth.cli;

import dev.berth.Container;
import dev.berth.RunOptions;
import dev.berth.api.container.ContainerRecord.Runtime;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "containers", aliases = {"container", "c"}, description = "Manage containers",
        subcommands = {ContainersCommand.Create.class, ContainersCommand.Ls.class, ContainersCommand.Info.class,
            ContainersCommand.Rm.class})
final class ContainersCommand {
    @ParentCommand
    Main main;

    abstract static class Sub implements Callable<Integer> {
        @ParentCommand
        ContainersCommand parent;
        @Spec
        CommandSpec spec;

        Output out() {
            return parent.main.out(spec);
        }
    }

    @Command(name = "create", description = "Create a container from an image (a new snapshot and an OCI spec)")
    static final class Create extends Sub {
        @Mixin
        ContainerFlags flags;
        @Parameters(index = "0", paramLabel = "IMAGE")
        String image;
        @Parameters(index = "1", paramLabel = "ID")
        String id;
        @Parameters(index = "2..*", paramLabel = "CMD")
        List<String> command = new ArrayList<>();

        @Override
        public Integer call() {
            RunOptions options = flags.runOptions(id, command).build();
            var ns = parent.main.ns();
            ns.containers().create(options.containerConfig(image));
            out().line(id);
            return 0;
        }
    }

    @Command(name = "ls", aliases = "list", description = "List containers")
    static final class Ls extends Sub {
        @Option(names = {"-q", "--quiet"}, description = "Print only the ids")
        boolean quiet;
        @Parameters(paramLabel = "FILTER")
        List<String> filters = new ArrayList<>();

        @Override
        public Integer call() {
            var list = parent.main.ns().containers().listInfo(filters.toArray(String[]::new));
            if (quiet && !out().json()) {
                list.forEach(c -> out().line(c.id()));
                return 0;
            }
            Output.Table t = out().table("CONTAINER", "IMAGE", "RUNTIME");
            for (var c : list) {
                t.row(c.id(), c.image(), c.runtime().name());
            }
            t.print();
            return 0;
        }
    }

    @Command(name = "info", description = "Print a container's record and spec as JSON")
    static final class Info extends Sub {
        @Parameters(index = "0", paramLabel = "ID")
        String id;

        @Override
        public Integer call() throws IOException {
            Container c = parent.main.ns().containers().get(id);
            var r = c.info();
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("ID", r.id());
            m.put("Labels", r.labels());
            m.put("Image", r.image());
            Runtime rt = r.runtime();
            Map<String, Object> runtime = new LinkedHashMap<>();
            runtime.put("Name", rt.name());
            if (!rt.optionsTypeUrl().isEmpty()) {
                runtime.put("OptionsType", rt.optionsTypeUrl());
                runtime.put("Options", new String(rt.options(), StandardCharsets.UTF_8));
            }
            m.put("Runtime", runtime);
            m.put("Snapshotter", r.snapshotter());
            m.put("SnapshotKey", r.snapshotKey());
            m.put("CreatedAt", String.valueOf(r.createdAt()));
            m.put("UpdatedAt", String.valueOf(r.updatedAt()));
            c.network().ifPresent(a -> {
                Map<String, Object> net = new LinkedHashMap<>();
                net.put("Network", a.network());
                net.put("IP", a.ip());
                net.put("Gateway", a.gateway());
                net.put("Ports", a.ports().stream().map(Object::toString).toList());
                net.put("Aliases", a.aliases());
                net.put("Netns", a.netns());
                m.put("Network", net);
            });
            m.put("Spec", Json.MAPPER.readTree(r.spec()));
            out().printJson(m);
            return 0;
        }
    }

    @Command(name = "rm", aliases = {"delete", "del", "remove"}, description = "Delete containers and their snapshots")
    static final class Rm extends Sub {
        @Parameters(arity = "1..*", paramLabel = "ID")
        List<String> ids;

        @Override
        public Integer call() {
            for (String id : ids) {
                parent.main.ns().containers().delete(id);
                out().line(id);
            }
            parent.main.berth().gc();
            return 0;
        }
    }
}

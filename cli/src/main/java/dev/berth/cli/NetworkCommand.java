package dev.berth.cli;

import dev.berth.network.NetworkInfo;
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

@Command(name = "network", aliases = {"networks", "net"}, description = "Manage networks (bridges with CNI plugins)",
        subcommands = {NetworkCommand.Create.class, NetworkCommand.Ls.class, NetworkCommand.Inspect.class,
            NetworkCommand.Rm.class})
final class NetworkCommand {
    @ParentCommand
    Main main;

    abstract static class Sub implements Callable<Integer> {
        @ParentCommand
        NetworkCommand parent;
        @Spec
        CommandSpec spec;

        Output out() {
            return parent.main.out(spec);
        }
    }

    @Command(name = "create", description = "Create a network with its own subnet")
    static final class Create extends Sub {
        @Option(names = "--subnet", paramLabel = "CIDR", description = "IPv4 subnet (default: the next free /24 of 10.89.0.0/16)")
        String subnet;
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Override
        public Integer call() {
            NetworkInfo n = parent.main.berth().networks().create(name, subnet);
            out().line(n.name());
            return 0;
        }
    }

    @Command(name = "ls", aliases = "list", description = "List networks")
    static final class Ls extends Sub {
        @Override
        public Integer call() {
            Output.Table t = out().table("NAME", "SUBNET", "GATEWAY", "BRIDGE");
            for (NetworkInfo n : parent.main.berth().networks().list()) {
                t.row(n.name(), n.subnet(), n.gateway(), n.bridge());
            }
            t.print();
            return 0;
        }
    }

    @Command(name = "inspect", description = "Print a network, its CNI conflist and its containers as JSON")
    static final class Inspect extends Sub {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;

        @Override
        public Integer call() throws Exception {
            var networks = parent.main.berth().networks();
            NetworkInfo n = networks.get(name);
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("Name", n.name());
            m.put("Subnet", n.subnet());
            m.put("Gateway", n.gateway());
            m.put("Bridge", n.bridge());
            m.put("CniName", n.cniName());
            m.put("Conflist", new com.fasterxml.jackson.databind.ObjectMapper().readTree(networks.conflist(name)));
            List<Map<String, Object>> containers = networks.attachments().stream()
                    .filter(a -> a.network().equals(name)).map(a -> {
                        Map<String, Object> c = new LinkedHashMap<>();
                        c.put("Namespace", a.namespace());
                        c.put("ID", a.containerId());
                        c.put("IP", a.ip());
                        c.put("Ports", a.ports().stream().map(Object::toString).toList());
                        c.put("Aliases", a.aliases());
                        return c;
                    }).toList();
            m.put("Containers", containers);
            out().printJson(m);
            return 0;
        }
    }

    @Command(name = "rm", aliases = {"remove", "delete"}, description = "Remove networks no container uses")
    static final class Rm extends Sub {
        @Parameters(arity = "1..*", paramLabel = "NAME")
        List<String> names;

        @Override
        public Integer call() {
            for (String n : names) {
                parent.main.berth().networks().remove(n);
                out().line(n);
            }
            return 0;
        }
    }
}

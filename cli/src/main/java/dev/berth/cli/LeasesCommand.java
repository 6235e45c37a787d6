package dev.berth.cli;

import dev.berth.api.InvalidArgumentException;
import dev.berth.api.lease.Lease;
import dev.berth.api.lease.LeaseResource;
import java.time.Duration;
import java.time.format.DateTimeParseException;
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

@Command(name = "leases", aliases = "lease", description = "Manage leases (what keeps resources from garbage collection)",
        subcommands = {LeasesCommand.Ls.class, LeasesCommand.Create.class, LeasesCommand.Rm.class})
final class LeasesCommand {
    @ParentCommand
    Main main;

    abstract static class Sub implements Callable<Integer> {
        @ParentCommand
        LeasesCommand parent;
        @Spec
        CommandSpec spec;

        Output out() {
            return parent.main.out(spec);
        }
    }

    @Command(name = "ls", aliases = "list", description = "List leases")
    static final class Ls extends Sub {
        @Option(names = {"-q", "--quiet"}, description = "Print only the ids")
        boolean quiet;
        @Parameters(paramLabel = "FILTER")
        List<String> filters = new ArrayList<>();

        @Override
        public Integer call() {
            var leases = parent.main.ns().leases();
            List<Lease> list = leases.list(filters.toArray(String[]::new));
            if (quiet && !out().json()) {
                list.forEach(l -> out().line(l.id()));
                return 0;
            }
            Output.Table t = out().table("ID", "CREATED AT", "LABELS", "RESOURCES");
            for (Lease l : list) {
                t.row(l.id(), String.valueOf(l.createdAt()), l.labels(), leases.listResources(l.id()).size());
            }
            t.print();
            return 0;
        }
    }

    @Command(name = "create", description = "Create a lease; prints its id")
    static final class Create extends Sub {
        @Option(names = "--id", paramLabel = "ID", description = "Lease id (default: random)")
        String id;
        @Option(names = {"-x", "--expires"}, paramLabel = "DURATION", description = "Expiry, e.g. 24h, 30m, 90s")
        String expires;
        @Parameters(paramLabel = "KEY=VALUE", description = "Labels")
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
            Lease lease = parent.main.ns().leases().create(id, l, expires == null ? null : parseDuration(expires));
            out().line(lease.id());
            return 0;
        }
    }

    static Duration parseDuration(String s) {
        try {
            String t = s.trim().toLowerCase(java.util.Locale.ROOT);
            if (t.matches("\\d+[smhd]")) {
                long n = Long.parseLong(t.substring(0, t.length() - 1));
                return switch (t.charAt(t.length() - 1)) {
                    case 's' -> Duration.ofSeconds(n);
                    case 'm' -> Duration.ofMinutes(n);
                    case 'h' -> Duration.ofHours(n);
                    default -> Duration.ofDays(n);
                };
            }
            return Duration.parse(s);
        } catch (DateTimeParseException | NumberFormatException e) {
            throw new InvalidArgumentException("duration \"" + s + "\" is not like 90s, 30m, 24h, 7d or PT1H");
        }
    }

    @Command(name = "rm", aliases = {"delete", "del", "remove"}, description = "Delete leases")
    static final class Rm extends Sub {
        @Parameters(arity = "1..*", paramLabel = "ID")
        List<String> ids;

        @Override
        public Integer call() {
            for (String id : ids) {
                parent.main.ns().leases().delete(id, false);
                out().line(id);
            }
            parent.main.berth().gc();
            return 0;
        }
    }

    static String describe(LeaseResource r) {
        return r.type() + ":" + r.id();
    }
}

package dev.berth.cli;

import dev.berth.api.Labels;
import dev.berth.api.Mount;
import dev.berth.api.snapshot.Kind;
import dev.berth.api.snapshot.SnapshotInfo;
import dev.berth.api.snapshot.Snapshotter;
import dev.berth.api.snapshot.Usage;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine.Spec;

@Command(name = "snapshots", aliases = {"snapshot", "s"}, description = "Manage snapshots",
        subcommands = {SnapshotsCommand.Ls.class, SnapshotsCommand.Tree.class, SnapshotsCommand.Prepare.class,
            SnapshotsCommand.View.class, SnapshotsCommand.Commit.class, SnapshotsCommand.Mounts.class,
            SnapshotsCommand.Rm.class, SnapshotsCommand.UsageCmd.class})
final class SnapshotsCommand {
    @ParentCommand
    Main main;

    @Option(names = "--snapshotter", scope = ScopeType.INHERIT, paramLabel = "NAME",
            description = "overlayfs or native (default: the root's default)")
    String snapshotter;

    abstract static class Sub implements Callable<Integer> {
        @ParentCommand
        SnapshotsCommand parent;
        @Spec
        CommandSpec spec;

        Snapshotter sn() {
            var ns = parent.main.ns();
            return parent.snapshotter == null ? ns.snapshots() : ns.snapshots(parent.snapshotter);
        }

        Output out() {
            return parent.main.out(spec);
        }

        /** ctr labels snapshots made by hand as GC roots, so they stay until removed. */
        static Map<String, String> rootLabel() {
            return Map.of(Labels.GC_ROOT, Instant.now().toString());
        }

        void printMounts(List<Mount> mounts, String target) {
            if (out().json()) {
                List<Map<String, Object>> list = new ArrayList<>();
                for (Mount m : mounts) {
                    Map<String, Object> e = new LinkedHashMap<>();
                    e.put("type", m.type());
                    e.put("source", m.source());
                    e.put("options", m.options());
                    list.add(e);
                }
                out().printJson(list);
                return;
            }
            for (Mount m : mounts) {
                StringBuilder sb = new StringBuilder("mount -t ").append(m.type()).append(' ').append(m.source())
                        .append(' ').append(target);
                if (!m.options().isEmpty()) {
                    sb.append(" -o ").append(String.join(",", m.options()));
                }
                out().line(sb.toString());
            }
        }
    }

    @Command(name = "ls", aliases = "list", description = "List snapshots")
    static final class Ls extends Sub {
        @Parameters(paramLabel = "FILTER")
        List<String> filters = new ArrayList<>();

        @Override
        public Integer call() {
            Output.Table t = out().table("KEY", "PARENT", "KIND");
            for (SnapshotInfo s : sn().list(filters.toArray(String[]::new))) {
                t.row(s.name(), s.parent(), s.kind().displayName());
            }
            t.print();
            return 0;
        }
    }

    @Command(name = "tree", description = "Show snapshots as a tree of parents and children")
    static final class Tree extends Sub {
        @Override
        public Integer call() {
            List<SnapshotInfo> all = sn().list();
            Map<String, List<String>> children = new TreeMap<>();
            List<String> roots = new ArrayList<>();
            for (SnapshotInfo s : all) {
                if (s.parent() == null || s.parent().isEmpty()) {
                    roots.add(s.name());
                } else {
                    children.computeIfAbsent(s.parent(), k -> new ArrayList<>()).add(s.name());
                }
            }
            roots.sort(null);
            for (String r : roots) {
                print(r, children, "");
            }
            return 0;
        }

        private void print(String name, Map<String, List<String>> children, String indent) {
            out().line(indent + name);
            for (String c : children.getOrDefault(name, List.of()).stream().sorted().toList()) {
                print(c, children, indent + "  ");
            }
        }
    }

    @Command(name = "prepare", description = "Create an active (writable) snapshot; prints how to mount it")
    static final class Prepare extends Sub {
        @Parameters(index = "0", paramLabel = "KEY")
        String key;
        @Parameters(index = "1", arity = "0..1", paramLabel = "PARENT")
        String parent;
        @Option(names = "--target", paramLabel = "DIR", description = "Mount target shown in the output")
        String target = "/tmp/mnt";

        @Override
        public Integer call() {
            printMounts(sn().prepare(key, parent, rootLabel()), target);
            return 0;
        }
    }

    @Command(name = "view", description = "Create a read-only view of a committed snapshot; prints how to mount it")
    static final class View extends Sub {
        @Parameters(index = "0", paramLabel = "KEY")
        String key;
        @Parameters(index = "1", paramLabel = "PARENT")
        String parent;
        @Option(names = "--target", paramLabel = "DIR", description = "Mount target shown in the output")
        String target = "/tmp/mnt";

        @Override
        public Integer call() {
            printMounts(sn().view(key, parent, rootLabel()), target);
            return 0;
        }
    }

    @Command(name = "commit", description = "Commit an active snapshot under a name")
    static final class Commit extends Sub {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;
        @Parameters(index = "1", paramLabel = "KEY")
        String key;

        @Override
        public Integer call() {
            sn().commit(name, key, rootLabel());
            return 0;
        }
    }

    @Command(name = "mounts", aliases = "m", description = "Print the mount commands of an active snapshot or view")
    static final class Mounts extends Sub {
        @Parameters(index = "0", paramLabel = "TARGET")
        String target;
        @Parameters(index = "1", paramLabel = "KEY")
        String key;

        @Override
        public Integer call() {
            printMounts(sn().mounts(key), target);
            return 0;
        }
    }

    @Command(name = "rm", aliases = {"delete", "del", "remove"}, description = "Remove snapshots")
    static final class Rm extends Sub {
        @Parameters(arity = "1..*", paramLabel = "KEY")
        List<String> keys;

        @Override
        public Integer call() {
            for (String k : keys) {
                sn().remove(k);
            }
            parent.main.berth().gc();
            return 0;
        }
    }

    @Command(name = "usage", description = "Disk usage of snapshots (their own layer)")
    static final class UsageCmd extends Sub {
        @Parameters(paramLabel = "KEY")
        List<String> keys = new ArrayList<>();

        @Override
        public Integer call() {
            List<String> names = keys;
            if (names.isEmpty()) {
                names = sn().list().stream().map(SnapshotInfo::name).toList();
            }
            Output.Table t = out().table("KEY", "SIZE", "INODES");
            for (String k : names) {
                Usage u = sn().usage(k);
                t.row(k, out().json() ? u.size() : Output.size(u.size()), u.inodes());
            }
            t.print();
            return 0;
        }
    }

    static boolean isCommitted(SnapshotInfo s) {
        return s.kind() == Kind.COMMITTED;
    }
}

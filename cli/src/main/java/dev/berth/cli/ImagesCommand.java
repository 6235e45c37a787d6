package dev.berth.cli;

import dev.berth.Namespace;
import dev.berth.PullSettings;
import dev.berth.PushSettings;
import dev.berth.RegistryAccess;
import dev.berth.api.Descriptor;
import dev.berth.api.NotFoundException;
import dev.berth.api.Platform;
import dev.berth.api.PlatformMatcher;
import dev.berth.api.image.Image;
import dev.berth.image.ResolvedImage;
import dev.berth.registry.ProgressListener;
import java.nio.file.Path;
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

@Command(name = "images", aliases = {"image", "i"}, description = "Manage images",
        subcommands = {
            ImagesCommand.Import.class, ImagesCommand.Ls.class, ImagesCommand.Mount.class,
            ImagesCommand.Unmount.class, ImagesCommand.Export.class, ImagesCommand.Rm.class,
            ImagesCommand.Tag.class, ImagesCommand.Pull.class, ImagesCommand.Push.class,
        })
final class ImagesCommand {
    @ParentCommand
    Main main;

    abstract static class Sub implements Callable<Integer> {
        @ParentCommand
        ImagesCommand parent;
        @Spec
        CommandSpec spec;

        Namespace ns() {
            return parent.main.ns();
        }

        Output out() {
            return parent.main.out(spec);
        }
    }

    @Command(name = "import", description = "Import an OCI layout or docker-save tar (or OCI layout directory) and unpack it")
    static final class Import extends Sub {
        @Parameters(index = "0", paramLabel = "FILE")
        Path file;

        @Override
        public Integer call() {
            List<Image> images = ns().importImage(file);
            if (out().json()) {
                out().printJson(images.stream().map(i -> Map.of("name", i.name(),
                        "digest", i.target().digest().toString())).toList());
            } else {
                images.forEach(i -> out().line(i.name()));
            }
            return 0;
        }
    }

    @Command(name = "ls", aliases = "list", description = "List images")
    static final class Ls extends Sub {
        @Option(names = {"-q", "--quiet"}, description = "Print only the names")
        boolean quiet;

        @Parameters(paramLabel = "FILTER", description = "Filters (name==..., labels.key==...)")
        List<String> filters = new ArrayList<>();

        @Override
        public Integer call() {
            List<Image> images = ns().images().list(filters.toArray(String[]::new));
            if (quiet && !out().json()) {
                images.forEach(i -> out().line(i.name()));
                return 0;
            }
            Output.Table t = out().table("REF", "TYPE", "DIGEST", "SIZE", "PLATFORM", "LABELS");
            for (Image i : images) {
                String size = "-";
                String platform = "-";
                try {
                    ResolvedImage r = ns().images().resolve(i.name());
                    long total = r.manifestDescriptor().size() + r.manifest().config().size();
                    for (Descriptor l : r.layers()) {
                        total += l.size();
                    }
                    size = Output.size(total);
                    platform = r.platform().toString();
                } catch (NotFoundException e) {
                    // no manifest for this platform, or blobs missing: the record is all there is
                }
                t.row(i.name(), i.target().mediaType(), i.target().digest().toString(), size, platform, i.labels());
            }
            t.print();
            return 0;
        }
    }

    @Command(name = "mount", description = "Mount an image's file system read-only at a target directory")
    static final class Mount extends Sub {
        @Parameters(index = "0", paramLabel = "NAME")
        String name;
        @Parameters(index = "1", paramLabel = "TARGET")
        Path target;

        @Override
        public Integer call() {
            out().line(ns().images().mount(name, target).toString());
            return 0;
        }
    }

    @Command(name = "unmount", aliases = "umount", description = "Unmount an image mounted by 'images mount'")
    static final class Unmount extends Sub {
        @Parameters(index = "0", paramLabel = "TARGET")
        Path target;

        @Override
        public Integer call() {
            if (!ns().images().unmount(target)) {
                throw new NotFoundException("nothing of Berth's is mounted at " + target.toAbsolutePath());
            }
            parent.main.berth().gc();
            out().line(target.toAbsolutePath().normalize().toString());
            return 0;
        }
    }

    @Command(name = "export", description = "Export images as an OCI layout tar (with docker manifest.json)")
    static final class Export extends Sub {
        @Parameters(index = "0", paramLabel = "FILE")
        Path file;
        @Parameters(index = "1..*", arity = "1..*", paramLabel = "NAME")
        List<String> names;

        @Override
        public Integer call() {
            ns().images().export(file, names.toArray(String[]::new));
            return 0;
        }
    }

    @Command(name = "rm", aliases = {"remove", "delete"}, description = "Remove image names (and collect what only they used)")
    static final class Rm extends Sub {
        @Parameters(arity = "1..*", paramLabel = "NAME")
        List<String> names;

        @Override
        public Integer call() {
            for (String n : names) {
                String name = ns().images().get(n).name();
                ns().images().delete(name, false);
                out().line(name);
            }
            parent.main.berth().gc();
            return 0;
        }
    }

    @Command(name = "tag", description = "Give an image more names")
    static final class Tag extends Sub {
        @Parameters(index = "0", paramLabel = "SOURCE")
        String source;
        @Parameters(index = "1..*", arity = "1..*", paramLabel = "TARGET")
        List<String> targets;

        @Override
        public Integer call() {
            for (String t : targets) {
                out().line(ns().images().tag(source, t).name());
            }
            return 0;
        }
    }

    /** Options pull and push share. */
    static final class RegistryOptions {
        @Option(names = "--plain-http", description = "Use plain HTTP for the registry")
        boolean plainHttp;
        @Option(names = "--platform", paramLabel = "P", description = "Platform, e.g. linux/amd64")
        String platform;
        @Option(names = "--hosts-dir", paramLabel = "DIR", description = "containerd hosts.toml directory")
        Path hostsDir;

        RegistryAccess access() {
            return new RegistryAccess(plainHttp, hostsDir);
        }

        /** The {@code --platform} given; null = the command's default. */
        PlatformMatcher platforms() {
            return platform == null ? null : PlatformMatcher.only(Platform.parse(platform));
        }

        PullSettings pullSettings() {
            return new PullSettings(access(), platforms());
        }

        PushSettings pushSettings() {
            return new PushSettings(access(), platforms());
        }
    }

    @Command(name = "pull", description = "Pull an image from a registry and unpack it")
    static final class Pull extends Sub {
        @picocli.CommandLine.Mixin
        RegistryOptions registry;
        @Parameters(index = "0", paramLabel = "REF")
        String ref;

        @Override
        public Integer call() {
            var err = spec.commandLine().getErr();
            ProgressListener progress = new ProgressListener() {
                @Override
                public void blobVerified(Descriptor blob) {
                    err.println("fetched " + blob.digest() + " (" + Output.size(blob.size()) + ")");
                    err.flush();
                }
            };
            Image image = ns().pull(ref, registry.pullSettings(), out().json() ? null : progress);
            if (out().json()) {
                Map<String, Object> m = new LinkedHashMap<>();
                m.put("name", image.name());
                m.put("digest", image.target().digest().toString());
                out().printJson(m);
            } else {
                out().line(image.name());
            }
            return 0;
        }
    }

    @Command(name = "push", description = "Push an image to a registry")
    static final class Push extends Sub {
        @picocli.CommandLine.Mixin
        RegistryOptions registry;
        @Parameters(index = "0", paramLabel = "REMOTE")
        String remote;
        @Parameters(index = "1", arity = "0..1", paramLabel = "LOCAL", description = "Local image name (default: REMOTE)")
        String local;

        @Override
        public Integer call() {
            ns().push(local == null ? remote : local, remote, registry.pushSettings(), null);
            out().line(remote);
            return 0;
        }
    }
}

package dev.berth.cli;

import dev.berth.Namespace;
import dev.berth.PullSettings;
import dev.berth.PushSettings;
import dev.berth.RegistryAccess;
import dev.berth.api.Descriptor;
import dev.berth.api.IoFailureException;
import dev.berth.api.NotFoundException;
import dev.berth.api.Platform;
import dev.berth.api.PlatformMatcher;
import dev.berth.api.image.Image;
import dev.berth.image.ResolvedImage;
import java.io.FilterOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
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

        /** The transfer display on stderr; off with {@code --quiet} or {@code --json}. */
        Progress progress(boolean quiet) {
            return new Progress(spec.commandLine().getErr(), Progress.Mode.detect(quiet || out().json()));
        }
    }

    /** The option the transferring commands share. */
    static final class QuietOption {
        @Option(names = "--quiet", description = "No progress display")
        boolean quiet;
    }

    @Command(name = "import", description = "Import an OCI layout or docker-save tar (or OCI layout directory) and unpack it")
    static final class Import extends Sub {
        @Parameters(index = "0", paramLabel = "FILE")
        Path file;
        @picocli.CommandLine.Mixin
        QuietOption quiet;

        @Override
        public Integer call() {
            List<Image> images;
            try (Progress progress = progress(quiet.quiet)) {
                images = progress.polling(() -> ns().content().listStatuses(), () -> ns().importImage(file));
            }
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
        static final String[] COLUMNS = {"REF", "TYPE", "DIGEST", "SIZE", "PLATFORM", "LABELS"};

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
            Output.Table t = out().table(COLUMNS);
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

        @picocli.CommandLine.Mixin
        QuietOption quiet;

        @Override
        public Integer call() {
            Path tmp = file.resolveSibling(file.getFileName() + ".tmp-" + ProcessHandle.current().pid());
            try (Progress progress = progress(quiet.quiet)) {
                Object row = progress.stream("export " + file.getFileName());
                try (OutputStream out = new FilterOutputStream(Files.newOutputStream(tmp)) {
                    @Override
                    public void write(byte[] b, int off, int len) throws IOException {
                        out.write(b, off, len);
                        progress.add(row, len);
                    }
                }) {
                    ns().images().export(out, names.toArray(String[]::new));
                }
                Files.move(tmp, file, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
                progress.done(row);
            } catch (IOException e) {
                throw new IoFailureException("cannot write " + file + ": " + e.getMessage(), e);
            } finally {
                try {
                    Files.deleteIfExists(tmp);
                } catch (IOException ignored) {
                    // only a leftover temporary file
                }
            }
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

        @picocli.CommandLine.Mixin
        QuietOption quiet;

        @Override
        public Integer call() {
            Image image;
            try (Progress progress = progress(quiet.quiet)) {
                image = ns().pull(ref, registry.pullSettings(), progress);
            }
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

        @picocli.CommandLine.Mixin
        QuietOption quiet;

        @Override
        public Integer call() {
            try (Progress progress = progress(quiet.quiet)) {
                ns().push(local == null ? remote : local, remote, registry.pushSettings(), progress);
            }
            out().line(remote);
            return 0;
        }
    }
}

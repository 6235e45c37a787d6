package dev.berth.cli;

import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.snapshot.mount.Mounts;
import dev.berth.testing.Busybox;
import dev.berth.testing.OciLayout;
import dev.berth.testing.TestFiles;
import java.io.IOException;
import java.lang.module.Configuration;
import java.lang.module.ModuleDescriptor;
import java.lang.module.ModuleDescriptor.Exports;
import java.lang.module.ModuleFinder;
import java.lang.module.ModuleReference;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.UUID;
import java.util.function.Function;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import org.junit.jupiter.api.Nested;
import org.junit.jupiter.api.Test;

/**
 * The built jars as named modules: every published Berth jar carries a module descriptor that exports
 * no {@code .internal} package to everyone, the CLI's module graph resolves, and the CLI run from the
 * module path ({@code java -p ... -m dev.berth.cli}) imports an image and runs a container.
 */
class ModulePathIT {
    private static final Set<String> BERTH_MODULES = Set.of("dev.berth.api", "dev.berth.sys", "dev.berth.events",
            "dev.berth.content", "dev.berth.snapshot", "dev.berth.image", "dev.berth.registry", "dev.berth.runtime",
            "dev.berth.network", "dev.berth.cri", "dev.berth", "dev.berth.cli");

    /** The CLI jar and its runtime dependencies, as the build wrote them. */
    private static List<Path> modulePath() throws IOException {
        Path target = Path.of(System.getProperty("user.dir")).resolve("target");
        List<Path> jars = new ArrayList<>();
        try (Stream<Path> files = Files.list(target)) {
            files.filter(p -> p.getFileName().toString().matches("berth-cli-.*\\.jar")
                    && !p.getFileName().toString().matches(".*-(sources|javadoc)\\.jar")).forEach(jars::add);
        }
        assertThat(jars).as("the CLI jar in %s", target).hasSize(1);
        String classpath = Files.readString(target.resolve("classpath.txt")).strip();
        Arrays.stream(classpath.split(":")).map(Path::of).forEach(jars::add);
        return jars;
    }

    private static Map<String, ModuleDescriptor> berthDescriptors() throws IOException {
        return ModuleFinder.of(modulePath().toArray(Path[]::new)).findAll().stream()
                .map(ModuleReference::descriptor)
                .filter(d -> d.name().startsWith("dev.berth"))
                .collect(Collectors.toMap(ModuleDescriptor::name, Function.identity()));
    }

    @Nested
    class Descriptors {
        @Test
        void everyPublishedJarIsANamedModuleWithADescriptor() throws IOException {
            Map<String, ModuleDescriptor> modules = berthDescriptors();

            assertThat(modules.keySet()).containsExactlyInAnyOrderElementsOf(BERTH_MODULES);
            assertThat(modules.values()).allSatisfy(d -> assertThat(d.isAutomatic()).as(d.name()).isFalse());
        }

        @Test
        void noModuleExportsAnInternalPackageToEveryone() throws IOException {
            List<String> leaks = berthDescriptors().values().stream()
                    .flatMap(d -> d.exports().stream()
                            .filter(e -> !e.isQualified() && isInternal(e.source()))
                            .map(e -> d.name() + " exports " + e.source()))
                    .toList();

            assertThat(leaks).isEmpty();
        }

        @Test
        void internalPackagesAreExportedOnlyToBerthModules() throws IOException {
            List<String> targets = berthDescriptors().values().stream()
                    .flatMap(d -> d.exports().stream())
                    .filter(e -> isInternal(e.source()) || e.source().startsWith("dev.berth.sys"))
                    .peek(e -> assertThat(e.isQualified()).as(e.source()).isTrue())
                    .flatMap(e -> e.targets().stream())
                    .distinct()
                    .toList();

            assertThat(targets).isNotEmpty().allSatisfy(t -> assertThat(t).startsWith("dev.berth"));
        }

        @Test
        void theLibraryModulesExportTheirApi() throws IOException {
            Map<String, ModuleDescriptor> modules = berthDescriptors();

            assertThat(exported(modules.get("dev.berth"))).contains("dev.berth");
            assertThat(exported(modules.get("dev.berth.api"))).contains("dev.berth.api", "dev.berth.api.image",
                    "dev.berth.api.task");
            assertThat(exported(modules.get("dev.berth.network"))).containsExactly("dev.berth.network");
            assertThat(exported(modules.get("dev.berth.runtime"))).contains("dev.berth.runtime");
            assertThat(exported(modules.get("dev.berth.sys"))).isEmpty();
            assertThat(exported(modules.get("dev.berth.cli"))).isEmpty();
        }

        @Test
        void theCliModuleGraphResolves() throws IOException {
            ModuleFinder finder = ModuleFinder.of(modulePath().toArray(Path[]::new));

            Configuration graph = ModuleLayer.boot().configuration()
                    .resolveAndBind(finder, ModuleFinder.of(), Set.of("dev.berth.cli"));

            assertThat(graph.findModule("dev.berth.runtime")).isPresent();
            assertThat(graph.findModule("org.xerial.sqlitejdbc")).as("the JDBC driver, bound as a service")
                    .isPresent();
        }

        private static boolean isInternal(String pkg) {
            return pkg.endsWith(".internal") || pkg.contains(".internal.");
        }

        private static Set<String> exported(ModuleDescriptor d) {
            return d.exports().stream().filter(e -> !e.isQualified()).map(Exports::source)
                    .collect(Collectors.toSet());
        }
    }

    @Nested
    class OnTheModulePath {
        @Test
        void theCliImportsAnImageAndRunsAContainer() throws Exception {
            Path root = Files.createTempDirectory("berth-modules-root-");
            Path state = Files.createTempDirectory(Path.of("/tmp"), "bms-");
            Path archive = root.resolveSibling(root.getFileName() + "-busybox.tar");
            String image = "docker.io/library/busybox:latest";
            try {
                OciLayout.builder().image(image, Busybox.image()).writeTar(archive);

                BerthCommand.Result help = berth(root, state, "--help");
                assertThat(help.exitCode()).as(help.stderr()).isZero();
                assertThat(help.stdout()).contains("Usage: berth");

                BerthCommand.Result imported = berth(root, state, "images", "import", archive.toString());
                assertThat(imported.exitCode()).as(imported.stderr()).isZero();
                assertThat(imported.stdout()).isEqualTo(image + "\n");

                String id = "modpath-" + UUID.randomUUID().toString().substring(0, 8);
                BerthCommand.Result run = berth(root, state, "run", "--rm", image, id, "echo", "from the module path");
                assertThat(run.exitCode()).as(run.stderr()).isZero();
                assertThat(run.stdout()).isEqualTo("from the module path\n");
            } finally {
                assertThat(Mounts.mountPointsUnder(root)).isEmpty();
                TestFiles.deleteTree(root);
                TestFiles.deleteTree(state);
                Files.deleteIfExists(archive);
            }
        }


        private BerthCommand.Result berth(Path root, Path state, String... args) throws IOException, InterruptedException {
            Path java = Path.of(System.getProperty("java.home"), "bin", "java");
            String modulePath = modulePath().stream().map(Path::toString).collect(Collectors.joining(":"));
            List<String> command = new ArrayList<>(List.of(java.toString(), "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn",
                    "--module-path", modulePath, "--module", "dev.berth.cli/dev.berth.cli.Main",
                    "--root", root.toString(), "--state", state.toString()));
            command.addAll(List.of(args));
            Process p = new ProcessBuilder(command).start();
            return BerthCommand.finish(p, args);
        }
    }
}

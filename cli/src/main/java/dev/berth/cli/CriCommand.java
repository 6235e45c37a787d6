package dev.berth.cli;

import dev.berth.Berth;
import dev.berth.RegistryAccess;
import dev.berth.cri.CriServer;
import dev.berth.network.CniPlugins;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.ParentCommand;
import picocli.CommandLine.Spec;

@Command(name = "cri", description = "The Kubernetes CRI server (runtime.v1) for a kubelet",
        subcommands = {CriCommand.Serve.class})
final class CriCommand {
    @ParentCommand
    Main main;

    @Command(name = "serve", description = "Serve the CRI on a unix socket until SIGTERM or SIGINT; pods keep running after")
    static final class Serve implements Callable<Integer> {
        @ParentCommand
        CriCommand parent;
        @Spec
        CommandSpec spec;

        @Option(names = "--socket", paramLabel = "PATH", description = "Unix socket (default: ${DEFAULT-VALUE})")
        Path socket = CriServer.DEFAULT_SOCKET;

        @Option(names = "--cni-conf-dir", paramLabel = "DIR",
                description = "CNI network configurations; the first by name is the pod network (default: ${DEFAULT-VALUE})")
        Path cniConfDir = CriServer.DEFAULT_CNI_CONF_DIR;

        @Option(names = "--cni-bin-dir", paramLabel = "DIR", split = ",",
                description = "CNI plugin directories, in order (default: /opt/cni/bin,/usr/lib/cni)")
        List<Path> cniBinDirs = CniPlugins.DEFAULT_DIRS;

        @Option(names = "--registry-config", paramLabel = "DIR",
                description = "Registry hosts directory (<host>/hosts.toml and certificates)")
        Path hostsDir;

        /** The server these options describe, over {@code berth}. */
        CriServer.Builder builder(Berth berth) {
            RegistryAccess access = RegistryAccess.defaults();
            if (hostsDir != null) {
                access = access.withHostsDirectory(hostsDir.toAbsolutePath());
            }
            return CriServer.builder(berth).socket(socket.toAbsolutePath()).cniConfDir(cniConfDir.toAbsolutePath())
                    .cniPluginDirs(cniBinDirs).registry(access);
        }

        @Override
        public Integer call() throws InterruptedException {
            Main main = parent.main;
            // a long-lived server: garbage collection runs in the background (the default policy)
            Berth berth = Berth.builder().root(main.root).stateDir(main.state).build();
            CriServer server;
            try {
                server = builder(berth).build();
            } catch (RuntimeException e) {
                berth.close();
                throw e;
            }
            CountDownLatch stopped = new CountDownLatch(1);
            Thread hook = new Thread(() -> {
                server.close();
                berth.close();
                stopped.countDown();
            }, "berth-cri-shutdown");
            Runtime.getRuntime().addShutdownHook(hook);
            main.out(spec).line("serving CRI on unix://" + server.socket());
            spec.commandLine().getOut().flush();
            stopped.await();
            return 0;
        }
    }
}

package dev.berth.cli;

import dev.berth.Berth;
import dev.berth.RegistryAccess;
import dev.berth.api.InvalidArgumentException;
import dev.berth.cri.CriServer;
import dev.berth.network.CniPlugins;
import java.net.InetSocketAddress;
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

        @Option(names = "--streaming-address", paramLabel = "HOST:PORT",
                description = "Where Exec/Attach/PortForward streams are served (default: 127.0.0.1 on a free port)")
        String streamingAddress;

        @Option(names = "--registry-config", paramLabel = "DIR",
                description = "Registry hosts directory (<host>/hosts.toml and certificates)")
        Path hostsDir;

        @Option(names = "--pods-per-shim", paramLabel = "N",
                description = "Pods one containerd-shim-runc-v2 serves (default 8; 1 is containerd's one shim per pod;"
                        + " more use less memory per pod, but a shim that dies takes all its pods' containers with it)")
        Integer podsPerShim;

        /** The server these options describe, over {@code berth}. */
        CriServer.Builder builder(Berth berth) {
            RegistryAccess access = RegistryAccess.defaults();
            if (hostsDir != null) {
                access = access.withHostsDirectory(hostsDir.toAbsolutePath());
            }
            CriServer.Builder b = CriServer.builder(berth).socket(socket.toAbsolutePath())
                    .cniConfDir(cniConfDir.toAbsolutePath()).cniPluginDirs(cniBinDirs).registry(access);
            if (streamingAddress != null) {
                b.streamingAddress(hostPort(streamingAddress));
            }
            if (podsPerShim != null) {
                b.podsPerShim(checkedPodsPerShim(podsPerShim));
            }
            return b;
        }

        /** The count of {@code --pods-per-shim}, named in the error when it is not at least 1. */
        static int checkedPodsPerShim(int n) {
            if (n < 1) {
                throw new InvalidArgumentException("--pods-per-shim must be at least 1, got " + n);
            }
            return n;
        }

        /** {@code HOST:PORT} or {@code [V6]:PORT} as a resolved address. */
        static InetSocketAddress hostPort(String s) {
            int colon = s.lastIndexOf(':');
            if (colon <= 0 || colon == s.length() - 1) {
                throw new InvalidArgumentException("--streaming-address must be HOST:PORT, got \"" + s + "\"");
            }
            String host = s.substring(0, colon);
            if (host.startsWith("[") && host.endsWith("]")) {
                host = host.substring(1, host.length() - 1);
            }
            int port;
            try {
                port = Integer.parseInt(s.substring(colon + 1));
            } catch (NumberFormatException e) {
                throw new InvalidArgumentException("--streaming-address port is not a number: \"" + s + "\"");
            }
            if (port < 0 || port > 65535) {
                throw new InvalidArgumentException("--streaming-address port out of range: " + port);
            }
            InetSocketAddress a = new InetSocketAddress(host, port);
            if (a.isUnresolved()) {
                throw new InvalidArgumentException("--streaming-address host does not resolve: " + host);
            }
            return a;
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
            main.out(spec).line("serving CRI on unix://" + server.socket() + ", streams on http://"
                    + server.streamingAddress().getAddress().getHostAddress() + ":" + server.streamingAddress().getPort());
            spec.commandLine().getOut().flush();
            stopped.await();
            return 0;
        }
    }
}

package dev.berth.network;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A JVM that attaches one container; the test kills it. Args: root, state dir, a plugin directory looked up
 * first ("-": none), namespace, container id, and optionally a network and "spare" (wait until the spare
 * namespace is made, print READY and stay).
 */
public final class AttachingChild {
    private AttachingChild() {
    }

    public static void main(String[] args) throws InterruptedException {
        List<Path> dirs = new ArrayList<>();
        if (!args[2].equals("-")) {
            dirs.add(Path.of(args[2]));
        }
        dirs.addAll(CniPlugins.DEFAULT_DIRS);
        boolean spare = args.length > 6 && args[6].equals("spare");
        Networks networks = Networks.builder(Path.of(args[0]), Path.of(args[1])).pluginDirs(dirs).spareNetns(spare)
                .build();
        String network = args.length > 5 ? args[5] : NetworkMode.DEFAULT_NETWORK;
        networks.attach(new Networks.AttachRequest(args[3], args[4], network, List.of(PortMapping.tcp(80)), List.of()));
        if (spare) {
            networks.awaitSpares();
        }
        System.out.println(networks.readySpares(network) > 0 ? "READY" : "ATTACHED");
        System.out.flush();
        Thread.sleep(600_000);
    }
}

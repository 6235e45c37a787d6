package dev.berth.network;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A JVM that attaches one container to the default network with plugins looked up first in a directory of
 * its own (args: root, state dir, that directory, namespace, container id); the test kills it mid-chain.
 */
public final class AttachingChild {
    private AttachingChild() {
    }

    public static void main(String[] args) {
        List<Path> dirs = new ArrayList<>(List.of(Path.of(args[2])));
        dirs.addAll(CniPlugins.DEFAULT_DIRS);
        Networks networks = Networks.builder(Path.of(args[0]), Path.of(args[1])).pluginDirs(dirs).build();
        networks.attach(new Networks.AttachRequest(args[3], args[4], NetworkMode.DEFAULT_NETWORK,
                List.of(PortMapping.tcp(80)), List.of()));
        System.out.println("ATTACHED");
    }
}

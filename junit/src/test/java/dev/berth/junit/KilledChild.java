package dev.berth.junit;

/**
 * Run in a child JVM by {@link KilledJvmIT}: starts an httpd on a network of its own with a published port,
 * prints {@code UP <id> <pid> <network> <hostPort>}, and waits to be killed.
 */
public final class KilledChild {
    private KilledChild() {
    }

    public static void main(String[] args) throws Exception {
        BerthNetwork network = BerthNetwork.newNetwork();
        BerthContainer<?> web = new BerthContainer<>(TestImages.busybox()).withCommand(TestImages.WEB)
                .withNetwork(network).withNetworkAliases("web").withExposedPorts(8080);
        web.start();
        System.out.println("UP " + web.id() + " " + web.pid() + " " + network.name() + " " + web.port(8080));
        System.out.flush();
        Thread.sleep(600_000);
    }
}

package dev.berth.bench.tc;

import dev.berth.Berth;
import dev.berth.Container;
import dev.berth.ContainerOptions;
import dev.berth.Namespace;
import dev.berth.RunOptions;
import dev.berth.api.image.Image;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Berth's core facade used by hand as a test would until the junit extension exists: {@code run} on the
 * default network with the port published, then a TCP connect to the published port until one is
 * accepted (with Berth's portmap a connect succeeds only once the container listens: there is no proxy
 * accepting in its place). Root, state directory and images from system properties {@code bench.root},
 * {@code bench.state}, {@code bench.busyboxArchive}, {@code bench.busybox}, {@code bench.postgresArchive},
 * {@code bench.postgres}; images already in the root are not imported again.
 */
final class BerthSide implements Side {
    private static final long POLL_NANOS = TimeUnit.MILLISECONDS.toNanos(5);
    private final Berth berth;
    private final Namespace ns;
    private final String busybox = System.getProperty("bench.busybox");
    private final String postgres = System.getProperty("bench.postgres");
    private final String prefix = "tc" + ProcessHandle.current().pid() + "-";
    private final AtomicInteger seq = new AtomicInteger();

    BerthSide() {
        berth = Berth.builder()
                .root(Path.of(System.getProperty("bench.root")))
                .stateDir(Path.of(System.getProperty("bench.state")))
                .sharedShims(Boolean.parseBoolean(System.getProperty("bench.sharedShims", "true")))
                .build();
        ns = berth.namespace("bench-tc");
        importIfMissing(busybox, System.getProperty("bench.busyboxArchive"));
        importIfMissing(postgres, System.getProperty("bench.postgresArchive"));
    }

    private void importIfMissing(String name, String archive) {
        if (name != null && archive != null && ns.images().list().stream().map(Image::name).noneMatch(name::equals)) {
            ns.importImage(Path.of(archive));
        }
    }

    @Override
    public String name() {
        return "berth";
    }

    @Override
    public Running listening() {
        Running r = run(busybox, 8080, RunOptions.builder().args("httpd", "-f", "-p", "8080"));
        long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
        while (!accepts(r.port())) {
            if (System.nanoTime() > deadline) {
                r.close();
                throw new IllegalStateException("httpd in a Berth container did not listen within 60 s");
            }
            LockSupport.parkNanos(POLL_NANOS);
        }
        return r;
    }

    @Override
    public Running postgres() {
        return run(postgres, 5432, RunOptions.builder()
                .args("docker-entrypoint.sh", "postgres", "-c", "fsync=off")
                .env("POSTGRES_USER=test", "POSTGRES_PASSWORD=test", "POSTGRES_DB=test"));
    }

    private Running run(String image, int containerPort, RunOptions.Builder options) {
        String id = prefix + seq.incrementAndGet();
        ns.run(image, options.id(id)
                .container(ContainerOptions.network("default"), ContainerOptions.publish(String.valueOf(containerPort)))
                .build());
        Container c = ns.containers().get(id);
        int port = c.port(containerPort);
        return new Running() {
            @Override
            public String host() {
                return "127.0.0.1";
            }

            @Override
            public int port() {
                return port;
            }

            @Override
            public void close() {
                c.task().ifPresent(t -> t.delete(true));
                c.delete();
            }
        };
    }

    private static boolean accepts(int port) {
        try (Socket s = new Socket()) {
            s.connect(new InetSocketAddress("127.0.0.1", port), 1000);
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    @Override
    public void close() {
        berth.close();
    }
}

package dev.berth.examples;

import dev.berth.Berth;
import dev.berth.Namespace;
import dev.berth.RunOptions;
import dev.berth.api.event.Envelope;
import dev.berth.api.event.Subscription;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Streams events: subscribes to one namespace's events, then imports an image and runs a short container
 * there. Prints every event (images, containers, snapshots, and the tasks' lifecycle as the shim reports
 * it) until the container, removed with {@code --rm}, has been deleted.
 */
public final class StreamEvents {
    private StreamEvents() {
    }

    public static void main(String[] args) throws Exception {
        Path archive = Files.createTempFile("berth-demo-", ".tar");
        try (Berth berth = Roots.open()) {
            Namespace ns = berth.namespace("events-example");
            CountDownLatch containerDeleted = new CountDownLatch(1);
            try (Subscription subscription = ns.events().subscribe(e -> {
                print(e);
                // The last event of a run with rm; delivery is asynchronous, so wait for it before closing.
                if (e.topic().equals("/containers/delete")) {
                    containerDeleted.countDown();
                }
            })) {
                DemoImage.write(archive, DemoImage.NAME);
                ns.importImage(archive);
                ns.runAndWait(DemoImage.NAME, RunOptions.builder().args("true").rm(true).build());
                if (!containerDeleted.await(30, TimeUnit.SECONDS)) {
                    System.out.println("no /containers/delete event within 30 s");
                }
            }
            ns.images().delete(DemoImage.NAME, true);
        } finally {
            Files.deleteIfExists(archive);
        }
    }

    private static void print(Envelope e) {
        System.out.println(e.timestamp() + " " + e.namespace() + " " + e.topic() + " " + e.event());
    }
}

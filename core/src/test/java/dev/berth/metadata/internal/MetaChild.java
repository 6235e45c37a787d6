package dev.berth.metadata.internal;

import dev.berth.GcPolicy;
import dev.berth.LeaseScope;
import dev.berth.api.Descriptor;
import dev.berth.api.Labels;
import dev.berth.api.image.Image;
import dev.berth.content.Content;
import dev.berth.content.LocalContentStore;
import dev.berth.snapshot.Snapshotters;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;

/**
 * A second process on the same root, for the multi-process ITs. {@code write <root> <n>} imports n small
 * images (each under a temporary lease: layer, manifest, a snapshot, then the image record) printing
 * {@code created <name>} after each; {@code churn <root>} does the same forever, printing {@code ready}
 * once the first is done.
 */
public final class MetaChild {
    private MetaChild() {
    }

    public static void main(String[] args) {
        Path root = Path.of(args[1]);
        long n = args[0].equals("churn") ? Long.MAX_VALUE : Long.parseLong(args[2]);
        try (LocalContentStore content = LocalContentStore.open(root.resolve("content"));
             var snapshotter = Snapshotters.nativeSnapshotter(root.resolve("snapshots/native"));
             Metadata md = Metadata.builder(root.resolve("meta.db")).content(content).snapshotter(snapshotter)
                     .gcPolicy(GcPolicy.manual()).build()) {
            NamespacedMetadata ns = md.namespace("shared");
            String pid = Long.toString(ProcessHandle.current().pid());
            for (long i = 0; i < n; i++) {
                String name = "child-" + pid + "-" + i;
                try (LeaseScope lease = ns.withTemporaryLease(Duration.ofHours(1))) {
                    Descriptor layer = Content.writeBlob(ns.content(), name + "-layer", "application/octet-stream",
                            ("layer of " + name).getBytes(StandardCharsets.UTF_8));
                    ns.snapshotter("native").prepare("extract " + name, null);
                    ns.snapshotter("native").commit(name + "-L0", "extract " + name);
                    byte[] manifest = ("manifest of " + name).getBytes(StandardCharsets.UTF_8);
                    Descriptor m = Descriptor.of("application/vnd.oci.image.manifest.v1+json", manifest);
                    try (var w = ns.content().writer(name + "-manifest", m)) {
                        w.write(java.nio.ByteBuffer.wrap(manifest));
                        w.commit(m.size(), m.digest(), Map.of(
                                Labels.GC_REF_CONTENT + ".l.0", layer.digest().toString(),
                                Labels.GC_REF_SNAPSHOT + "native", name + "-L0"));
                    }
                    ns.images().create(new Image(name, m));
                }
                System.out.println(i == 0 && args[0].equals("churn") ? "ready" : "created " + name);
                System.out.flush();
            }
            System.out.println("done");
        }
    }
}

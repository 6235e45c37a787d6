package dev.berth.examples;

import dev.berth.Berth;
import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.image.Image;
import dev.berth.image.ResolvedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * Imports an image archive (the demo image unless a path is given) and prints what it is made of: its
 * manifest, platform, layers with their chain IDs (the snapshots they were unpacked into) and the process
 * settings of its config.
 */
public final class InspectImage {
    private InspectImage() {
    }

    public static void main(String[] args) throws Exception {
        Path archive = args.length > 0 ? Path.of(args[0]) : Files.createTempFile("berth-demo-", ".tar");
        try (Berth berth = Roots.open()) {
            if (args.length == 0) {
                DemoImage.write(archive, DemoImage.NAME);
            }
            for (Image image : berth.importImage(archive)) {
                ResolvedImage r = berth.images().resolve(image.name());
                System.out.println(image.name());
                System.out.println("  target:   " + image.target().mediaType() + " " + image.target().digest());
                System.out.println("  platform: " + r.platform());
                List<Digest> chain = r.chainIds();
                for (int i = 0; i < r.layers().size(); i++) {
                    Descriptor layer = r.layers().get(i);
                    System.out.println("  layer " + i + ":  " + layer.digest() + " (" + layer.size() + " bytes, "
                            + layer.mediaType() + ")");
                    System.out.println("    snapshot " + chain.get(i) + " in " + berth.defaultSnapshotter() + ": "
                            + berth.snapshots(berth.defaultSnapshotter()).stat(chain.get(i).toString()).kind());
                }
                var config = r.config().config();
                System.out.println("  cmd:      " + config.cmd());
                System.out.println("  env:      " + config.env());
                System.out.println("  labels:   " + config.labels());
            }
        } finally {
            if (args.length == 0) {
                Files.deleteIfExists(archive);
            }
        }
    }
}

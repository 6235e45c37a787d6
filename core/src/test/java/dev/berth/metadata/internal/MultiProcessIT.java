package dev.berth.metadata.internal;

import dev.berth.testing.ChildJvm;
import static org.assertj.core.api.Assertions.assertThat;

import dev.berth.api.Labels;
import dev.berth.api.content.Info;
import dev.berth.api.image.Image;
import dev.berth.api.snapshot.SnapshotInfo;
import dev.berth.content.Content;
import java.nio.file.Path;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.ResultSet;
import java.sql.Statement;
import java.time.Duration;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ThreadLocalRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Two JVMs on one root: one writes, the other reads and collects garbage; and a writer killed mid-work. */
class MultiProcessIT {
    @TempDir
    Path root;

    /** Everything an image needs is visible to the reader whenever the image is. */
    private static void assertImagesComplete(Fixture f) {
        NamespacedMetadata ns = f.ns("shared");
        for (Image img : ns.images().list()) {
            Info manifest = ns.content().info(img.target().digest());
            assertThat(Content.readBlob(ns.content(), img.target())).isNotEmpty();
            String layer = manifest.labels().get(Labels.GC_REF_CONTENT + ".l.0");
            assertThat(ns.content().info(dev.berth.api.Digest.parse(layer))).isNotNull();
            assertThat(f.onDisk(dev.berth.api.Digest.parse(layer))).isTrue();
            String snapshot = manifest.labels().get(Labels.GC_REF_SNAPSHOT + "native");
            SnapshotInfo s = ns.snapshotter("native").stat(snapshot);
            assertThat(s.kind()).isEqualTo(dev.berth.api.snapshot.Kind.COMMITTED);
        }
    }

    @Test
    void aReaderAndCollectorInOneJvmSeesTheOtherJvmsWritesWholeAndNeverBreaksThem() throws Exception {
        int n = 25;
        try (Fixture f = Fixture.open(root); ChildJvm child = ChildJvm.start(MetaChild.class, List.of(), "write", root.toString(), "" + n)) {
            Set<String> announced = new HashSet<>();
            String line;
            while ((line = child.nextLine(Duration.ofSeconds(60))) != null && !line.equals("done")) {
                announced.add(line.substring("created ".length()));
                // the parent reads and collects while the child is mid-import
                f.md.gc();
                assertImagesComplete(f);
                List<String> names = f.ns("shared").images().list().stream().map(Image::name).toList();
                assertThat(names).containsAll(announced);
            }
            assertThat(child.waitForExit(Duration.ofSeconds(30))).isZero();
            assertThat(announced).hasSize(n);
            f.md.gc();
            assertImagesComplete(f);
            assertThat(f.ns("shared").images().list()).hasSize(n);
            assertThat(f.ns("shared").leases().list()).as("every temporary lease was released").isEmpty();
        }
    }

    @Test
    void aWriterKilledMidTransactionLeavesAConsistentDatabase() throws Exception {
        try (ChildJvm child = ChildJvm.start(MetaChild.class, List.of(), "churn", root.toString())) {
            assertThat(child.nextLine(Duration.ofSeconds(60))).isEqualTo("ready");
            int more = 3 + ThreadLocalRandom.current().nextInt(10);
            for (int i = 0; i < more; i++) {
                assertThat(child.nextLine(Duration.ofSeconds(60))).startsWith("created ");
            }
            child.kill();
        }
        try (Connection c = DriverManager.getConnection("jdbc:sqlite:" + root.resolve("meta.db"));
             Statement st = c.createStatement(); ResultSet rs = st.executeQuery("PRAGMA integrity_check")) {
            rs.next();
            assertThat(rs.getString(1)).isEqualTo("ok");
        }
        try (Fixture f = Fixture.open(root)) {
            assertThat(f.ns("shared").images().list()).hasSizeGreaterThan(3);
            assertImagesComplete(f);
            f.md.gc();
            assertImagesComplete(f);
            assertThat(f.ns("shared").leases().list()).as("the killed child's lease expires; GC keeps it for now")
                    .hasSizeLessThanOrEqualTo(1);
            // what the killed import had half-made is collectable once its lease goes
            f.ns("shared").leases().list().forEach(l -> f.ns("shared").leases().delete(l.id(), false));
            f.md.gc();
            assertImagesComplete(f);
            int images = f.ns("shared").images().list().size();
            assertThat(f.ns("shared").content().list()).hasSize(2 * images);
            assertThat(f.ns("shared").snapshotter("native").list()).hasSize(images);
            assertThat(f.content.list()).hasSize(2 * images);
            assertThat(f.snapshotter.list()).hasSize(images);
        }
    }
}

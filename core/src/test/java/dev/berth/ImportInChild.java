package dev.berth;

import dev.berth.api.image.Image;
import java.nio.file.Path;

/** Run in a child JVM by {@link TwoProcessesIT}: imports an archive into a root and prints the names. */
public final class ImportInChild {
    private ImportInChild() {
    }

    public static void main(String[] args) {
        try (Berth berth = Berth.builder().root(Path.of(args[0])).stateDir(Path.of(args[1]))
                .gcPolicy(GcPolicy.manual()).build()) {
            for (Image image : berth.namespace(args[3]).importImage(Path.of(args[2]))) {
                System.out.println(image.name());
            }
        }
    }
}

package dev.berth;

import java.io.IOException;
import java.nio.file.Path;

/**
 * Run in a child JVM by {@link FileModesIT} under umask 000: opens a root, imports an image, starts the
 * task runtime (its events socket), prints {@code ready} and waits for stdin to close.
 */
public final class OpenUnderUmaskChild {
    private OpenUnderUmaskChild() {
    }

    public static void main(String[] args) throws IOException {
        try (Berth berth = Berth.builder().root(Path.of(args[0])).stateDir(Path.of(args[1]))
                .gcPolicy(GcPolicy.manual()).build()) {
            berth.namespace("modes").importImage(Path.of(args[2]));
            berth.namespace("modes").tasks().list();
            System.out.println("ready");
            System.in.transferTo(java.io.OutputStream.nullOutputStream());
        }
    }
}

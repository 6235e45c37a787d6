package dev.berth.examples;

import dev.berth.Berth;
import java.nio.file.Path;

/** Where the examples keep their Berth root: {@code $BERTH_ROOT} and {@code $BERTH_STATE}, else the defaults. */
final class Roots {
    private Roots() {
    }

    static Berth open() {
        String root = System.getenv("BERTH_ROOT");
        String state = System.getenv("BERTH_STATE");
        return Berth.builder()
                .root(root == null ? Berth.DEFAULT_ROOT : Path.of(root))
                .stateDir(state == null ? Berth.DEFAULT_STATE : Path.of(state))
                .build();
    }
}

package dev.berth.runtime.internal;

import java.io.IOException;
import java.nio.file.Path;

/** Lets tests outside the package remove a bundle the way the runtime does. */
public final class BundleAccess {
    private BundleAccess() {
    }

    public static void delete(Path bundle) throws IOException {
        Bundle.at(bundle).delete();
    }
}

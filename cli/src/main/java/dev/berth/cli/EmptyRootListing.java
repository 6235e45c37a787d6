package dev.berth.cli;

import dev.berth.api.Identifiers;
import java.io.IOException;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.InvalidPathException;
import java.nio.file.Path;
import java.util.Map;

/**
 * {@code images ls} on a root that has no metadata database yet (a new root, or one never written): there
 * are no image records, so the call prints the empty listing without building picocli's model, without
 * opening (and so creating) the root, and without loading the library. Only a command line of exactly that
 * shape is answered here (global options, {@code images|image|i ls|list}, {@code -q}/{@code --quiet},
 * {@code --json}); anything else (filters, help, an invalid namespace, a repeated option, a caller that is
 * not root, a root that is not a directory) goes the full way, which prints what it prints there.
 * {@code -Dberth.cli.emptyRootListing=false} turns it off (A/B).
 */
final class EmptyRootListing {
    static final String PROPERTY = "berth.cli.emptyRootListing";
    /** {@link dev.berth.Berth#DEFAULT_ROOT}, without initializing that class (and slf4j with it). */
    static final String DEFAULT_ROOT = "/var/lib/berth";
    /** The metadata database in a root ({@code dev.berth.metadata.internal.Metadata}): image records live there. */
    static final String METADATA_FILE = "meta.db";

    private EmptyRootListing() {
    }

    /**
     * Prints the empty listing on {@code out} and returns true if {@code args} is an {@code images ls} of a
     * root with no metadata database; returns false, having printed nothing, for every other call.
     */
    static boolean answer(String[] args, Map<String, String> env, PrintWriter out) {
        if (!Boolean.parseBoolean(System.getProperty(PROPERTY, "true"))) {
            return false;
        }
        Call call = parse(args, env);
        if (call == null || !Identifiers.isValid(call.namespace) || effectiveUid() != 0 || !hasNoMetadata(call.root)) {
            return false;
        }
        // the same printing as the full command's with no rows
        Output output = new Output(out, call.json);
        if (!call.quiet || call.json) {
            output.table(ImagesCommand.Ls.COLUMNS).print();
        }
        out.flush();
        return true;
    }

    /** What an {@code images ls} command line names; null if {@code args} is not one this class answers. */
    record Call(Path root, String namespace, boolean json, boolean quiet) {
    }

    static Call parse(String[] args, Map<String, String> env) {
        String root = null;
        String namespace = null;
        boolean json = false;
        boolean quiet = false;
        boolean state = false;
        int words = 0; // 1 after "images", 2 after "ls"
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            String option = a;
            String value = null;
            int eq = a.indexOf('=');
            if (a.startsWith("--") && eq > 0) {
                option = a.substring(0, eq);
                value = a.substring(eq + 1);
            }
            switch (option) {
                case "--root", "--state", "-n", "--namespace" -> {
                    if (value == null) {
                        if (option.equals(a) && i + 1 < args.length) {
                            value = args[++i];
                        } else {
                            return null;
                        }
                    }
                    if (value.isEmpty()) {
                        return null;
                    }
                    if (option.equals("--root")) {
                        if (root != null) {
                            return null; // picocli refuses an option given twice
                        }
                        root = value;
                    } else if (option.equals("--state")) {
                        // not used by a listing; refused as picocli would when given twice
                        if (state) {
                            return null;
                        }
                        state = true;
                    } else {
                        if (namespace != null) {
                            return null;
                        }
                        namespace = value;
                    }
                }
                case "--json" -> {
                    if (json || value != null) {
                        return null;
                    }
                    json = true;
                }
                case "-q", "--quiet" -> {
                    if (words != 2 || quiet || value != null) {
                        return null;
                    }
                    quiet = true;
                }
                case "images", "image", "i" -> {
                    if (words != 0) {
                        return null;
                    }
                    words = 1;
                }
                case "ls", "list" -> {
                    if (words != 1) {
                        return null;
                    }
                    words = 2;
                }
                default -> {
                    return null; // filters, help, --state given twice, anything else: the full path
                }
            }
        }
        if (words != 2) {
            return null;
        }
        if (namespace == null) {
            String fromEnv = env.get("BERTH_NAMESPACE");
            namespace = fromEnv == null || fromEnv.isEmpty() ? "default" : fromEnv;
        }
        try {
            return new Call(Path.of(root == null ? DEFAULT_ROOT : root), namespace, json, quiet);
        } catch (InvalidPathException e) {
            return null;
        }
    }

    /** True only if the root has certainly no metadata database: it does not exist, or is a directory without one. */
    static boolean hasNoMetadata(Path root) {
        if (Files.notExists(root)) {
            return true;
        }
        return Files.isDirectory(root) && Files.notExists(root.resolve(METADATA_FILE));
    }

    /**
     * The effective uid ({@code /proc/self/status}); -1 if unreadable. A caller that is not root gets the
     * library's message on the full path (dev.berth.RootCheck), not an empty listing.
     */
    static long effectiveUid() {
        try {
            for (String line : Files.readAllLines(Path.of("/proc/self/status"), StandardCharsets.US_ASCII)) {
                if (line.startsWith("Uid:")) {
                    return Long.parseLong(line.substring(4).trim().split("\\s+")[1]);
                }
            }
        } catch (IOException | RuntimeException e) {
            return -1;
        }
        return -1;
    }
}

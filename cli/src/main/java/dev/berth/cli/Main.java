package dev.berth.cli;

import dev.berth.Berth;
import dev.berth.GcPolicy;
import dev.berth.Namespace;
import dev.berth.api.BerthException;
import dev.berth.cli.internal.CliSteps;
import dev.berth.sys.LibCryptoSha256;
import java.io.InputStream;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Set;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.ScopeType;
import picocli.CommandLine;

/**
 * {@code berth}: containerd's {@code ctr} for a Berth root, without a daemon. Subcommands and their
 * arguments follow ctr's shape and order.
 */
@Command(name = "berth", mixinStandardHelpOptions = true, versionProvider = Main.Version.class,
        description = "Run containers and manage images, content, snapshots and leases in a Berth root (no daemon).",
        footer = {"", "Exit codes:",
            "  0  success",
            "  1  the command failed; the reason is on stderr as \"berth: ...\"",
            "  2  invalid command line (unknown command or option, missing argument)",
            "  run and tasks exec (not detached) exit with the container process's exit code."})
public final class Main implements AutoCloseable {
    /**
     * The top-level commands. A call builds picocli's model only of the one it names (building them all
     * loads and introspects some hundreds of classes a short command never uses); help, completion and a
     * word no command has get them all.
     */
    static final List<Class<?>> COMMANDS = List.of(
            ImagesCommand.class,
            ContentCommand.class,
            SnapshotsCommand.class,
            ContainersCommand.class,
            RunCommand.class,
            TasksCommand.class,
            EventsCommand.class,
            LeasesCommand.class,
            NamespacesCommand.class,
            NetworkCommand.class,
            CriCommand.class,
            GcCommand.class,
            CompletionCommand.class);
    private static final Set<String> OPTIONS_WITH_VALUES = Set.of("--root", "--state", "-n", "--namespace");

    @Option(names = "--root", scope = ScopeType.INHERIT, paramLabel = "DIR",
            description = "Berth root directory (default: ${DEFAULT-VALUE})")
    Path root = Berth.DEFAULT_ROOT;

    @Option(names = "--state", scope = ScopeType.INHERIT, paramLabel = "DIR",
            description = "State directory for task bundles and sockets (default: ${DEFAULT-VALUE})")
    Path state = Berth.DEFAULT_STATE;

    @Option(names = {"-n", "--namespace"}, scope = ScopeType.INHERIT, paramLabel = "NS",
            defaultValue = "${env:BERTH_NAMESPACE:-default}",
            description = "Namespace (default: $BERTH_NAMESPACE or ${DEFAULT-VALUE})")
    String namespace;

    @Option(names = "--json", scope = ScopeType.INHERIT, description = "Print JSON instead of tables")
    boolean json;

    private Berth berth;
    /** The root being opened on another thread while picocli builds its model; null when not. */
    private EarlyOpen early;

    /** Opens the root on first use; commands that only parse arguments never touch it. */
    Berth berth() {
        if (berth == null) {
            CliSteps.mark("to-open");
            EarlyOpen e = early;
            early = null;
            berth = e == null ? null : e.take(root, state);
            if (berth == null) {
                berth = open(root, state);
            }
            CliSteps.mark("open");
        }
        return berth;
    }

    static Berth open(Path root, Path state) {
        // no background collection in a short-lived process: commands that delete collect themselves
        // snapshot databases are opened by the commands that use them (images ls never does);
        // -Dberth.cli.snapshottersOnFirstUse=false opens them at once, as a library user's Berth does
        return Berth.builder().root(root).stateDir(state).gcPolicy(GcPolicy.manual())
                .snapshottersOnFirstUse(!"false".equals(System.getProperty("berth.cli.snapshottersOnFirstUse")))
                .spareShim(false).build(); // one call per JVM: a spare would only be stopped again
    }

    /**
     * The root opened on a thread of its own from the command line as written, started before picocli
     * builds its model (each about a third of a short call, and a machine has a second core). Only a root
     * that exists already (a call with wrong arguments creates none). Used only if the parsed {@code --root}
     * and {@code --state} turn out the same, else closed; a failure to open surfaces where the command first
     * uses the root, as it would have there. {@code -Dberth.cli.openEarly=false} opens at first use only.
     */
    static final class EarlyOpen {
        private final Path root;
        private final Path state;
        private final java.util.concurrent.CompletableFuture<Berth> opened = new java.util.concurrent.CompletableFuture<>();

        private EarlyOpen(Path root, Path state) {
            this.root = root;
            this.state = state;
            Thread t = new Thread(() -> {
                try {
                    opened.complete(open(root, state));
                } catch (Throwable e) {
                    opened.completeExceptionally(e);
                }
            }, "berth-cli-open");
            t.setDaemon(true);
            t.start();
        }

        /**
         * Starts opening the root {@code args} name for {@code command}, unless the call will not use it
         * (help, version, completion, {@code cri}, which opens its own).
         */
        static EarlyOpen start(String[] args, Class<?> command) {
            if (command == null || command == CriCommand.class || command == CompletionCommand.class
                    || !Boolean.parseBoolean(System.getProperty(OPEN_EARLY_PROPERTY, "true"))) {
                return null;
            }
            Path root = Berth.DEFAULT_ROOT;
            Path state = Berth.DEFAULT_STATE;
            boolean afterCommand = false;
            for (int i = 0; i < args.length; i++) {
                String a = args[i];
                if (a.equals("-h") || a.equals("--help") || a.equals("-V") || a.equals("--version")) {
                    return null;
                }
                boolean names = a.equals("--root") || a.equals("--state");
                if (names || a.startsWith("--root=") || a.startsWith("--state=")) {
                    if (afterCommand) {
                        // after the command word it may belong to a container's command line (run IMAGE CMD
                        // --root x): only picocli knows, so the root opens at first use
                        return null;
                    }
                    if (names && i + 1 == args.length) {
                        return null;
                    }
                    String value = names ? args[++i] : a.substring(a.indexOf('=') + 1);
                    if (a.startsWith("--root")) {
                        root = Path.of(value);
                    } else {
                        state = Path.of(value);
                    }
                } else if (OPTIONS_WITH_VALUES.contains(a)) {
                    i++;
                } else if (!a.startsWith("-")) {
                    afterCommand = true;
                }
            }
            // a call whose arguments turn out wrong must not create a root: only one that exists opens early
            return java.nio.file.Files.isDirectory(root) ? new EarlyOpen(root, state) : null;
        }

        /** The opened root if it is {@code root} and {@code state}, else null (and it is closed). */
        Berth take(Path root, Path state) {
            if (this.root.equals(root) && this.state.equals(state)) {
                return join();
            }
            discard();
            return null;
        }

        private Berth join() {
            try {
                return opened.join();
            } catch (java.util.concurrent.CompletionException e) {
                Throwable cause = e.getCause();
                if (cause instanceof RuntimeException r) {
                    throw r;
                }
                if (cause instanceof Error err) {
                    throw err;
                }
                throw e;
            }
        }

        /** Closes the root if it was opened and never taken. */
        void discard() {
            try {
                join().close();
            } catch (RuntimeException e) {
                // the command never used the root: its failure to open is not this call's
            }
        }
    }

    static final String OPEN_EARLY_PROPERTY = "berth.cli.openEarly";
    /** picocli's own switch; {@code -Dpicocli.disable.closures=false} restores its Groovy look-up (A/B). */
    static final String PICOCLI_CLOSURES_PROPERTY = "picocli.disable.closures";

    Namespace ns() {
        return berth().namespace(namespace);
    }

    Output out(CommandLine.Model.CommandSpec spec) {
        return new Output(spec.commandLine().getOut(), json);
    }

    @Override
    public void close() {
        if (early != null) {
            early.discard();
            early = null;
        }
        if (berth != null) {
            CliSteps.mark("command");
            berth.close();
            berth = null;
            CliSteps.mark("close");
        }
    }

    /** {@code System.in} as the process started with it; set by {@link #main} only. */
    static volatile InputStream processStdin;

    public static void main(String[] args) {
        CliSteps.mark("main");
        PrintWriter stdout = new PrintWriter(System.out, true);
        if (EmptyRootListing.answer(args, System.getenv(), stdout)) {
            CliSteps.mark("empty-root-listing");
            System.exit(0);
        }
        processStdin = System.in;
        // picocli's default factory looks for Groovy's Closure class when it is first used: the miss searches
        // every jar of the class path (opening each), ~35 ms of a short call. Berth's commands have no closures.
        if (System.getProperty(PICOCLI_CLOSURES_PROPERTY) == null) {
            System.setProperty(PICOCLI_CLOSURES_PROPERTY, "true");
        }
        String sha256 = System.getProperty(SHA256_PROPERTY, "jdk");
        if (!sha256.equals("jdk")) {
            if (Boolean.parseBoolean(System.getProperty(SHA256_ASYNC_PROPERTY, "true"))) {
                // binding (jnr-ffi generates its stubs) costs a few hundred ms of CPU: on a thread of its own
                // while picocli builds its model and the root opens; awaited before the command runs
                var binding = new java.util.concurrent.CompletableFuture<Void>();
                sha256Binding = binding;
                Thread t = new Thread(() -> {
                    try {
                        useLibCrypto(sha256);
                        binding.complete(null);
                    } catch (Throwable e) {
                        binding.completeExceptionally(e);
                    }
                }, "berth-cli-sha256");
                t.setDaemon(true);
                t.start();
            } else {
                try {
                    useLibCrypto(sha256);
                } catch (BerthException e) {
                    System.err.println("berth: " + describe(e));
                    System.exit(1);
                }
            }
        }
        CliSteps.mark("sha256");
        int code = run(args, stdout, new PrintWriter(System.err, true));
        CliSteps.mark("run-returned");
        System.exit(code);
    }

    /**
     * Where SHA-256 comes from: {@code jdk} (the default), {@code libcrypto} (OpenSSL's, or fail naming the
     * library) or {@code auto} (OpenSSL's when it loads, else the JDK's). bin/berth asks for {@code auto} on
     * the long commands, which it runs with C1 only: C1 has no SHA-256 intrinsic, libcrypto uses the CPU's
     * SHA extensions from the first byte.
     */
    static final String SHA256_PROPERTY = "berth.cli.sha256";
    /**
     * {@code false}: libcrypto's SHA-256 is bound in {@link #main} before anything else, instead of on a
     * thread of its own that the command awaits.
     */
    static final String SHA256_ASYNC_PROPERTY = "berth.cli.sha256Async";
    /** {@link #main}'s libcrypto binding on its own thread; null when there is none. */
    private static volatile java.util.concurrent.CompletableFuture<Void> sha256Binding;

    /** The libcrypto {@code berth.cli.sha256} loads (default {@link LibCryptoSha256#DEFAULT_LIBRARY}). */
    static final String LIBCRYPTO_PROPERTY = "berth.cli.libcrypto";

    /** Puts libcrypto's SHA-256 first in this JVM as {@code mode} (see {@link #SHA256_PROPERTY}) says. */
    static void useLibCrypto(String mode) {
        if (!mode.equals("auto") && !mode.equals("libcrypto")) {
            throw new dev.berth.api.InvalidArgumentException("-D" + SHA256_PROPERTY + " is jdk, libcrypto or auto, not \""
                    + mode + "\"");
        }
        Path library = Path.of(System.getProperty(LIBCRYPTO_PROPERTY, LibCryptoSha256.DEFAULT_LIBRARY.toString()));
        try {
            LibCryptoSha256.load(library).install();
        } catch (dev.berth.api.FailedPreconditionException e) {
            if (mode.equals("libcrypto")) {
                throw e;
            }
            // auto: the JDK's SHA-256 then (same digests, slower under C1)
        }
    }

    /** Runs the command line and returns the exit code. */
    static int run(String[] args, PrintWriter out, PrintWriter err) {
        try (Main main = new Main()) {
            Class<?> named = named(commandWord(args));
            main.early = EarlyOpen.start(args, named);
            CommandLine cli = new CommandLine(main);
            for (Class<?> command : COMMANDS) {
                if (named == null || command == named) {
                    cli.addSubcommand(command);
                }
            }
            cli.addSubcommand(new CommandLine.HelpCommand());
            // as with ctr, options go before IMAGE: what follows belongs to the container's command
            var commands = cli.getSubcommands();
            if (commands.containsKey("run")) {
                commands.get("run").setStopAtPositional(true);
            }
            if (commands.containsKey("containers")) {
                commands.get("containers").getSubcommands().get("create").setStopAtPositional(true);
            }
            if (commands.containsKey("tasks")) {
                commands.get("tasks").getSubcommands().get("exec").setStopAtPositional(true);
            }
            cli.setOut(out);
            cli.setErr(err);
            CliSteps.mark("model");
            Throwable bindFailure = awaitSha256();
            if (bindFailure != null) {
                err.println("berth: " + describe(bindFailure));
                return 1;
            }
            CliSteps.mark("sha256-bound");
            cli.setExecutionExceptionHandler((e, commandLine, parseResult) -> {
                commandLine.getErr().println("berth: " + describe(e));
                commandLine.getErr().flush();
                return 1;
            });
            return cli.execute(args);
        } finally {
            out.flush();
            err.flush();
        }
    }

    /** Waits for {@link #main}'s libcrypto binding; its failure, or null. */
    private static Throwable awaitSha256() {
        var binding = sha256Binding;
        if (binding == null) {
            return null;
        }
        try {
            binding.join();
            return null;
        } catch (java.util.concurrent.CompletionException e) {
            return e.getCause();
        }
    }

    /** The first word of {@code args} that is not a global option or its value; null if none. */
    static String commandWord(String[] args) {
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            if (OPTIONS_WITH_VALUES.contains(a)) {
                i++;
            } else if (!a.startsWith("-")) {
                return a;
            }
        }
        return null;
    }

    /** The command named (or aliased) {@code word}; null for help, completion or a word no command has. */
    static Class<?> named(String word) {
        if (word == null || word.equals("completion")) {
            return null;
        }
        for (Class<?> command : COMMANDS) {
            Command c = command.getAnnotation(Command.class);
            if (c.name().equals(word) || Arrays.asList(c.aliases()).contains(word)) {
                return command;
            }
        }
        return null;
    }

    /**
     * One line naming the problem. Every failure of the library is a {@link BerthException} that already
     * carries its context; anything else is a bug and shows its type.
     */
    static String describe(Throwable e) {
        if (e instanceof BerthException) {
            String m = e.getMessage();
            return (m == null ? e.getClass().getSimpleName() : m).replace('\n', ' ');
        }
        return e.toString().replace('\n', ' ');
    }

    static final class Version implements CommandLine.IVersionProvider {
        @Override
        public String[] getVersion() {
            String v = Main.class.getPackage().getImplementationVersion();
            return new String[] {"berth " + (v == null ? "dev" : v)};
        }
    }
}

package dev.berth.testing.fuzz;

import dev.berth.api.BerthException;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.net.URL;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.stream.Stream;
import net.jqwik.api.Arbitraries;
import net.jqwik.api.Arbitrary;
import net.jqwik.api.Combinators;

/**
 * What the fuzz targets ({@code *FuzzTest}, jqwik properties) share: a checked-in seed corpus per target
 * ({@code src/test/resources/fuzz/<target>/}), inputs made by mutating it, and the verdict. The only
 * acceptable outcomes for an input are success or a {@link BerthException}, within {@link #BOUND}: any other
 * exception, an error (OutOfMemoryError ...) or a hang fails the property, which jqwik then shrinks.
 *
 * <p>The build runs each target a few hundred times ({@code jqwik.tries.default} in the module's
 * {@code junit-platform.properties}); {@code bench/fuzz} runs them much longer.
 */
public final class Fuzz {
    /** The longest one input may take. */
    public static final Duration BOUND = Duration.ofSeconds(Long.getLong("berth.fuzz.boundSeconds", 20));

    private static final byte[] INTERESTING = {0, 1, 0x7f, (byte) 0x80, (byte) 0xff, '0', '7', '9', ' ', '/', '.',
        '=', '\n', '"', '{', '}', '[', ']', ':', ','};
    private static ExecutorService runner = newRunner();

    /** A body run under the fuzzer. */
    @FunctionalInterface
    public interface Body {
        void run() throws Exception;
    }

    private Fuzz() {
    }

    /** The seed files of {@code target}, in name order. */
    public static List<byte[]> corpus(String target) {
        URL url = Fuzz.class.getClassLoader().getResource("fuzz/" + target);
        if (url == null) {
            throw new IllegalStateException("no seed corpus fuzz/" + target + " on the class path");
        }
        try (Stream<Path> files = Files.list(Path.of(url.toURI()))) {
            List<byte[]> seeds = new ArrayList<>();
            for (Path f : files.sorted().toList()) {
                seeds.add(Files.readAllBytes(f));
            }
            return seeds;
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        } catch (URISyntaxException e) {
            throw new IllegalStateException(e);
        }
    }

    /** {@link #corpus} as UTF-8 strings, one per line of every seed file. */
    public static List<String> corpusLines(String target) {
        List<String> lines = new ArrayList<>();
        for (byte[] seed : corpus(target)) {
            new String(seed, StandardCharsets.UTF_8).lines().forEach(lines::add);
        }
        return lines;
    }

    /** Seeds as they are, and with one to four random mutations; now and then random bytes. */
    public static Arbitrary<byte[]> mutated(List<byte[]> seeds) {
        Arbitrary<byte[]> seed = Arbitraries.of(seeds);
        Arbitrary<byte[]> mutants = Combinators.combine(seed, Arbitraries.randoms(), Arbitraries.integers()
                .between(1, 4)).as((s, random, n) -> {
                    byte[] b = s.clone();
                    for (int i = 0; i < n; i++) {
                        b = mutate(b, seeds.get(random.nextInt(seeds.size())), random);
                    }
                    return b;
                });
        Arbitrary<byte[]> random = Arbitraries.bytes().array(byte[].class).ofMaxSize(4096);
        return Arbitraries.integers().between(0, 17).flatMap(i -> i == 0 ? seed : i == 17 ? random : mutants);
    }

    /** As {@link #mutated(List)} for text inputs. */
    public static Arbitrary<String> mutatedStrings(List<String> seeds) {
        List<byte[]> bytes = seeds.stream().map(s -> s.getBytes(StandardCharsets.UTF_8)).toList();
        Arbitrary<String> mutants = mutated(bytes).map(b -> new String(b, StandardCharsets.UTF_8));
        Arbitrary<String> random = Arbitraries.strings().ofMaxLength(200);
        return Arbitraries.integers().between(0, 8).flatMap(i -> i == 8 ? random : mutants);
    }

    static byte[] mutate(byte[] b, byte[] other, java.util.Random r) {
        int len = b.length;
        switch (r.nextInt(8)) {
            case 0 -> { // flip a bit
                if (len > 0) {
                    b[r.nextInt(len)] ^= (byte) (1 << r.nextInt(8));
                }
                return b;
            }
            case 1 -> { // an interesting byte
                if (len > 0) {
                    b[r.nextInt(len)] = INTERESTING[r.nextInt(INTERESTING.length)];
                }
                return b;
            }
            case 2 -> { // truncate
                return Arrays.copyOf(b, len == 0 ? 0 : r.nextInt(len));
            }
            case 3 -> { // delete a range
                if (len < 2) {
                    return b;
                }
                int from = r.nextInt(len);
                int to = Math.min(len, from + 1 + r.nextInt(Math.min(512, len - from)));
                byte[] out = new byte[len - (to - from)];
                System.arraycopy(b, 0, out, 0, from);
                System.arraycopy(b, to, out, from, len - to);
                return out;
            }
            case 4 -> { // insert random bytes
                int at = len == 0 ? 0 : r.nextInt(len + 1);
                byte[] ins = new byte[1 + r.nextInt(16)];
                r.nextBytes(ins);
                return splice(b, at, at, ins);
            }
            case 5 -> { // duplicate a chunk
                if (len == 0) {
                    return b;
                }
                int from = r.nextInt(len);
                int n = 1 + r.nextInt(Math.min(1024, len - from));
                int at = r.nextInt(len + 1);
                return splice(b, at, at, Arrays.copyOfRange(b, from, from + n));
            }
            case 6 -> { // a decimal number, maybe huge, where digits were
                for (int i = 0; i < len; i++) {
                    int at = r.nextInt(len);
                    if (b[at] >= '0' && b[at] <= '9') {
                        int end = at;
                        while (end < len && b[end] >= '0' && b[end] <= '9') {
                            end++;
                        }
                        String[] numbers = {"0", "-1", "2147483648", "4294967296", "9223372036854775807",
                            "99999999999999999999", Long.toString(r.nextLong() & Long.MAX_VALUE)};
                        return splice(b, at, end, numbers[r.nextInt(numbers.length)].getBytes(StandardCharsets.US_ASCII));
                    }
                }
                return b;
            }
            default -> { // splice with another seed
                if (other.length == 0 || len == 0) {
                    return b;
                }
                int at = r.nextInt(len);
                int from = r.nextInt(other.length);
                int n = Math.min(other.length - from, 1 + r.nextInt(1024));
                return splice(b, at, Math.min(len, at + n), Arrays.copyOfRange(other, from, from + n));
            }
        }
    }

    private static byte[] splice(byte[] b, int from, int to, byte[] with) {
        byte[] out = new byte[b.length - (to - from) + with.length];
        System.arraycopy(b, 0, out, 0, from);
        System.arraycopy(with, 0, out, from, with.length);
        System.arraycopy(b, to, out, from + with.length, b.length - to);
        return out;
    }

    /**
     * Runs {@code body} on {@code input} and fails unless it succeeds or throws a {@link BerthException}
     * within {@link #BOUND}.
     */
    public static void check(String target, byte[] input, Body body) {
        Future<?> f = runner.submit(() -> {
            body.run();
            return null;
        });
        try {
            f.get(BOUND.toMillis(), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            f.cancel(true);
            runner.shutdownNow();
            runner = newRunner(); // the stuck thread is left to itself
            throw new AssertionError(target + ": no result within " + BOUND + " for " + describe(input));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new AssertionError(target + ": interrupted", e);
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof BerthException) {
                return;
            }
            throw new AssertionError(target + ": " + cause + " (not a BerthException) for " + describe(input), cause);
        }
    }

    private static String describe(byte[] input) {
        String hex = HexFormat.of().formatHex(input, 0, Math.min(input.length, 256));
        return input.length + " bytes: " + hex + (input.length > 256 ? "..." : "");
    }

    private static ExecutorService newRunner() {
        return Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "fuzz-target");
            t.setDaemon(true);
            return t;
        });
    }
}

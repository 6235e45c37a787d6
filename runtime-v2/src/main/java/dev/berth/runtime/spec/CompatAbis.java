package dev.berth.runtime.spec;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.zip.GZIPInputStream;

/**
 * Which compat syscall ABIs of x86_64 the running kernel was built with. A seccomp filter pays for every
 * architecture it lists (runc compiles the filter at every create and exec: about 4 ms per architecture
 * here), and one the kernel cannot run is dead weight: its syscalls fail with or without the filter.
 *
 * @param x32 {@code CONFIG_X86_X32_ABI} (called {@code CONFIG_X86_X32} before Linux 5.18)
 * @param ia32 {@code CONFIG_IA32_EMULATION}: 32-bit x86 programs (kept where a boot parameter turns it off:
 *     the filter stays correct, only not minimal)
 */
record CompatAbis(boolean x32, boolean ia32) {

    /** What a kernel whose configuration cannot be read is assumed to run: everything, as the filter stays safe. */
    static final CompatAbis ALL = new CompatAbis(true, true);

    private static final class RunningKernel {
        static final CompatAbis ABIS = read(Path.of("/proc/config.gz"),
                Path.of("/boot/config-" + System.getProperty("os.version")));
    }

    static CompatAbis ofRunningKernel() {
        return RunningKernel.ABIS;
    }

    /** The ABIs named by the first readable kernel configuration (gzip or plain), else {@link #ALL}. */
    static CompatAbis read(Path... configs) {
        for (Path config : configs) {
            if (!Files.isReadable(config)) {
                continue;
            }
            try (InputStream file = Files.newInputStream(config);
                 InputStream in = config.toString().endsWith(".gz") ? new GZIPInputStream(file) : file;
                 BufferedReader lines = new BufferedReader(new InputStreamReader(in, StandardCharsets.US_ASCII))) {
                return fromConfig(lines);
            } catch (IOException unreadable) {
                // try the next one
            }
        }
        return ALL;
    }

    /** An ABI counts as absent only where the configuration says so ("# ... is not set"), never by omission. */
    static CompatAbis fromConfig(BufferedReader config) throws IOException {
        boolean x32Built = false;
        boolean x32Off = false;
        boolean ia32Off = false;
        for (String line = config.readLine(); line != null; line = config.readLine()) {
            switch (line) {
                case "CONFIG_X86_X32_ABI=y", "CONFIG_X86_X32=y" -> x32Built = true;
                case "# CONFIG_X86_X32_ABI is not set", "# CONFIG_X86_X32 is not set" -> x32Off = true;
                case "# CONFIG_IA32_EMULATION is not set" -> ia32Off = true;
                default -> {
                }
            }
        }
        return new CompatAbis(x32Built || !x32Off, !ia32Off);
    }
}

package dev.berth.runtime.spec;

import dev.berth.api.oci.image.ImageConfig;
import java.util.List;
import java.util.Objects;

/**
 * The parts of an image's config ({@code config} in the OCI image config JSON) that shape the container's
 * process: {@code Entrypoint}, {@code Cmd}, {@code Env}, {@code WorkingDir} and {@code User}. Absent values
 * are empty lists and empty strings.
 */
public record ImageDefaults(List<String> entrypoint, List<String> cmd, List<String> env, String workingDir,
                            String user) {
    public ImageDefaults {
        entrypoint = entrypoint == null ? List.of() : List.copyOf(entrypoint);
        cmd = cmd == null ? List.of() : List.copyOf(cmd);
        env = env == null ? List.of() : List.copyOf(env);
        workingDir = workingDir == null ? "" : workingDir;
        user = user == null ? "" : user;
    }

    /** The process settings of a parsed image config. */
    public static ImageDefaults from(ImageConfig imageConfig) {
        ImageConfig.Config c = Objects.requireNonNull(imageConfig, "imageConfig").config();
        return new ImageDefaults(c.entrypoint(), c.cmd(), c.env(), c.workingDir(), c.user());
    }

    /** An image with only an entrypoint and a command, e.g. for tests. */
    public static ImageDefaults of(List<String> entrypoint, List<String> cmd) {
        return new ImageDefaults(entrypoint, cmd, List.of(), "", "");
    }
}

package dev.berth.junit;

import dev.berth.api.image.ImageReference;
import dev.berth.image.ImageBuilder;
import java.nio.file.Path;
import java.util.Objects;
import java.util.function.Consumer;

/**
 * Where a container's image comes from: an archive on disk (OCI layout or {@code docker save} tar, e.g.
 * written by the berth-testing kit's {@code OciLayout}), a registry reference with a {@link PullPolicy}, or
 * an image built in Java with Berth's {@link ImageBuilder}. Each is imported, pulled or built at most once
 * per JVM, and reused across JVMs when the root already holds it (archives and built images by name).
 */
public sealed interface ImageSource {

    /** A name for messages and reuse keys. */
    String describe();

    /** The image of archive {@code file}; its first image is used (or the one named {@code name} in it). */
    static ImageSource archive(Path file) {
        return new Archive(file.toAbsolutePath().normalize(), null);
    }

    /** Image {@code name} of archive {@code file}. */
    static ImageSource archive(Path file, String name) {
        return new Archive(file.toAbsolutePath().normalize(), ImageReference.normalize(name));
    }

    /** {@code reference} from its registry, pulled if missing. */
    static ImageSource registry(String reference) {
        return registry(reference, PullPolicy.IF_MISSING);
    }

    static ImageSource registry(String reference, PullPolicy policy) {
        return new Registry(ImageReference.normalize(reference), policy);
    }

    /**
     * An image built by {@code recipe} and named {@code name}, built once per JVM (a root that has it by that
     * name from an earlier JVM keeps it; change the name when the recipe changes).
     */
    static ImageSource built(String name, Consumer<ImageBuilder> recipe) {
        return new Built(ImageReference.normalize(name), recipe);
    }

    record Archive(Path file, String name) implements ImageSource {
        public Archive {
            Objects.requireNonNull(file, "file");
        }

        @Override
        public String describe() {
            return "archive " + file + (name == null ? "" : " (" + name + ")");
        }
    }

    record Registry(String reference, PullPolicy policy) implements ImageSource {
        public Registry {
            Objects.requireNonNull(reference, "reference");
            Objects.requireNonNull(policy, "policy");
        }

        @Override
        public String describe() {
            return reference;
        }
    }

    record Built(String name, Consumer<ImageBuilder> recipe) implements ImageSource {
        public Built {
            Objects.requireNonNull(name, "name");
            Objects.requireNonNull(recipe, "recipe");
        }

        @Override
        public String describe() {
            return "built image " + name;
        }
    }
}

package dev.berth.junit;

import dev.berth.api.InvalidArgumentException;
import dev.berth.api.IoFailureException;
import dev.berth.api.NotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Objects;

/** File content to copy into a container, with its permission bits. Immutable. */
public final class Transferable {
    private final byte[] content;
    private final int mode;

    private Transferable(byte[] content, int mode) {
        if ((mode & ~07777) != 0) {
            throw new InvalidArgumentException("file mode " + Integer.toOctalString(mode) + " is not a permission mode");
        }
        this.content = content;
        this.mode = mode;
    }

    /** {@code content} with mode 0644. */
    public static Transferable of(byte[] content) {
        return of(content, 0644);
    }

    public static Transferable of(byte[] content, int mode) {
        return new Transferable(Objects.requireNonNull(content, "content").clone(), mode);
    }

    /** {@code text} as UTF-8, mode 0644. */
    public static Transferable of(String text) {
        return of(text.getBytes(StandardCharsets.UTF_8), 0644);
    }

    /** A class path resource (as {@link ClassLoader#getResource}, no leading slash), mode 0644. */
    public static Transferable ofClasspathResource(String resource) {
        return ofClasspathResource(resource, 0644);
    }

    public static Transferable ofClasspathResource(String resource, int mode) {
        String name = resource.startsWith("/") ? resource.substring(1) : resource;
        ClassLoader loader = Thread.currentThread().getContextClassLoader();
        try (InputStream in = (loader != null ? loader : Transferable.class.getClassLoader()).getResourceAsStream(name)) {
            if (in == null) {
                throw new NotFoundException("class path resource " + resource + " does not exist");
            }
            return new Transferable(in.readAllBytes(), mode);
        } catch (IOException e) {
            throw new IoFailureException("cannot read class path resource " + resource + ": " + e.getMessage(), e);
        }
    }

    /** The host's regular file {@code file}, with its own permission bits. */
    public static Transferable ofHostPath(Path file) {
        try {
            if (!Files.isRegularFile(file)) {
                throw new InvalidArgumentException(file + " is not a regular file on the host");
            }
            int mode = (Integer) Files.getAttribute(file, "unix:mode") & 07777;
            return new Transferable(Files.readAllBytes(file), mode);
        } catch (IOException e) {
            throw new IoFailureException("cannot read " + file + ": " + e.getMessage(), e);
        }
    }

    /** A copy of the content. */
    public byte[] content() {
        return content.clone();
    }

    byte[] contentNoCopy() {
        return content;
    }

    public int mode() {
        return mode;
    }

    public int size() {
        return content.length;
    }
}

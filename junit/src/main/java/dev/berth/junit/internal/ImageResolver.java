package dev.berth.junit.internal;

import dev.berth.Namespace;
import dev.berth.api.NotFoundException;
import dev.berth.api.image.Image;
import dev.berth.junit.ContainerLaunchException;
import dev.berth.junit.ImageSource;
import dev.berth.junit.PullPolicy;
import java.nio.file.Files;
import java.nio.file.attribute.BasicFileAttributes;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/** Makes an {@link ImageSource} an image name in the namespace: imports, pulls or builds it once per JVM. */
public final class ImageResolver {
    private static final Map<Object, String> DONE = new ConcurrentHashMap<>();
    /** On an image imported from an archive: {@code <absolute path> <size> <mtime ms>} of that archive. */
    static final String ARCHIVE_LABEL = "berth.junit/archive";

    private ImageResolver() {
    }

    /** The image's name in {@code ns}, importing, pulling or building it first if needed. */
    public static String resolve(Namespace ns, ImageSource source) {
        if (source instanceof ImageSource.Archive a) {
            return archive(ns, a);
        }
        if (source instanceof ImageSource.Registry r) {
            return registry(ns, r);
        }
        ImageSource.Built b = (ImageSource.Built) source;
        return DONE.computeIfAbsent(List.of(ns.name(), b.name()), k -> built(ns, b));
    }

    private static String archive(Namespace ns, ImageSource.Archive a) {
        BasicFileAttributes attrs;
        try {
            attrs = Files.readAttributes(a.file(), BasicFileAttributes.class);
        } catch (java.io.IOException e) {
            throw new ContainerLaunchException("image archive " + a.file() + " cannot be read: " + e.getMessage(), e);
        }
        // keyed by size and mtime too: a test that rewrites the archive gets the new image
        Object key = List.of(ns.name(), a, attrs.size(), attrs.lastModifiedTime().toMillis());
        return DONE.computeIfAbsent(key, k -> {
            String stamp = stamp(a.file(), attrs);
            if (a.name() != null && importedBefore(ns, a.name(), stamp)) {
                return a.name();
            }
            List<Image> images = ns.importImage(a.file());
            if (images.isEmpty()) {
                throw new ContainerLaunchException("image archive " + a.file() + " holds no image");
            }
            if (a.name() == null) {
                return images.get(0).name();
            }
            Image named = images.stream().filter(i -> i.name().equals(a.name())).findFirst().orElseThrow(() ->
                    new ContainerLaunchException("image archive " + a.file() + " has no image " + a.name() + " (it has "
                            + images.stream().map(Image::name).toList() + ")"));
            ns.images().store().update(new Image(named.name(), named.target(), Map.of(ARCHIVE_LABEL, stamp), null, null),
                    "labels." + ARCHIVE_LABEL);
            return named.name();
        });
    }

    /**
     * Whether image {@code name} was imported from this very archive file (path, size and modification time
     * as its {@link #ARCHIVE_LABEL} records) by an earlier JVM: a fresh test JVM then skips reading, hashing
     * and recording the archive again (an import's work and the classes it loads). A container created from
     * it still unpacks a layer that went missing since.
     */
    static String stamp(java.nio.file.Path file, BasicFileAttributes attrs) {
        return file.toAbsolutePath() + " " + attrs.size() + " " + attrs.lastModifiedTime().toMillis();
    }

    static boolean importedBefore(Namespace ns, String name, String stamp) {
        try {
            return stamp.equals(ns.images().get(name).labels().get(ARCHIVE_LABEL));
        } catch (NotFoundException e) {
            return false;
        }
    }

    private static String registry(Namespace ns, ImageSource.Registry r) {
        Object key = List.of(ns.name(), r.reference());
        String done = DONE.get(key);
        if (done != null) {
            return done;
        }
        boolean present = exists(ns, r.reference());
        if (r.policy() == PullPolicy.NEVER && !present) {
            throw new ContainerLaunchException("image " + r.reference() + " is not in namespace " + ns.name()
                    + " and the pull policy is NEVER, so no pull was attempted; import or pull it first");
        }
        if (!present || r.policy() == PullPolicy.ALWAYS) {
            try {
                ns.pull(r.reference(), null);
            } catch (RuntimeException e) {
                throw new ContainerLaunchException("image " + r.reference() + " is " + (present ? "" : "not ")
                        + "in namespace " + ns.name() + "; a pull from its registry was attempted and failed: "
                        + e.getMessage(), e);
            }
        }
        DONE.put(key, r.reference());
        return r.reference();
    }

    private static String built(Namespace ns, ImageSource.Built b) {
        if (!exists(ns, b.name())) {
            ns.images().build(b.name(), b.recipe());
        }
        return b.name();
    }

    private static boolean exists(Namespace ns, String name) {
        try {
            ns.images().get(name);
            return true;
        } catch (NotFoundException e) {
            return false;
        }
    }
}

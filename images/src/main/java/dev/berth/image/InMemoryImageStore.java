package dev.berth.image;

import dev.berth.api.AlreadyExistsException;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.Labels;
import dev.berth.api.NotFoundException;
import dev.berth.api.filter.FieldPaths;
import dev.berth.api.filter.Filter;
import dev.berth.api.image.Image;
import dev.berth.api.image.ImageStore;
import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.TreeMap;

/**
 * An {@link ImageStore} kept in memory: for tests, and for embedding the image functions without Berth's
 * metadata database (the {@code core} module's SQLite store is the persistent one). Nothing is written
 * to disk and nothing protects the blobs from garbage collection. Thread-safe (all methods are
 * synchronized); {@link #list} returns images sorted by name.
 */
public final class InMemoryImageStore implements ImageStore {
    private final Map<String, Image> images = new TreeMap<>();
    private final Clock clock;

    public InMemoryImageStore() {
        this(Clock.systemUTC());
    }

    /** A store that takes created/updated times from {@code clock}. */
    public InMemoryImageStore(Clock clock) {
        this.clock = Objects.requireNonNull(clock, "clock");
    }

    @Override
    public synchronized Image get(String name) {
        Objects.requireNonNull(name, "name");
        Image image = images.get(name);
        if (image == null) {
            throw new NotFoundException("image \"" + name + "\": not found");
        }
        return image;
    }

    @Override
    public synchronized List<Image> list(String... filters) {
        Filter filter = Filter.parse(filters);
        List<Image> out = new ArrayList<>();
        for (Image image : images.values()) {
            if (filter.matches(FieldPaths.builder()
                    .field("name", image.name())
                    .field("target.digest", image.target().digest().toString())
                    .field("target.mediatype", image.target().mediaType())
                    .map("labels", image.labels())
                    .build())) {
                out.add(image);
            }
        }
        return out;
    }

    @Override
    public synchronized Image create(Image image) {
        Objects.requireNonNull(image, "image");
        validate(image);
        if (images.containsKey(image.name())) {
            throw new AlreadyExistsException("image \"" + image.name() + "\": already exists");
        }
        Instant now = clock.instant();
        Image stored = new Image(image.name(), image.target(), image.labels(), now, now);
        images.put(image.name(), stored);
        return stored;
    }

    @Override
    public synchronized Image update(Image image, String... fieldPaths) {
        Objects.requireNonNull(image, "image");
        validate(image);
        Image current = get(image.name());
        var target = current.target();
        Map<String, String> labels = new HashMap<>(current.labels());
        if (fieldPaths == null || fieldPaths.length == 0) {
            target = image.target();
            labels = new HashMap<>(image.labels());
        } else {
            for (String path : fieldPaths) {
                if (path.equals("target")) {
                    target = image.target();
                } else if (path.equals("labels")) {
                    labels = new HashMap<>(image.labels());
                } else if (path.startsWith("labels.")) {
                    String key = path.substring("labels.".length());
                    String value = image.labels().get(key);
                    if (value == null) {
                        labels.remove(key);
                    } else {
                        labels.put(key, value);
                    }
                } else {
                    throw new InvalidArgumentException("image \"" + image.name() + "\": cannot update field \""
                            + path + "\" (target, labels, labels.<key>)");
                }
            }
        }
        Image stored = new Image(image.name(), target, labels, current.createdAt(), clock.instant());
        images.put(image.name(), stored);
        return stored;
    }

    @Override
    public synchronized void delete(String name) {
        Objects.requireNonNull(name, "name");
        if (images.remove(name) == null) {
            throw new NotFoundException("image \"" + name + "\": not found");
        }
    }

    private static void validate(Image image) {
        if (image.name().isEmpty()) {
            throw new InvalidArgumentException("image name must not be empty");
        }
        Labels.validate(image.labels());
    }
}

package dev.berth.metadata.internal;

import dev.berth.api.AlreadyExistsException;
import dev.berth.api.Descriptor;
import dev.berth.api.InvalidArgumentException;
import dev.berth.api.Labels;
import dev.berth.api.NotFoundException;
import dev.berth.api.event.ImageEvent;
import dev.berth.api.filter.FieldPaths;
import dev.berth.api.filter.Filter;
import dev.berth.api.image.Image;
import dev.berth.api.image.ImageStore;
import dev.berth.sys.sqlite.SqliteDb;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.TreeMap;

/**
 * Image records of one namespace. An image keeps its target (and, through GC labels, everything the
 * target references) alive. Filters: {@code name}, {@code target.digest}, {@code target.mediatype},
 * {@code labels.<key>}.
 */
public final class MetaImageStore implements ImageStore {
    private final NamespacedMetadata ns;

    MetaImageStore(NamespacedMetadata ns) {
        this.ns = ns;
    }

    private static Image row(ResultSet rs) throws SQLException {
        Descriptor target = Codec.target(rs.getString("media_type"), rs.getString("digest"), rs.getLong("size"),
                rs.getString("target_extra"));
        return new Image(rs.getString("name"), target, Codec.labels(rs.getString("labels")),
                Codec.instant(rs.getLong("created_ns")), Codec.instant(rs.getLong("updated_ns")));
    }

    private Image get(SqliteDb.Tx tx, String name) throws SQLException {
        return tx.one("SELECT * FROM images WHERE ns = ? AND name = ?", MetaImageStore::row, ns.name(), name)
                .orElseThrow(() -> new NotFoundException("image \"" + name + "\": not found in namespace "
                        + ns.name()));
    }

    @Override
    public Image get(String name) {
        Objects.requireNonNull(name, "name");
        return ns.db().read(tx -> get(tx, name));
    }

    @Override
    public List<Image> list(String... filters) {
        Filter filter = Filter.parse(filters);
        List<Image> all = ns.db().read(tx -> tx.query("SELECT * FROM images WHERE ns = ? ORDER BY name",
                MetaImageStore::row, ns.name()));
        List<Image> out = new ArrayList<>();
        for (Image i : all) {
            if (filter.matches(fields(i))) {
                out.add(i);
            }
        }
        return out;
    }

    static Filter.FieldPathAdaptor fields(Image i) {
        return FieldPaths.builder()
                .field("name", i.name())
                .field("target.digest", i.target().digest().toString())
                .field("target.mediatype", i.target().mediaType())
                .map("labels", i.labels())
                .build();
    }

    private static void validate(Image image) {
        Objects.requireNonNull(image, "image");
        if (image.name().isEmpty()) {
            throw new InvalidArgumentException("image name must not be empty");
        }
        if (image.target().mediaType().isEmpty()) {
            throw new InvalidArgumentException("image " + image.name() + ": target media type must not be empty");
        }
        Labels.validate(image.labels());
    }

    @Override
    public Image create(Image image) {
        validate(image);
        Image created = ns.db().write(tx -> {
            ns.metadata().ensureNamespace(tx, ns.name());
            if (tx.exists("SELECT 1 FROM images WHERE ns = ? AND name = ?", ns.name(), image.name())) {
                throw new AlreadyExistsException("image \"" + image.name() + "\": already exists in namespace "
                        + ns.name());
            }
            long now = Codec.nanos(Instant.now());
            Descriptor t = image.target();
            tx.update("INSERT INTO images(ns, name, media_type, digest, size, target_extra, labels, created_ns,"
                            + " updated_ns) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    ns.name(), image.name(), t.mediaType(), t.digest().toString(), t.size(), Codec.targetExtra(t),
                    Codec.labels(image.labels()), now, now);
            return get(tx, image.name());
        });
        ns.metadata().publish(ns.name(), new ImageEvent.Create(created.name(), created.labels()));
        ns.metadata().noteMutation();
        return created;
    }

    /**
     * Field paths: {@code target}, {@code labels}, {@code labels.<key>}, {@code annotations} (the
     * target's); none = target and labels.
     */
    @Override
    public Image update(Image image, String... fieldPaths) {
        validate(image);
        Image updated = ns.db().write(tx -> {
            Image current = get(tx, image.name());
            Descriptor target = current.target();
            TreeMap<String, String> labels = new TreeMap<>(current.labels());
            if (fieldPaths == null || fieldPaths.length == 0) {
                target = image.target();
                labels = new TreeMap<>(image.labels());
            } else {
                for (String p : fieldPaths) {
                    if (p.equals("target")) {
                        target = image.target();
                    } else if (p.equals("annotations")) {
                        target = target.withAnnotations(image.target().annotations());
                    } else if (LabelPaths.isLabelPath(p)) {
                        LabelPaths.apply(labels, image.labels(), p);
                    } else {
                        throw new InvalidArgumentException("cannot update field \"" + p + "\" of image "
                                + image.name() + ": use target, annotations, labels or labels.<key>");
                    }
                }
            }
            Labels.validate(labels);
            tx.update("UPDATE images SET media_type = ?, digest = ?, size = ?, target_extra = ?, labels = ?,"
                            + " updated_ns = ? WHERE ns = ? AND name = ?",
                    target.mediaType(), target.digest().toString(), target.size(), Codec.targetExtra(target),
                    Codec.labels(labels), Codec.nanos(Instant.now()), ns.name(), image.name());
            return get(tx, image.name());
        });
        ns.metadata().publish(ns.name(), new ImageEvent.Update(updated.name(), updated.labels()));
        ns.metadata().noteDeletion();
        return updated;
    }

    @Override
    public void delete(String name) {
        delete(name, false);
    }

    /**
     * Deletes an image record; with {@code synchronous} a garbage collection runs before returning, so
     * blobs only this image referenced are gone from disk when it does.
     */
    public void delete(String name, boolean synchronous) {
        Objects.requireNonNull(name, "name");
        ns.db().write(tx -> {
            if (tx.update("DELETE FROM images WHERE ns = ? AND name = ?", ns.name(), name) == 0) {
                throw new NotFoundException("image \"" + name + "\": not found in namespace " + ns.name());
            }
            return null;
        });
        ns.metadata().publish(ns.name(), new ImageEvent.Delete(name));
        if (synchronous) {
            ns.metadata().gc();
        } else {
            ns.metadata().noteDeletion();
        }
    }
}

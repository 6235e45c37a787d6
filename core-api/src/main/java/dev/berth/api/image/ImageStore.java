package dev.berth.api.image;

import java.util.List;

/**
 * Names of images: containerd's {@code images.Store}. Records only; the blobs live in the content store
 * and are kept alive by these records through GC. Filters use {@code name}, {@code target.digest},
 * {@code target.mediatype} and {@code labels.<key>}. Thread-safe.
 */
public interface ImageStore {

    /** @throws dev.berth.api.NotFoundException if no image has that name */
    Image get(String name);

    List<Image> list(String... filters);

    /** @throws dev.berth.api.AlreadyExistsException if the name is taken */
    Image create(Image image);

    /**
     * Updates an image. Field paths: {@code target}, {@code labels}, {@code labels.<key>}; none = all.
     *
     * @throws dev.berth.api.NotFoundException if absent
     */
    Image update(Image image, String... fieldPaths);

    /** @throws dev.berth.api.NotFoundException if absent */
    void delete(String name);
}

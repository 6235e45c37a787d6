package dev.berth;

import java.util.List;
import java.util.Map;

/**
 * containerd's {@code namespaces.Store}: every image, container, lease, blob record and snapshot belongs
 * to one namespace. A namespace comes into existence explicitly with {@link #create} or implicitly when
 * something is first created in it. Names are identifiers ({@link dev.berth.api.Identifiers}).
 * Thread-safe; changes are visible to every process sharing the root.
 */
public interface Namespaces {

    /**
     * @throws dev.berth.api.AlreadyExistsException if it exists
     * @throws dev.berth.api.InvalidArgumentException for a bad name or label
     */
    NamespaceInfo create(String name, Map<String, String> labels);

    /** @throws dev.berth.api.NotFoundException if absent */
    NamespaceInfo get(String name);

    /** All namespaces, by name. */
    List<NamespaceInfo> list();

    /**
     * Sets one label; an empty {@code value} removes it.
     *
     * @throws dev.berth.api.NotFoundException if the namespace does not exist
     */
    NamespaceInfo setLabel(String name, String key, String value);

    /**
     * Deletes an empty namespace.
     *
     * @throws dev.berth.api.NotFoundException if absent
     * @throws dev.berth.api.FailedPreconditionException if it still holds anything, naming what
     */
    void delete(String name);
}

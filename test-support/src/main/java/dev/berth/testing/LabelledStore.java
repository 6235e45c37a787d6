package dev.berth.testing;

import dev.berth.api.Descriptor;
import dev.berth.api.Digest;
import dev.berth.api.content.ContentStore;
import dev.berth.api.content.Info;
import dev.berth.api.content.ReaderAt;
import dev.berth.api.content.Status;
import dev.berth.api.content.Writer;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * A real content store plus labels kept in memory, standing in for the metadata layer (core module,
 * labels in SQLite) so modules below it can test the labels they write (unpack's
 * {@code containerd.io/uncompressed}, pull's GC and distribution-source labels).
 */
public final class LabelledStore implements ContentStore {
    private final ContentStore delegate;
    private final Map<Digest, Map<String, String>> labels = new ConcurrentHashMap<>();
    private final Map<Digest, Integer> reads = new ConcurrentHashMap<>();

    /** How often a reader was opened on {@code digest} through this store. */
    public int readsOf(Digest digest) {
        return reads.getOrDefault(digest, 0);
    }

    public LabelledStore(ContentStore delegate) {
        this.delegate = delegate;
    }

    /** The labels set on {@code digest} so far. */
    public Map<String, String> labels(Digest digest) {
        return Map.copyOf(labels.getOrDefault(digest, Map.of()));
    }

    @Override
    public Info info(Digest digest) {
        return delegate.info(digest).withLabels(labels.getOrDefault(digest, Map.of()));
    }

    @Override
    public synchronized Info update(Info info, String... fieldPaths) {
        Info current = info(info.digest());
        Map<String, String> next = new HashMap<>(current.labels());
        if (fieldPaths.length == 0) {
            next = new HashMap<>(info.labels());
        }
        for (String path : fieldPaths) {
            if (path.equals("labels")) {
                next = new HashMap<>(info.labels());
            } else if (path.startsWith("labels.")) {
                String key = path.substring(7);
                String value = info.labels().get(key);
                if (value == null) {
                    next.remove(key);
                } else {
                    next.put(key, value);
                }
            }
        }
        labels.put(info.digest(), next);
        return info(info.digest());
    }

    @Override
    public void walk(Consumer<Info> fn, String... filters) {
        delegate.walk(i -> fn.accept(i.withLabels(labels.getOrDefault(i.digest(), Map.of()))), filters);
    }

    @Override
    public List<Info> list(String... filters) {
        return delegate.list(filters);
    }

    @Override
    public void delete(Digest digest) {
        delegate.delete(digest);
        labels.remove(digest);
    }

    @Override
    public ReaderAt readerAt(Descriptor desc) {
        reads.merge(desc.digest(), 1, Integer::sum);
        return delegate.readerAt(desc);
    }

    @Override
    public Writer writer(String ref, Descriptor expected) {
        return delegate.writer(ref, expected);
    }

    @Override
    public Status status(String ref) {
        return delegate.status(ref);
    }

    @Override
    public List<Status> listStatuses(String... filters) {
        return delegate.listStatuses(filters);
    }

    @Override
    public void abort(String ref) {
        delegate.abort(ref);
    }

    @Override
    public Info verify(Digest digest) {
        return delegate.verify(digest);
    }

    @Override
    public void close() {
        delegate.close();
    }
}

package dev.berth.image;

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
 * A content store that keeps labels in memory over a real local store, standing in for the metadata
 * layer (core module) so tests can see the labels images write.
 */
final class LabellingStore implements ContentStore {
    private final ContentStore delegate;
    private final Map<Digest, Map<String, String>> labels = new ConcurrentHashMap<>();

    LabellingStore(ContentStore delegate) {
        this.delegate = delegate;
    }

    Map<String, String> labels(Digest digest) {
        return labels.getOrDefault(digest, Map.of());
    }

    @Override
    public Info info(Digest digest) {
        return delegate.info(digest).withLabels(labels(digest));
    }

    @Override
    public synchronized Info update(Info info, String... fieldPaths) {
        Map<String, String> current = new HashMap<>(labels(info.digest()));
        delegate.info(info.digest());
        if (fieldPaths.length == 0) {
            current = new HashMap<>(info.labels());
        }
        for (String p : fieldPaths) {
            String key = p.substring("labels.".length());
            String value = info.labels().get(key);
            if (value == null) {
                current.remove(key);
            } else {
                current.put(key, value);
            }
        }
        labels.put(info.digest(), Map.copyOf(current));
        return info(info.digest());
    }

    @Override
    public void walk(Consumer<Info> fn, String... filters) {
        delegate.walk(i -> fn.accept(i.withLabels(labels(i.digest()))), filters);
    }

    @Override
    public void delete(Digest digest) {
        delegate.delete(digest);
        labels.remove(digest);
    }

    @Override
    public ReaderAt readerAt(Descriptor desc) {
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

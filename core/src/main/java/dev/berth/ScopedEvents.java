package dev.berth;

import dev.berth.api.InvalidArgumentException;
import dev.berth.api.event.Envelope;
import dev.berth.api.event.Event;
import dev.berth.api.event.Events;
import dev.berth.api.event.Subscription;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.function.Consumer;

/**
 * The exchange as one namespace sees it: subscriptions only receive that namespace's events, and
 * {@link #publish(String, Event)} insists on it. With a null namespace, every namespace. {@link #close()}
 * closes only the subscriptions made through this view.
 */
final class ScopedEvents implements Events {
    private final Events exchange;
    private final String namespace;
    private final Set<Subscription> mine = ConcurrentHashMap.newKeySet();

    ScopedEvents(Events exchange, String namespace) {
        this.exchange = exchange;
        this.namespace = namespace;
    }

    @Override
    public void publish(String ns, String topic, Event event) {
        checkNamespace(ns);
        exchange.publish(ns, topic, event);
    }

    @Override
    public void forward(Envelope envelope) {
        checkNamespace(envelope.namespace());
        exchange.forward(envelope);
    }

    private void checkNamespace(String ns) {
        if (namespace != null && !namespace.equals(ns)) {
            throw new InvalidArgumentException("events of namespace " + namespace + " cannot be published to "
                    + "namespace " + ns);
        }
    }

    @Override
    public Subscription subscribe(Consumer<Envelope> handler, String... filters) {
        return track(exchange.subscribe(handler, scoped(filters)));
    }

    @Override
    public Subscription subscribe(Executor executor, Consumer<Envelope> handler, String... filters) {
        return track(exchange.subscribe(executor, handler, scoped(filters)));
    }

    private Subscription track(Subscription s) {
        mine.add(s);
        return s;
    }

    /** Each filter string is an AND of selectors and the strings are ORed: AND the namespace into each. */
    private String[] scoped(String... filters) {
        if (namespace == null) {
            return filters == null ? new String[0] : filters;
        }
        String selector = "namespace==\"" + namespace + "\"";
        List<String> out = new ArrayList<>();
        if (filters == null || filters.length == 0) {
            out.add(selector);
        } else {
            for (String f : filters) {
                out.add(f == null || f.isBlank() ? selector : selector + "," + f);
            }
        }
        return out.toArray(String[]::new);
    }

    @Override
    public void close() {
        for (Subscription s : mine) {
            s.close();
        }
        mine.clear();
    }
}
